/**
 * Prints the README's input and output tables from action.yml, so the two cannot drift:
 * `npx tsx scripts/readme-tables.ts` shows them; __tests__/readme.test.ts compares.
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tables = readmeTables(fs.readFileSync('action.yml', 'utf8'))
  console.log(`${tables.inputs}\n\n${tables.outputs}`)
}
