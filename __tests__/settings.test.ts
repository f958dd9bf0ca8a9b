import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'
import { InputError } from '../src/errors.js'
import { Defaults, Inputs, readSettings } from '../src/settings.js'

const saved = { ...process.env }

function setInputs(inputs: Record<string, string>): void {
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key]
  for (const [name, value] of Object.entries(inputs))
    process.env[`INPUT_${name.toUpperCase()}`] = value
}

function errorFor(inputs: Record<string, string>): InputError {
  setInputs({ 'server-url': 'https://cachew.example.com', repository: 'acme/widgets', ...inputs })
  try {
    readSettings()
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error(`no error for ${JSON.stringify(inputs)}`)
}

beforeEach(() => {
  process.env.GITHUB_WORKSPACE = path.resolve('/tmp/ws')
  delete process.env.CACHEW_URL
  delete process.env.GITHUB_REPOSITORY
  delete process.env.GITHUB_SERVER_URL
  delete process.env.CACHEW_AUTHORIZATION
})
afterEach(() => {
  process.env = { ...saved }
})

describe('readSettings', () => {
  it('applies the documented defaults when inputs are absent', () => {
    setInputs({
      'server-url': 'https://cachew.example.com/',
      repository: 'https://github.com/acme/widgets.git'
    })
    const settings = readSettings()
    expect(settings).toMatchObject({
      serverUrl: 'https://cachew.example.com',
      repositoryUrl: 'https://github.com/acme/widgets',
      target: path.resolve('/tmp/ws'),
      downloadConcurrency: 8,
      chunkSizeBytes: 16 * 1024 * 1024,
      stallTimeoutMs: 30_000,
      applyBundle: true,
      failOnCacheMiss: false,
      persistCredentials: true,
      setSafeDirectory: true,
      gitThroughCachew: true,
      keepSnapshotHead: false,
      updateExisting: 'auto',
      lfs: false
    })
  })

  it('reads lfs as a boolean and refuses anything else, naming the input', () => {
    setInputs({ 'server-url': 'https://c.example', repository: 'a/b', lfs: 'true' })
    expect(readSettings().lfs).toBe(true)
    setInputs({ 'server-url': 'https://c.example', repository: 'a/b', lfs: 'FALSE' })
    expect(readSettings().lfs).toBe(false)
    expect(errorFor({ lfs: 'yes' }).message).toMatch(/^Input 'lfs': 'yes' is not a boolean/)
  })

  it.each([
    ['auto', 'auto'],
    ['AUTO', 'auto'],
    ['false', 'false'],
    ['False', 'false']
  ])('reads update-existing %p as %p', (raw, value) => {
    setInputs({ 'server-url': 'https://c.example', repository: 'a/b', 'update-existing': raw })
    expect(readSettings().updateExisting).toBe(value)
  })

  it('falls back to CACHEW_URL, GITHUB_REPOSITORY and GITHUB_SERVER_URL', () => {
    setInputs({})
    process.env.CACHEW_URL = 'http://127.0.0.1:8080'
    process.env.GITHUB_REPOSITORY = 'acme/widgets'
    process.env.GITHUB_SERVER_URL = 'https://ghe.example.com'
    const settings = readSettings()
    expect(settings.serverUrl).toBe('http://127.0.0.1:8080')
    expect(settings.repositoryUrl).toBe('https://ghe.example.com/acme/widgets')
  })

  it('resolves path inside the workspace and refuses one outside it', () => {
    setInputs({ 'server-url': 'https://c.example', repository: 'a/b', path: 'sub/dir' })
    expect(readSettings().target).toBe(path.resolve('/tmp/ws/sub/dir'))
    expect(errorFor({ path: '../elsewhere' }).message).toMatch(/'path'.*outside GITHUB_WORKSPACE/)
  })

  it.each([
    ['download-concurrency', 'abc', /whole number from 1 to 64/],
    ['download-concurrency', '0', /out of range; use a whole number from 1 to 64/],
    ['download-concurrency', '-3', /whole number from 1 to 64/],
    ['download-concurrency', '100000', /out of range/],
    ['download-concurrency', '2.5', /whole number/],
    ['download-chunk-size-mb', '0', /from 1 to 1024/],
    ['download-chunk-size-mb', '1e9', /from 1 to 1024/],
    ['stall-timeout-seconds', '0', /from 1 to 3600/],
    ['server-url', 'not-a-url', /not a URL; use an http:\/\/ or https:\/\/ URL/],
    ['server-url', 'ftp://x/', /'ftp:' URLs are not supported; use http:\/\/ or https:\/\//],
    ['server-url', 'https://user:pw@cachew.example.com', /credentials in the URL/],
    ['repository', ':::', /is not a repository; use https:\/\/HOST\/OWNER\/REPO or OWNER\/REPO/],
    ['repository', 'https://github.com/', /not a repository URL/],
    [
      'repository',
      'acme/..',
      /is not a repository; use https:\/\/HOST\/OWNER\/REPO or OWNER\/REPO/
    ],
    ['repository', './widgets', /is not a repository/],
    ['repository', 'acme/.git', /is not a repository/],
    ['ref', 'bad..ref', /'bad\.\.ref' is not a valid ref \(it contains '\.\.'\); use a branch/],
    ['ref', 'refs/heads/', /is not a valid ref \(it ends with '\/'\)/],
    ['bundle', 'maybe', /'maybe' is not a boolean; use true or false/],
    ['fail-on-cache-miss', 'yes', /use true or false/],
    ['set-safe-directory', 'on', /'on' is not a boolean; use true or false/],
    ['update-existing', 'true', /'true' is not allowed; use auto or false/],
    ['update-existing', 'always', /'always' is not allowed; use auto or false/]
  ])('names %s and the allowed values for %p', (input, value, allowed) => {
    const error = errorFor({ [input]: value })
    expect(error.input).toBe(input)
    expect(error.message).toContain(`Input '${input}'`)
    expect(error.message).toMatch(allowed)
  })

  it('refuses keep-snapshot-head with a ref, naming both', () => {
    const error = errorFor({ 'keep-snapshot-head': 'true', ref: 'main' })
    expect(error.input).toBe('keep-snapshot-head')
    expect(error.message).toBe(
      "Input 'keep-snapshot-head': cannot be combined with ref 'main'; set one or the other " +
        '(keep-snapshot-head: false, or no ref)'
    )
  })

  it.each([
    ['authorization', 'Bearer abc\r\nX-Injected: 1'],
    ['authorization', 'Bearer \u0000abc'],
    ['authorization', 'Bearer \u2603'],
    ['token', 'ghs_abc\ndef']
  ])('refuses a %s that an HTTP header cannot carry, without echoing it', (input, value) => {
    const error = errorFor({ [input]: value })
    expect(error.input).toBe(input)
    expect(error.message).toBe(
      `Input '${input}': contains a line break or another character an HTTP header cannot carry; remove it`
    )
  })

  it('resolves the destination from the workflow context it is given', () => {
    setInputs({ 'server-url': 'https://c.example', repository: 'acme/widgets' })
    const sha = 'C'.repeat(40)
    process.env.GITHUB_REPOSITORY = 'acme/widgets'
    const inWorkflow = { ...process.env, GITHUB_SHA: sha, GITHUB_REF: 'refs/heads/dev' }
    expect(readSettings(inWorkflow).destination).toEqual({
      kind: 'branch',
      branch: 'dev',
      commit: sha.toLowerCase()
    })
    expect(readSettings({ ...process.env, GITHUB_SHA: '' }).destination).toEqual({
      kind: 'snapshot'
    })
    setInputs({ 'server-url': 'https://c.example', repository: 'acme/widgets', ref: 'v1' })
    expect(readSettings(inWorkflow).destination).toEqual({ kind: 'branch-or-tag', name: 'v1' })
  })

  it('requires a server URL', () => {
    expect(errorFor({ 'server-url': '' }).message).toMatch(/'server-url': required/)
  })

  it('keeps the defaults in step with action.yml', () => {
    const action = parse(fs.readFileSync(path.resolve('action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
    const declared = Object.keys(action.inputs).sort()
    expect(declared).toEqual(Object.values(Inputs).sort())
    const expected: Record<string, string> = {
      [Inputs.downloadConcurrency]: String(Defaults.downloadConcurrency),
      [Inputs.downloadChunkSizeMb]: String(Defaults.downloadChunkSizeMb),
      [Inputs.stallTimeoutSeconds]: String(Defaults.stallTimeoutSeconds),
      [Inputs.bundle]: String(Defaults.bundle),
      [Inputs.failOnCacheMiss]: String(Defaults.failOnCacheMiss),
      [Inputs.keepSnapshotHead]: String(Defaults.keepSnapshotHead),
      [Inputs.persistCredentials]: String(Defaults.persistCredentials),
      [Inputs.setSafeDirectory]: String(Defaults.setSafeDirectory),
      [Inputs.gitThroughCachew]: String(Defaults.gitThroughCachew),
      [Inputs.runnerCache]: Defaults.runnerCache,
      [Inputs.runnerCacheMaxGb]: String(Defaults.runnerCacheMaxGb),
      [Inputs.updateExisting]: Defaults.updateExisting,
      [Inputs.lfs]: String(Defaults.lfs)
    }
    for (const [name, value] of Object.entries(expected))
      expect(action.inputs[name].default).toBe(value)
  })

  it('turns the runner cache on for self-hosted runners only, unless told otherwise', () => {
    const cacheDir = (environment: string | undefined, setting: string) => {
      if (environment === undefined) delete process.env.RUNNER_ENVIRONMENT
      else process.env.RUNNER_ENVIRONMENT = environment
      process.env.RUNNER_TOOL_CACHE = '/opt/tool-cache'
      setInputs({
        'server-url': 'https://cachew.example.com',
        repository: 'acme/widgets',
        'runner-cache': setting
      })
      return readSettings().runnerCacheDir
    }
    expect(cacheDir('self-hosted', '')).toBe('/opt/tool-cache')
    expect(cacheDir('self-hosted', 'auto')).toBe('/opt/tool-cache')
    expect(cacheDir('github-hosted', '')).toBeUndefined()
    expect(cacheDir(undefined, '')).toBeUndefined()
    expect(cacheDir('github-hosted', 'true')).toBe('/opt/tool-cache')
    expect(cacheDir('self-hosted', 'false')).toBeUndefined()
    expect(readSettings().runnerCacheMaxBytes).toBe(10 * 1024 ** 3)
  })

  it('refuses bad runner-cache values, naming the input and what is allowed', () => {
    expect(errorFor({ 'runner-cache': 'always' }).message).toBe(
      "Input 'runner-cache': 'always' is not allowed; use auto, true or false"
    )
    expect(errorFor({ 'runner-cache-max-gb': '0' }).message).toMatch(
      /'runner-cache-max-gb': 0 is out of range; use a whole number from 1 to 1024/
    )
  })
})
