import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import { parse } from 'yaml'
import { readmeTables } from '../scripts/readme-tables.js'

interface Action {
  inputs: Record<string, unknown>
}

function between(text: string, start: RegExp, end: string): string {
  const from = text.search(start)
  expect(from).toBeGreaterThanOrEqual(0)
  const bodyStart = text.indexOf('\n', from) + 1
  return text
    .slice(bodyStart, text.indexOf(end, bodyStart))
    .replace(/<!-- prettier-ignore-(start|end) -->/g, '')
    .trim()
}

/** The inputs of actions/checkout v7 (v7.0.1's action.yml), in its order. */
const CHECKOUT_V7_INPUTS = [
  'repository',
  'ref',
  'token',
  'ssh-key',
  'ssh-known-hosts',
  'ssh-strict',
  'ssh-user',
  'persist-credentials',
  'path',
  'clean',
  'filter',
  'sparse-checkout',
  'sparse-checkout-cone-mode',
  'fetch-depth',
  'fetch-tags',
  'show-progress',
  'lfs',
  'submodules',
  'set-safe-directory',
  'github-server-url',
  'allow-unsafe-pr-checkout'
]

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

  it('has a migration row for every actions/checkout v7 input, each one declared in action.yml', () => {
    const rows = between(readme, /<!-- migration:start/, '<!-- migration:end -->')
      .split('\n')
      .slice(2)
      .map(row => /^\| `([a-z-]+)` \| (.+) \|$/.exec(row))
    expect(rows.every(row => row !== null && row[2].trim() !== '')).toBe(true)
    const named = rows.map(row => row?.[1])
    expect(named).toEqual(CHECKOUT_V7_INPUTS)
    // Declared, so a workflow moving from checkout gets no "Unexpected input" warning.
    const declared = Object.keys((parse(fs.readFileSync('action.yml', 'utf8')) as Action).inputs)
    expect(CHECKOUT_V7_INPUTS.filter(name => !declared.includes(name))).toEqual([])
  })
})
