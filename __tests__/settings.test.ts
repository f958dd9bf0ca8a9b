import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
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
      lfs: false,
      showProgress: true,
      clean: true,
      ssh: undefined,
      superseded: [],
      submodules: 'false'
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
    ['update-existing', 'always', /'always' is not allowed; use auto or false/],
    ['github-server-url', 'ghe.example.com', /is not a URL; use one such as https:\/\/ghe/],
    ['github-server-url', 'ssh://ghe.example.com', /'ssh:' URLs are not supported/],
    ['github-server-url', 'https://u:p@ghe.example.com', /credentials in the URL/],
    ['show-progress', 'no', /'no' is not a boolean; use true or false/],
    ['clean', 'yes', /'yes' is not a boolean/],
    ['ssh-strict', 'off', /'off' is not a boolean/],
    ['ssh-user', '-oProxyCommand=touch pwned', /is not a user name ssh can take/],
    ['ssh-user', 'git user', /is not a user name ssh can take/],
    ['ssh-user', 'git@host', /is not a user name ssh can take/],
    ['allow-unsafe-pr-checkout', 'please', /'please' is not a boolean/],
    ['fetch-depth', '-1', /'-1' is not a whole number, 0 or more \(0 is all history\)/],
    ['fetch-depth', '1.5', /'1\.5' is not a whole number, 0 or more/],
    ['fetch-depth', 'all', /'all' is not a whole number/],
    ['fetch-tags', 'maybe', /'maybe' is not a boolean/],
    ['filter', 'blob:nothing', /'blob:nothing' is not a filter; use blob:none, blob:limit/],
    ['sparse-checkout-cone-mode', 'cone', /'cone' is not a boolean/],
    ['lfs', 'yes', /'yes' is not a boolean/],
    ['submodules', 'all', /'all' is not allowed; use false, true or recursive/]
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
      [Inputs.showProgress]: String(Defaults.showProgress),
      [Inputs.clean]: String(Defaults.clean),
      [Inputs.sshStrict]: String(Defaults.sshStrict),
      [Inputs.sshUser]: Defaults.sshUser,
      [Inputs.allowUnsafePrCheckout]: String(Defaults.allowUnsafePrCheckout),
      [Inputs.fetchDepth]: String(Defaults.fetchDepth),
      [Inputs.fetchTags]: String(Defaults.fetchTags),
      [Inputs.sparseCheckoutConeMode]: String(Defaults.sparseCheckoutConeMode),
      [Inputs.lfs]: String(Defaults.lfs),
      [Inputs.submodules]: Defaults.submodules
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

  it('places OWNER/REPO on github-server-url, as checkout does, over GITHUB_SERVER_URL', () => {
    const repositoryUrl = (inputs: Record<string, string>) => {
      setInputs({ 'server-url': 'https://c.example', repository: 'acme/widgets', ...inputs })
      return readSettings().repositoryUrl
    }
    expect(repositoryUrl({})).toBe('https://github.com/acme/widgets')
    process.env.GITHUB_SERVER_URL = 'https://github.com'
    expect(repositoryUrl({ 'github-server-url': 'https://ghe.example.com/' })).toBe(
      'https://ghe.example.com/acme/widgets'
    )
    // checkout builds the URL from the origin alone.
    expect(repositoryUrl({ 'github-server-url': 'https://ghe.example.com:8443/some/path' })).toBe(
      'https://ghe.example.com:8443/acme/widgets'
    )
    // A URL repository is on its own host; the same host in github-server-url is no conflict.
    expect(
      repositoryUrl({
        repository: 'https://ghe.example.com/acme/widgets.git',
        'github-server-url': 'https://ghe.example.com'
      })
    ).toBe('https://ghe.example.com/acme/widgets')
    const conflict = errorFor({
      repository: 'https://github.com/acme/widgets',
      'github-server-url': 'https://ghe.example.com'
    })
    expect(conflict.input).toBe('github-server-url')
    expect(conflict.message).toBe(
      "Input 'github-server-url': is https://ghe.example.com, but repository is a URL on " +
        'https://github.com; leave one of them out (github-server-url applies to an OWNER/REPO repository)'
    )
  })

  it('collects the checkout inputs a snapshot supersedes, only those set to a non-default value', () => {
    const superseded = (inputs: Record<string, string>) => {
      setInputs({ 'server-url': 'https://c.example', repository: 'a/b', ...inputs })
      return readSettings().superseded.map(input => input.shown)
    }
    // As the runner passes action.yml's defaults: nothing to say.
    expect(
      superseded({
        'fetch-depth': '1',
        'fetch-tags': 'false',
        'sparse-checkout-cone-mode': 'true',
        lfs: 'false',
        submodules: 'false'
      })
    ).toEqual([])
    expect(
      superseded({
        'fetch-depth': '0',
        'fetch-tags': 'true',
        filter: 'blob:none',
        'sparse-checkout': 'src/\n\n  docs/  \n',
        'sparse-checkout-cone-mode': 'false'
      })
    ).toEqual(['fetch-depth: 0', 'fetch-tags: true', 'filter: blob:none'])
  })

  it('reads sparse-checkout as checkout does: one pattern a line, cone mode by default', () => {
    const sparse = (inputs: Record<string, string>) => {
      setInputs({ 'server-url': 'https://c.example', repository: 'a/b', ...inputs })
      return readSettings().sparseCheckout
    }
    expect(sparse({ 'sparse-checkout': 'src/\n\n  docs/  \n' })).toEqual({
      patterns: ['src/', 'docs/'],
      cone: true
    })
    expect(
      sparse({ 'sparse-checkout': '/src/*.ts\n!x', 'sparse-checkout-cone-mode': 'false' })
    ).toEqual({ patterns: ['/src/*.ts', '!x'], cone: false })
    // The mode alone changes nothing, in checkout either.
    expect(sparse({ 'sparse-checkout-cone-mode': 'false' })).toBeUndefined()
    expect(sparse({ 'sparse-checkout': '\n  \n' })).toBeUndefined()
    // What git refuses in cone mode is refused before any request, naming the input.
    expect(() => sparse({ 'sparse-checkout': 'src\n/docs' })).toThrow(
      "Input 'sparse-checkout': '/docs' starts with '/'"
    )
    expect(() => sparse({ 'sparse-checkout': 'src/*.ts' })).toThrow(
      /Input 'sparse-checkout': 'src\/\*\.ts' has one of/
    )
    expect(() => sparse({ 'sparse-checkout': 'a/../..' })).toThrow(/outside the repository/)
    setInputs({
      'server-url': 'https://c.example',
      repository: 'a/b',
      lfs: 'true',
      submodules: 'Recursive'
    })
    // lfs is implemented: it is a setting of its own, not one of the inputs not supported yet.
    expect(readSettings()).toMatchObject({ lfs: true, submodules: 'recursive' })
  })

  it('reads ssh-key for later steps: origin becomes USER@HOST:PATH.git, the key a secret', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----'
    setInputs({
      'server-url': 'https://c.example',
      repository: 'https://ghe.example.com:8443/acme/widgets',
      'ssh-key': key,
      'ssh-known-hosts': 'ghe.example.com ssh-ed25519 AAAAC3Nza',
      'ssh-strict': 'false',
      'ssh-user': 'deploy'
    })
    const writes: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => (
      writes.push(String(chunk)),
      true
    )) as typeof process.stdout.write
    let settings
    try {
      settings = readSettings()
    } finally {
      process.stdout.write = write
    }
    expect(settings.ssh).toEqual({
      key,
      knownHosts: 'ghe.example.com ssh-ed25519 AAAAC3Nza',
      strict: false,
      originUrl: 'deploy@ghe.example.com:acme/widgets.git'
    })
    // Masked line by line, the armour lines (not secret) aside.
    expect(writes).toContain('::add-mask::b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n')
    expect(writes.join('')).not.toContain('::add-mask::-----')
    setInputs({ 'server-url': 'https://c.example', repository: 'a/b', 'ssh-user': 'deploy' })
    expect(readSettings().ssh).toBeUndefined()
  })
})

