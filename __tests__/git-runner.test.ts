import { afterEach, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { Git, GitError, gitEnvironment, maskSecrets } from '../src/git/git.js'
import { ExpectedError } from '../src/errors.js'
import { git, TempDirs } from './git-helpers.js'

const dirs = new TempDirs()
afterEach(() => dirs.cleanup())

async function makeRepo(): Promise<string> {
  const repo = await dirs.make('runner')
  git(repo, 'init', '--quiet', '--initial-branch=main')
  return repo
}

describe('gitEnvironment', () => {
  it('appends config entries after the ones already in the environment', () => {
    const env = gitEnvironment(
      { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'a.b', GIT_CONFIG_VALUE_0: 'kept' },
      [{ key: 'http.extraheader', value: 'secret' }]
    )
    expect(env).toMatchObject({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'a.b',
      GIT_CONFIG_VALUE_0: 'kept',
      GIT_CONFIG_KEY_1: 'http.extraheader',
      GIT_CONFIG_VALUE_1: 'secret',
      GIT_TERMINAL_PROMPT: '0'
    })
  })

  it('drops variables that would point git at another repository', () => {
    const env = gitEnvironment({ GIT_DIR: '/elsewhere', GIT_INDEX_FILE: '/x', PATH: '/bin' })
    expect(env.GIT_DIR).toBeUndefined()
    expect(env.GIT_INDEX_FILE).toBeUndefined()
    expect(env.PATH).toBe('/bin')
  })

  it('gives git the upper-case HTTP_PROXY as http_proxy, which is all libcurl reads', () => {
    const upper = 'http://proxy.example:3128'
    expect(gitEnvironment({ HTTP_PROXY: upper }).http_proxy).toBe(upper)
    const lower = 'http://other.example:8080'
    expect(gitEnvironment({ HTTP_PROXY: upper, http_proxy: lower }).http_proxy).toBe(lower)
    expect(gitEnvironment({ PATH: '/bin' }).http_proxy).toBeUndefined()
  })
})

describe('Git', () => {
  it('hands config to git through the environment', async () => {
    const repo = await makeRepo()
    const value = await new Git(repo).read(['config', '--get', 'cachew.test'], {
      config: [{ key: 'cachew.test', value: 'from the environment' }]
    })
    expect(value).toBe('from the environment')
    expect(git(repo, 'config', '--list', '--local')).not.toContain('cachew.test')
  })

  it("puts its default config before each command's own", async () => {
    const repo = await makeRepo()
    const runner = new Git(repo, [], {
      config: [
        { key: 'cachew.first', value: 'default' },
        { key: 'cachew.second', value: 'default' }
      ]
    })
    const read = (key: string) =>
      runner.read(['config', '--get', key], { config: [{ key: 'cachew.second', value: 'own' }] })
    expect(await read('cachew.first')).toBe('default')
    expect(await read('cachew.second')).toBe('own')
  })

  it('an abort kills the running command, which rejects with the reason', async () => {
    const repo = await makeRepo()
    const controller = new AbortController()
    // A shell alias that would run for minutes; the config comes through the defaults.
    const runner = new Git(repo, [], {
      config: [{ key: 'alias.linger', value: '!sleep 600' }],
      signal: controller.signal
    })
    const running = runner.run(['linger'])
    setTimeout(() => controller.abort(new Error('budget passed')), 200)
    await expect(running).rejects.toThrow('budget passed')
    // Once aborted, nothing more runs.
    await expect(runner.run(['status'])).rejects.toThrow('budget passed')
  })

  it('works in its own directory even when GIT_DIR points elsewhere', async () => {
    const repo = await makeRepo()
    const other = await makeRepo()
    const saved = process.env.GIT_DIR
    process.env.GIT_DIR = path.join(other, '.git')
    try {
      expect(await new Git(repo).read(['rev-parse', '--absolute-git-dir'])).toBe(
        path.join(repo, '.git')
      )
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR
      else process.env.GIT_DIR = saved
    }
  })

  it("writes `input` to git's stdin, and gives it end-of-file without", async () => {
    const runner = new Git(await makeRepo())
    const hash = (input: string) =>
      execFileSync('git', ['hash-object', '--stdin'], { input, encoding: 'utf8' }).trim()
    const text = 'blob content\n'
    expect(await runner.read(['hash-object', '--stdin'], { input: text })).toBe(hash(text))
    expect(await runner.read(['hash-object', '--stdin'])).toBe(hash(''))
  })

  it('answers yes/no with exit codes 0 and 1, and throws on anything else', async () => {
    const repo = await makeRepo()
    const runner = new Git(repo)
    expect(await runner.test(['diff', '--quiet', '--no-index', '/dev/null', '/dev/null'])).toBe(
      true
    )
    expect(await runner.test(['rev-parse', '--verify', '--quiet', 'nothing'])).toBe(false)
    await expect(runner.test(['cat-file', '-e', 'nothing'])).rejects.toThrow(GitError)
  })

  it('masks secrets in the command and in git messages of a failure', async () => {
    const repo = await makeRepo()
    const secret = 's3cr3t-value'
    const failure = new Git(repo, [secret]).run(['checkout', `branch-${secret}`])
    await expect(failure).rejects.toThrow(ExpectedError)
    const error = (await failure.catch(e => e)) as GitError
    expect(error.message).toContain('branch-***')
    expect(error.message).not.toContain(secret)
    expect(error.stderr).not.toContain(secret)
    expect(error.exitCode).toBe(1)
  })
})

describe('maskSecrets', () => {
  it('replaces every occurrence and ignores empty secrets', () => {
    expect(maskSecrets('a x b x', ['x', ''])).toBe('a *** b ***')
  })
})
