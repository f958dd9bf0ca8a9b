/**
 * The README's input and output tables, made from action.yml so the two cannot drift:
 * `npx tsx scripts/readme-tables.ts` prints them, `--write` puts them into README.md between
 * their markers; __tests__/readme.test.ts compares.
 */
import * as fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

interface ActionYaml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
}

function cell(text: string): string {
  return text.trim().replace(/\s+/g, ' ').replace(/\|/g, '\\|')
}

export function readmeTables(actionYml: string): { inputs: string; outputs: string } {
  const action = parse(actionYml) as ActionYaml
  const inputs = [
    '| input | description | default |',
    '| --- | --- | --- |',
    ...Object.entries(action.inputs).map(
      ([name, spec]) =>
        `| \`${name}\` | ${cell(spec.description)} | ${spec.default ? `\`${spec.default}\`` : ''} |`
    )
  ].join('\n')
  const outputs = [
    '| output | description |',
    '| --- | --- |',
    ...Object.entries(action.outputs).map(
      ([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`
    )
  ].join('\n')
  return { inputs, outputs }
}

/** Replaces what lies between a table's prettier-ignore markers inside its own markers. */
function replaceTable(readme: string, name: string, table: string): string {
  const block = new RegExp(
    `(<!-- ${name}:start[^>]*-->\\n<!-- prettier-ignore-start -->\\n)[\\s\\S]*?(\\n<!-- prettier-ignore-end -->\\n<!-- ${name}:end -->)`
  )
  if (!block.test(readme)) throw new Error(`README.md has no ${name} markers`)
  return readme.replace(block, (_, start: string, end: string) => start + table + end)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tables = readmeTables(fs.readFileSync('action.yml', 'utf8'))
  if (process.argv.includes('--write')) {
    let readme = fs.readFileSync('README.md', 'utf8')
    readme = replaceTable(readme, 'inputs', tables.inputs)
    readme = replaceTable(readme, 'outputs', tables.outputs)
    fs.writeFileSync('README.md', readme)
  } else {
    console.log(`${tables.inputs}\n\n${tables.outputs}`)
  }
}