describe('allow-unsafe-pr-checkout', () => {
  const SHA = 'a'.repeat(40)
  const FORK_HEAD = 'b'.repeat(40)
  let eventFile: string

  beforeEach(() => {
    eventFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'event-')), 'event.json')
    process.env.GITHUB_EVENT_PATH = eventFile
    process.env.GITHUB_REPOSITORY = 'acme/widgets'
    process.env.GITHUB_SHA = SHA
    process.env.GITHUB_REF = 'refs/heads/main'
  })
  afterEach(() => fs.rmSync(path.dirname(eventFile), { recursive: true, force: true }))

  function pullRequestTarget(headRepoId: number): void {
    process.env.GITHUB_EVENT_NAME = 'pull_request_target'
    fs.writeFileSync(
      eventFile,
      JSON.stringify({
        repository: { id: 1, full_name: 'acme/widgets' },
        pull_request: {
          head: { sha: FORK_HEAD, repo: { id: headRepoId, full_name: 'mallory/widgets' } },
          merge_commit_sha: 'c'.repeat(40)
        }
      })
    )
  }

  function refusal(inputs: Record<string, string>): string | undefined {
    setInputs({ 'server-url': 'https://c.example', ...inputs })
    try {
      readSettings()
      return undefined
    } catch (error) {
      return (error as Error).message
    }
  }

  it.each([
    [
      'the pull request merge ref',
      { ref: 'refs/pull/7/merge' },
      'the pull request ref refs/pull/7/merge'
    ],
    [
      'the pull request head ref',
      { ref: 'refs/pull/7/head' },
      'the pull request ref refs/pull/7/head'
    ],
    [
      "the fork's head commit",
      { ref: FORK_HEAD.toUpperCase() },
      `the pull request's commit ${FORK_HEAD}`
    ],
    [
      'the test merge commit',
      { ref: 'c'.repeat(40) },
      `the pull request's commit ${'c'.repeat(40)}`
    ],
    [
      "the fork's repository",
      { repository: 'Mallory/Widgets' },
      "the fork's repository mallory/widgets"
    ]
  ])('refuses %s of a fork in pull_request_target', (_name, inputs, what) => {
    pullRequestTarget(2)
    expect(refusal(inputs)).toBe(
      `Refusing to restore a fork's pull request code (${what}) in a 'pull_request_target' ` +
        "workflow: it runs with the base repository's token, secrets, cache and runner, which " +
        "the fork's code could then use. Set 'allow-unsafe-pr-checkout: true' on this step only " +
        'after reviewing the risks at https://gh.io/securely-using-pull_request_target.'
    )
    expect(refusal({ ...inputs, 'allow-unsafe-pr-checkout': 'true' })).toBeUndefined()
  })

  it('lets through the trusted cases', () => {
    pullRequestTarget(2)
    // The workflow's own repository at the commit GitHub chose, another branch, a PR ref of a
    // pull request from the base repository itself, and the same in a pull_request workflow.
    expect(refusal({})).toBeUndefined()
    expect(refusal({ ref: 'main' })).toBeUndefined()
    // (A pull request ref is refused in any repository, as by checkout: the ref decides.)
    expect(refusal({ repository: 'acme/other', ref: 'refs/pull/7/merge' })).toBeDefined()
    pullRequestTarget(1)
    expect(refusal({ ref: 'refs/pull/7/merge' })).toBeUndefined()
    pullRequestTarget(2)
    process.env.GITHUB_EVENT_NAME = 'pull_request'
    expect(refusal({ ref: 'refs/pull/7/merge' })).toBeUndefined()
    // No payload to judge by: as checkout, nothing is refused.
    process.env.GITHUB_EVENT_NAME = 'pull_request_target'
    fs.rmSync(eventFile)
    expect(refusal({ ref: 'refs/pull/7/merge' })).toBeUndefined()
  })

  it('judges workflow_run by the pull request that ran the workflow before it', () => {
    process.env.GITHUB_EVENT_NAME = 'workflow_run'
    const write = (event: string) =>
      fs.writeFileSync(
        eventFile,
        JSON.stringify({
          repository: { id: 1 },
          workflow_run: {
            event,
            head_sha: FORK_HEAD,
            head_commit: { id: 'd'.repeat(40) },
            head_repository: { id: 2, full_name: 'mallory/widgets' }
          }
        })
      )
    write('pull_request')
    expect(refusal({ ref: FORK_HEAD })).toMatch(/in a 'workflow_run' workflow/)
    expect(refusal({ ref: 'd'.repeat(40) })).toMatch(/the pull request's commit d{40}/)
    // After pull_request_target, head_sha is the base branch's commit.
    write('pull_request_target')
    expect(refusal({ ref: FORK_HEAD })).toBeUndefined()
    expect(refusal({ ref: 'd'.repeat(40) })).toBeDefined()
    write('push')
    expect(refusal({ ref: 'd'.repeat(40) })).toBeUndefined()
  })
})
