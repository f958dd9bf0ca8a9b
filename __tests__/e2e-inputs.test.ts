/**
 * Bad input is refused before the first request, on dist/index.js: every check that used to
 * run after the snapshot had been downloaded and extracted (an invalid or impossible `ref`,
 * `keep-snapshot-head` with `ref`, a header value that cannot be sent, a GITHUB_SHA that is no
 * commit, a repository that resolves to none) now fails the step with a message that names
 * the input and what it accepts, and the server's log shows that nothing reached it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { tempDirectory } from './support/temp.js'
import { listDir, runAction, visibleLog } from './support/run-action.js'
import { manifest } from './support/tree.js'

let root: string
let server: CachewServer
let mirror: Mirror

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-inputs-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 40, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

beforeEach(() => server.resetStats())

/** The mirror's upstream is https://github.example/acme/widgets: a workflow of that repository. */
const WORKFLOW = { GITHUB_REPOSITORY: 'acme/widgets', GITHUB_SERVER_URL: 'https://github.example' }

interface Case {
  inputs: Record<string, string>
  env?: Record<string, string>
  message: RegExp
}

/** Runs the action on a workspace holding a file, and returns the run and the request log. */
async function refused({ inputs, env }: Omit<Case, 'message'>) {
  const workspace = await tempDirectory('ws-')
  await fs.writeFile(path.join(workspace, 'keep.txt'), 'the job was here first\n')
  const before = await manifest(workspace)
  const run = await runAction({
    inputs: { 'server-url': server.url, repository: mirror.upstreamUrl, ...inputs },
    env: { ...WORKFLOW, ...env },
    workspace
  })
  await server.idle()
  return { run, before, after: await manifest(workspace), requests: [...server.requests] }
}

describe('input refused before any request', () => {
  it('the request log works: a good ref reaches the server and is restored', async () => {
    const run = await runAction({
      inputs: { 'server-url': server.url, repository: mirror.upstreamUrl, ref: 'main' },
      env: WORKFLOW
    })
    expect(run.exitCode).toBe(0)
    await server.idle()
    expect(server.requests.some(r => r.endpoint === 'snapshot.tar.zst')).toBe(true)
  })

  const cases: Array<[string, Case]> = [
    [
      'ref: bad..ref',
      {
        inputs: { ref: 'bad..ref' },
        message:
          /Input 'ref': 'bad\.\.ref' is not a valid ref \(it contains '\.\.'\); use a branch or tag name, a full ref such as refs\/heads\/main or refs\/pull\/1\/merge, or a full commit SHA/
      }
    ],
    [
      'keep-snapshot-head with a ref',
      {
        inputs: { 'keep-snapshot-head': 'true', ref: 'main' },
        message:
          /Input 'keep-snapshot-head': cannot be combined with ref 'main'; set one or the other/
      }
    ],
    [
      'ref: refs/heads/ (no branch name)',
      { inputs: { ref: 'refs/heads/' }, message: /Input 'ref': 'refs\/heads\/' .*ends with '\/'/ }
    ],
    [
      'ref: refs/tags (a namespace, not a ref)',
      {
        inputs: { ref: 'refs/tags' },
        message: /Input 'ref': 'refs\/tags' .*names no branch or tag/
      }
    ],
    [
      'ref that git would read as an option',
      {
        inputs: { ref: '--upload-pack=touch pwned' },
        message: /Input 'ref': '--upload-pack=touch pwned' is not a valid ref/
      }
    ],
    [
      'ref: main.lock',
      { inputs: { ref: 'main.lock' }, message: /Input 'ref': 'main\.lock' .*ends with '\.lock'/ }
    ],
    [
      'authorization with a line break',
      {
        inputs: { authorization: 'Bearer abc\nX-Injected: 1' },
        message:
          /Input 'authorization': contains a line break or another character an HTTP header cannot carry/
      }
    ],
    [
      'GITHUB_SHA that is no commit',
      {
        inputs: {},
        env: { GITHUB_SHA: 'not-a-commit', GITHUB_REF: 'refs/heads/main' },
        message: /GITHUB_SHA 'not-a-commit' is not a full commit SHA/
      }
    ],
    [
      'fetch-depth that is no depth',
      {
        inputs: { 'fetch-depth': '-1' },
        message: /Input 'fetch-depth': '-1' is not a whole number, 0 or more \(0 is all history\)/
      }
    ],
    [
      'filter git would refuse',
      {
        inputs: { filter: 'blob:limit=1t' },
        message: /Input 'filter': 'blob:limit=1t' is not a filter; use blob:none/
      }
    ],
    [
      'submodules: all',
      {
        inputs: { submodules: 'all' },
        message: /Input 'submodules': 'all' is not allowed; use false, true or recursive/
      }
    ],
    [
      'ssh-user that ssh would read as an option',
      {
        inputs: { 'ssh-user': '-oProxyCommand=touch pwned' },
        message: /Input 'ssh-user': '-oProxyCommand=touch pwned' is not a user name ssh can take/
      }
    ],
    [
      'github-server-url on another host than a repository URL',
      {
        inputs: { 'github-server-url': 'https://ghe.example.com' },
        message:
          /Input 'github-server-url': is https:\/\/ghe\.example\.com, but repository is a URL on https:\/\/github\.example/
      }
    ],
    [
      'repository that resolves to no repository',
      {
        inputs: { repository: 'acme/..' },
        message:
          /Input 'repository': 'acme\/\.\.' is not a repository; use https:\/\/HOST\/OWNER\/REPO or OWNER\/REPO/
      }
    ]
  ]

  it.each(cases)('%s', async (_name, { inputs, env, message }) => {
    const { run, before, after, requests } = await refused({ inputs, env })
    const log = visibleLog(run)
    expect(run.exitCode).toBe(1)
    expect(log).toMatch(message)
    // One error line, the expected one: no stack trace, no "failed unexpectedly".
    expect(log.match(/::error::/g)).toHaveLength(1)
    expect(log).not.toMatch(/unexpectedly/)
    expect(requests).toEqual([])
    expect(after).toEqual(before)
    expect(await listDir(run.runnerTemp)).toEqual([])
    expect(run.outputs).toEqual({})
  })
})
