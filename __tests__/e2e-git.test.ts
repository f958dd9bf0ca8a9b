/**
 * The git half end to end on dist/index.js: delta bundle, the workflow's commit fetched
 * through cachew, pull requests, tags, and credentials that live exactly as long as the job
 * needs them. A real bare mirror is served through git http-backend by the test server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { addCommit, execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { tempDirectory } from './support/temp.js'
import { listDir, runAction, runActionWithPost, visibleLog } from './support/run-action.js'
import { git, manifest } from './support/tree.js'

let root: string
let server: CachewServer
let mirror: Mirror
let a: string // the snapshot's commit
let b: string // main, one past the snapshot
let snapshotFile: string
const NO_BUNDLE_URL = 'https://github.example/acme/widgets-no-bundle'

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-git-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 60, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  snapshotFile = snapshot.file
  a = snapshot.commit
  b = await addCommit(mirror, 'B')
  // A pull request's merge ref and a tag, as GitHub keeps them, in the mirror.
  await execTool('git', ['-C', mirror.workDir, 'tag', '-a', '-m', 'release', 'v1.0', b])
  await execTool('git', ['-C', mirror.workDir, 'push', '-q', 'mirror', 'refs/tags/v1.0'])
  await execTool('git', ['-C', mirror.workDir, 'checkout', '-q', '-b', 'topic', a])
  await fs.writeFile(path.join(mirror.workDir, 'topic.txt'), 'topic\n')
  await execTool('git', ['-C', mirror.workDir, 'add', 'topic.txt'])
  await execTool('git', ['-C', mirror.workDir, 'commit', '-q', '-m', 'topic'])
  await execTool('git', ['-C', mirror.workDir, 'checkout', '-q', '--detach', b])
  await execTool('git', [
    '-C',
    mirror.workDir,
    'merge',
    '-q',
    '--no-ff',
    '-m',
    'Merge topic',
    'topic'
  ])
  await execTool('git', ['-C', mirror.workDir, 'push', '-q', 'mirror', 'HEAD:refs/pull/1/merge'])
  await execTool('git', ['-C', mirror.workDir, 'checkout', '-q', 'main'])

  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshotFile, commit: a, bundleBase: a }, mirror)
  server.addRepository(
    NO_BUNDLE_URL,
    { file: snapshotFile, commit: a },
    { ...mirror, upstreamUrl: NO_BUNDLE_URL }
  )
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'server-url': server.url, repository: mirror.upstreamUrl, ...extra }
}

function workflow(sha: string, ref: string, event = 'push'): Record<string, string> {
  return { GITHUB_SHA: sha, GITHUB_REF: ref, GITHUB_EVENT_NAME: event }
}

function uploadPacks(): number {
  return server.requests.filter(r => r.path.includes('git-upload-pack')).length
}

describe('the workflow commit', () => {
  it('applies the delta bundle to reach a push to main, with no git fetch', async () => {
    server.resetStats()
    const run = await runActionWithPost({ inputs: inputs(), env: workflow(b, 'refs/heads/main') })
    expect(visibleLog(run)).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      commit: b,
      ref: 'refs/heads/main',
      'snapshot-commit': a,
      'bundle-applied': 'true'
    })
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
    expect(await git(run.workspace, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main')
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    expect(server.requests.some(r => r.path.includes('snapshot.bundle?base='))).toBe(true)
    expect(uploadPacks()).toBe(0)
    expect(await listDir(run.runnerTemp)).toEqual([])
  })

  it('without a bundle, fetches GITHUB_SHA through cachew (the server log shows it)', async () => {
    server.resetStats()
    const run = await runActionWithPost({
      inputs: inputs({ repository: NO_BUNDLE_URL }),
      env: workflow(b, 'refs/heads/main')
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['bundle-applied']).toBe('false')
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    expect(server.requests.some(r => r.path.endsWith('/ensure-refs'))).toBe(true)
    expect(uploadPacks()).toBeGreaterThan(0)
    // The clone still points at the upstream (as the snapshot recorded it), never at cachew:
    // later fetches go through cachew by configuration only.
    expect(await git(run.workspace, 'remote', 'get-url', 'origin')).toBe(mirror.upstreamUrl)
  })

  it('with bundle: false, fetches instead of applying the bundle', async () => {
    server.resetStats()
    const run = await runAction({
      inputs: inputs({ bundle: 'false' }),
      env: workflow(b, 'refs/heads/main')
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['bundle-applied']).toBe('false')
    expect(server.requests.some(r => r.path.includes('snapshot.bundle'))).toBe(false)
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
  })

  it('a GITHUB_SHA the server does not have fails naming it, and loses nothing', async () => {
    const missing = 'f'.repeat(40)
    const parent = await tempDirectory('missing-')
    const workspace = path.join(parent, 'ws')
    await fs.mkdir(workspace)
    await fs.writeFile(path.join(workspace, 'keep.txt'), 'precious')
    const before = await manifest(parent)
    const run = await runAction({
      inputs: inputs(),
      env: workflow(missing, 'refs/heads/main'),
      workspace
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(new RegExp(`::error::.*${missing}`))
    expect(await manifest(parent)).toEqual(before)
    expect(await listDir(run.runnerTemp)).toEqual([])
  })

  it('a pull request ends detached at the merge commit', async () => {
    const merge = await git(mirror.bareDir, 'rev-parse', 'refs/pull/1/merge')
    const run = await runAction({
      inputs: inputs(),
      env: workflow(merge, 'refs/pull/1/merge', 'pull_request')
    })
    expect(run.exitCode).toBe(0)
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(merge)
    await expect(git(run.workspace, 'symbolic-ref', '-q', 'HEAD')).rejects.toThrow()
    expect(run.outputs['commit']).toBe(merge)
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
  })

  it('a tag ends detached at the tagged commit', async () => {
    const run = await runAction({ inputs: inputs(), env: workflow(b, 'refs/tags/v1.0') })
    expect(run.exitCode).toBe(0)
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
    await expect(git(run.workspace, 'symbolic-ref', '-q', 'HEAD')).rejects.toThrow()
    expect(await git(run.workspace, 'describe', '--tags', '--exact-match')).toBe('v1.0')
  })

  it('keep-snapshot-head stays at the snapshot plus bundle', async () => {
    const run = await runAction({
      inputs: inputs({ 'keep-snapshot-head': 'true' }),
      env: workflow(a, 'refs/heads/main')
    })
    expect(run.exitCode).toBe(0)
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
  })
})

describe('credentials', () => {
  it('are there for later steps, never in .git/config or the log, and gone after the post step', async () => {
    const secret = 'Bearer cachew-secret-value-123'
    const token = 'ghs_upstreamtoken456'
    server.setOptions({ requireAuthorization: secret })
    try {
      const main = await runAction({
        inputs: inputs({ authorization: secret, token }),
        env: workflow(b, 'refs/heads/main')
      })
      expect(main.exitCode).toBe(0)
      const configFiles = (await listDir(main.runnerTemp)).map(name =>
        path.join(main.runnerTemp, name)
      )
      expect(configFiles).toHaveLength(1)
      const included = await fs.readFile(configFiles[0], 'utf8')
      expect(included).toContain('cachew-secret-value-123')
      expect(await fs.readFile(path.join(main.workspace, '.git', 'config'), 'utf8')).not.toMatch(
        /cachew-secret-value-123|upstreamtoken456/
      )
      // A later step's git reaches cachew with the persisted credentials.
      server.resetStats()
      await git(main.workspace, 'fetch', '-q', 'origin')
      expect(uploadPacks()).toBeGreaterThan(0)
      expect(server.requests.every(r => r.authorization === 'correct')).toBe(true)

      const post = await runAction({
        inputs: inputs({ authorization: secret, token }),
        workspace: main.workspace,
        runnerTemp: main.runnerTemp,
        post: true,
        state: main.state
      })
      expect(post.exitCode).toBe(0)
      expect(await listDir(main.runnerTemp)).toEqual([])
      expect(await git(main.workspace, 'config', '--get-all', 'include.path').catch(() => '')).toBe(
        ''
      )
      for (const run of [main, post]) {
        expect(visibleLog(run) + run.summary).not.toMatch(
          /cachew-secret-value-123|upstreamtoken456/
        )
      }
    } finally {
      server.setOptions({})
    }
  })

  it('go with an absolute bundle URL on server-url’s origin', async () => {
    const secret = 'Bearer cachew-secret-same-origin'
    const url = 'https://github.example/acme/widgets-absolute-bundle'
    server.addRepository(
      url,
      { file: snapshotFile, commit: a, bundleBase: a, bundleOrigin: server.url },
      { ...mirror, upstreamUrl: url }
    )
    server.setOptions({ requireAuthorization: secret })
    server.resetStats()
    try {
      const run = await runAction({
        inputs: inputs({ repository: url, authorization: secret }),
        env: workflow(b, 'refs/heads/main')
      })
      expect(run.exitCode).toBe(0)
      expect(run.outputs['bundle-applied']).toBe('true')
      const bundles = server.requests.filter(r => r.path.includes('snapshot.bundle'))
      expect(bundles.length).toBeGreaterThan(0)
      expect(server.requests.every(r => r.authorization === 'correct')).toBe(true)
    } finally {
      server.setOptions({})
    }
  })

  it('never go to a bundle URL on another origin: fetched without them, then through cachew', async () => {
    const secret = 'Bearer cachew-secret-cross-origin'
    const url = 'https://github.example/acme/widgets-foreign-bundle'
    // The same test server under another name: another origin, as a hostile server would name.
    const foreign = server.url.replace('127.0.0.1', 'localhost')
    server.addRepository(
      url,
      { file: snapshotFile, commit: a, bundleBase: a, bundleOrigin: foreign },
      { ...mirror, upstreamUrl: url }
    )
    server.setOptions({ requireAuthorization: secret })
    server.resetStats()
    try {
      const run = await runAction({
        inputs: inputs({ repository: url, authorization: secret }),
        env: workflow(b, 'refs/heads/main')
      })
      expect(run.exitCode).toBe(0)
      expect(visibleLog(run)).toContain(
        `The delta bundle is on another origin (${foreign}): fetching it without the authorization header.`
      )
      const bundles = server.requests.filter(r => r.path.includes('snapshot.bundle'))
      expect(bundles.length).toBeGreaterThan(0)
      expect(bundles.every(r => r.headers.host === new URL(foreign).host)).toBe(true)
      expect(bundles.every(r => r.authorization === 'absent')).toBe(true)
      // Everything else reached server-url with the secret; the commit came by fetch.
      const others = server.requests.filter(r => !r.path.includes('snapshot.bundle'))
      expect(others.every(r => r.authorization === 'correct')).toBe(true)
      expect(run.outputs['bundle-applied']).toBe('false')
      expect(uploadPacks()).toBeGreaterThan(0)
      expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
      expect(visibleLog(run)).not.toContain('cachew-secret-cross-origin')
    } finally {
      server.setOptions({})
    }
  })

  it('persist-credentials: false leaves nothing behind after the main step', async () => {
    const run = await runAction({ inputs: inputs({ 'persist-credentials': 'false' }) })
    expect(run.exitCode).toBe(0)
    expect(await listDir(run.runnerTemp)).toEqual([])
    expect(await git(run.workspace, 'config', '--get-all', 'include.path').catch(() => '')).toBe('')
  })
})
