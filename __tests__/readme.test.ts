import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import { readmeTables } from '../scripts/readme-tables.js'

function between(text: string, start: RegExp, end: string): string {
  const from = text.search(start)
  expect(from).toBeGreaterThanOrEqual(0)
  const bodyStart = text.indexOf('\n', from) + 1
  return text
    .slice(bodyStart, text.indexOf(end, bodyStart))
    .replace(/<!-- prettier-ignore-(start|end) -->/g, '')
    .trim()
}

describe('README', () => {
  const readme = fs.readFileSync('README.md', 'utf8')
  const tables = readmeTables(fs.readFileSync('action.yml', 'utf8'))

  it('starts with the two commands a newcomer needs', () => {
    const firstLines = readme.split('\n').slice(0, 6).join('\n')
    expect(firstLines).toContain('npm ci && npm run demo')
    expect(firstLines).toContain('npm ci && npm test')
  })

  it('documents every input and output exactly as action.yml declares them', () => {
    expect(between(readme, /<!-- inputs:start/, '<!-- inputs:end -->')).toBe(tables.inputs)
    expect(between(readme, /<!-- outputs:start/, '<!-- outputs:end -->')).toBe(tables.outputs)
  })
})
