/**
 * The runner's file and log commands, as the runner parses them: outputs and state files in
 * the delimited multi-line form, escaped command data, masks and groups.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as runner from '../src/report/runner.js'
import { tempDirectory } from './support/temp.js'

const saved = { ...process.env }
afterEach(() => {
  process.env = { ...saved }
  process.exitCode = undefined
  jest.restoreAllMocks()
})

/** Parses a GITHUB_OUTPUT / GITHUB_STATE file the way the runner does. */
function parseKeyValues(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!match) continue
    const [, name, delimiter] = match
    const end = lines.indexOf(delimiter, i + 1)
    values[name] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return values
}

function captureStdout(): string[] {
  const written: string[] = []
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
  return written
}

describe('runner commands', () => {
  it('reads inputs as INPUT_<NAME>, hyphens kept, trimmed', () => {
    process.env['INPUT_SERVER-URL'] = '  http://cachew  \n'
    expect(runner.getInput('server-url')).toBe('http://cachew')
    expect(runner.getInput('absent')).toBe('')
  })

  it('appends outputs and state in the delimited form, multi-line values intact', async () => {
    const directory = await tempDirectory('runner-')
    process.env.GITHUB_OUTPUT = path.join(directory, 'output')
    process.env.GITHUB_STATE = path.join(directory, 'state')
    runner.setOutput('commit', 'abc')
    runner.setOutput('notes', 'two\nlines')
    runner.saveState('isPost', 'true')
    expect(parseKeyValues(await fs.readFile(process.env.GITHUB_OUTPUT, 'utf8'))).toEqual({
      commit: 'abc',
      notes: 'two\nlines'
    })
    expect(parseKeyValues(await fs.readFile(process.env.GITHUB_STATE, 'utf8'))).toEqual({
      isPost: 'true'
    })
    process.env.STATE_isPost = 'true'
    expect(runner.getState('isPost')).toBe('true')
  })

  it('escapes command data so a message cannot forge another command', () => {
    const written = captureStdout()
    runner.warning('50% done\n::error::forged')
    runner.setSecret('a\r\nb')
    expect(written).toEqual(['::warning::50%25 done%0A::error::forged\n', '::add-mask::a%0D%0Ab\n'])
  })

  it('groups lines even when the work fails, and fails the step without exiting', async () => {
    const written = captureStdout()
    await expect(
      runner.group('Phase', async () => {
        runner.info('inside')
        throw new Error('boom')
      })
    ).rejects.toThrow('boom')
    runner.setFailed('it broke')
    expect(written).toEqual([
      '::group::Phase\n',
      'inside\n',
      '::endgroup::\n',
      '::error::it broke\n'
    ])
    expect(process.exitCode).toBe(1)
  })

  it('appends the summary only where the runner gives a file', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    expect(runner.appendSummary('<p>x</p>')).toBe(false)
    const file = path.join(await tempDirectory('summary-'), 'summary.md')
    process.env.GITHUB_STEP_SUMMARY = file
    expect(runner.appendSummary('<p>x</p>')).toBe(true)
    expect(await fs.readFile(file, 'utf8')).toBe('<p>x</p>\n')
  })
})
