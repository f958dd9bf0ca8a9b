/**
 * update-existing end to end on dist/index.js: a workspace that already holds last job's
 * checkout (the snapshot extracted, as a previous restore leaves it) is brought to the
 * workflow's commit in place through cachew, with no snapshot download; every checkout that
 * does not qualify, and every failure, ends in the snapshot restore instead, at the same commit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { addCommit, execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import {
  listDir,
  runAction,
  runActionWithPost,
  visibleLog,
  type ActionRun
} from './support/run-action.js'
import { git, referenceExtraction } from './support/tree.js'

let root: string
let server: CachewServer
let mirror: Mirror
let snapshotFile: string
let a: string // the snapshot's commit: where last job's checkout is
let head: string // main, three commits past the snapshot: the workflow's commit
const OTHER_URL = 'https://github.example/acme/gadgets'

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-in-place-'))
  // Over a hundred objects, so a fetch of all history is received as a pack (not unpacked).
  mirror = await makeMirror(path.join(root, 'repo'), { files: 200, commits: 2, fileSize: 2048 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  snapshotFile = snapshot.file
  a = snapshot.commit
  for (let i = 0; i < 3; i++) head = await addCommit(mirror)
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshotFile, commit: a, bundleBase: a }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'server-url': server.url, repository: mirror.upstreamUrl, ...extra }
}

const PUSH_TO_MAIN = (): Record<string, string> => ({
  GITHUB_SHA: head,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'push'
})

/** Last job's checkout: the snapshot as a previous restore left it, plus what the job left. */
async function lastJobsCheckout(): Promise<string> {
  const workspace = await fs.mkdtemp(path.join(root, 'ws-'))
  await referenceExtraction(snapshotFile, workspace)
  await fs.writeFile(path.join(workspace, 'stray.txt'), 'left by the last job\n')
  await fs.mkdir(path.join(workspace, 'build'))
  await fs.writeFile(path.join(workspace, 'build', 'out.o'), 'object code')
  await fs.appendFile(path.join(workspace, 'docs', 'README.md'), 'a local edit\n')
  return workspace
}

/** Turns the repository's packs into loose objects (unpack-objects skips objects it has). */
async function unpackObjects(workspace: string): Promise<void> {
  const packDir = path.join(workspace, '.git', 'objects', 'pack')
  const moved = await fs.mkdtemp(path.join(root, 'packs-'))
  for (const name of await fs.readdir(packDir)) {
    await fs.rename(path.join(packDir, name), path.join(moved, name))
  }
  for (const name of (await fs.readdir(moved)).filter(n => n.endsWith('.pack'))) {
    const input = await fs.readFile(path.join(moved, name))
    await execTool('git', ['-C', workspace, 'unpack-objects', '-q'], { input })
  }
}

function snapshotDownloads(): number {
  return server.requests.filter(
    r => r.method === 'GET' && /\/snapshot\.(tar\.zst|bundle)/.test(r.path)
  ).length
}

function uploadPacks(): number {
  return server.requests.filter(r => r.path.endsWith('/git-upload-pack')).length
}

/** The tree is exactly the head commit: on main, nothing modified, untracked or ignored. */
async function expectCleanAtHead(workspace: string): Promise<void> {
  expect(await git(workspace, 'rev-parse', 'HEAD')).toBe(head)
  expect(await git(workspace, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main')
  expect(await git(workspace, 'status', '--porcelain', '--ignored')).toBe('')
  const newest = `changes/change-${mirror.commits.length - 1}.md`
  expect(await fs.readFile(path.join(workspace, newest), 'utf8')).toMatch(/^Change number/)
}

function expectSnapshotRestore(run: ActionRun): void {
  expect(run.exitCode).toBe(0)
  expect(run.outputs).toMatchObject({ 'cache-hit': 'true', mode: 'snapshot', commit: head })
  expect(snapshotDownloads()).toBeGreaterThan(0)
}

describe('update-existing: auto', () => {
  it('updates a checkout three commits behind in place: no snapshot download, clean tree, outputs', async () => {
    const workspace = await lastJobsCheckout()
    server.resetStats()
    const run = await runActionWithPost({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expect(visibleLog(run)).not.toMatch(/::(error|warning)::/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      'cache-hit': 'true',
      mode: 'in-place',
      commit: head,
      ref: 'refs/heads/main',
      'snapshot-commit': '',
      'bundle-applied': 'false',
      'download-seconds': '0.000'
    })
    expect(Number(run.outputs['download-bytes'])).toBeGreaterThan(0)
    await expectCleanAtHead(workspace)
    await expect(fs.access(path.join(workspace, 'stray.txt'))).rejects.toThrow()
    await expect(fs.access(path.join(workspace, 'build'))).rejects.toThrow()
    expect(snapshotDownloads()).toBe(0)
    expect(server.requests.some(r => r.path.endsWith('/ensure-refs'))).toBe(true)
    expect(uploadPacks()).toBeGreaterThan(0)
    expect(run.stdout).toContain('updating it in place to branch main')
    expect(run.summary).toContain('in-place')
    // The post step removed the credentials the update configured, as after a restore.
    expect(run.post.exitCode).toBe(0)
    expect(await listDir(run.runnerTemp)).toEqual([])
    await expect(git(workspace, 'config', '--get-all', 'include.path')).rejects.toThrow()
    expect(await git(workspace, 'remote', 'get-url', 'origin')).toBe(mirror.upstreamUrl)
  })

  it('takes an origin spelled differently for the same repository', async () => {
    const workspace = await lastJobsCheckout()
    const url = new URL(mirror.upstreamUrl)
    const spelled = `https://x-access-token:secret@${url.host.toUpperCase()}${url.pathname}.git/`
    await git(workspace, 'remote', 'set-url', 'origin', spelled)
    server.resetStats()
    const run = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['mode']).toBe('in-place')
    expect(snapshotDownloads()).toBe(0)
    await expectCleanAtHead(workspace)
  })

  it('a checkout at the wanted commit already needs no fetch, and its edits are undone', async () => {
    const workspace = await lastJobsCheckout()
    const first = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expect(first.outputs['mode']).toBe('in-place')
    await fs.writeFile(path.join(workspace, 'stray.txt'), 'again')
    await fs.appendFile(path.join(workspace, 'docs', 'README.md'), 'an edit to undo\n')
    server.resetStats()
    const again = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expect(again.exitCode).toBe(0)
    expect(again.outputs).toMatchObject({ mode: 'in-place', commit: head, 'download-bytes': '0' })
    expect(uploadPacks()).toBe(0)
    await expectCleanAtHead(workspace)
  })
})

describe('checkouts that take the snapshot path', () => {
  it('update-existing: false restores the snapshot over a checkout that qualifies', async () => {
    const workspace = await lastJobsCheckout()
    server.resetStats()
    const run = await runAction({
      inputs: inputs({ 'update-existing': 'false' }),
      env: PUSH_TO_MAIN(),
      workspace
    })
    expectSnapshotRestore(run)
    expect(run.stdout).not.toContain('in place')
    await expectCleanAtHead(workspace)
  })

  it('a checkout of another repository', async () => {
    const workspace = await lastJobsCheckout()
    await git(workspace, 'remote', 'set-url', 'origin', OTHER_URL)
    server.resetStats()
    const run = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expectSnapshotRestore(run)
    expect(run.stdout).toContain(
      `Not updating ${workspace} in place: its origin is ${OTHER_URL}, not ${mirror.upstreamUrl}; restoring the snapshot.`
    )
    expect(await git(workspace, 'config', 'remote.origin.url')).toBe(mirror.upstreamUrl)
    await expectCleanAtHead(workspace)
  })

  it('a broken .git', async () => {
    const workspace = await lastJobsCheckout()
    await fs.writeFile(path.join(workspace, '.git', 'HEAD'), 'garbage\n')
    server.resetStats()
    const run = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expectSnapshotRestore(run)
    expect(run.stdout).toMatch(
      /Not updating \S+ in place: (git cannot use it|its \.git is not a usable repository)/
    )
    await expectCleanAtHead(workspace)
  })

  it('a checkout in the middle of a merge', async () => {
    const workspace = await lastJobsCheckout()
    await fs.writeFile(path.join(workspace, '.git', 'MERGE_HEAD'), `${a}\n`)
    server.resetStats()
    const run = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expectSnapshotRestore(run)
    expect(run.stdout).toContain('in place: a merge is in progress; restoring the snapshot.')
    await expectCleanAtHead(workspace)
  })

  it('a target that is not a git checkout', async () => {
    const workspace = await fs.mkdtemp(path.join(root, 'plain-'))
    await fs.writeFile(path.join(workspace, 'notes.txt'), 'not a repository')
    server.resetStats()
    const run = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expectSnapshotRestore(run)
    expect(run.stdout).toContain(
      'in place: there is no git checkout in it; restoring the snapshot.'
    )
    await expectCleanAtHead(workspace)
  })

  it('a fetch that passes its budget (unrelated history) is cut off, then the snapshot', async () => {
    const workspace = await fs.mkdtemp(path.join(root, 'unrelated-'))
    await execTool('git', ['init', '-q', '-b', 'main', workspace])
    await fs.writeFile(path.join(workspace, 'other.txt'), 'another history\n')
    await execTool('git', ['-C', workspace, 'add', '.'])
    const identity = ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid']
    await execTool('git', ['-C', workspace, ...identity, 'commit', '-q', '-m', 'unrelated'])
    await execTool('git', ['-C', workspace, 'remote', 'add', 'origin', mirror.upstreamUrl])
    // Slow enough that the pack is still arriving when it passes the budget.
    server.setOptions({ faults: { gitRateLimitBytesPerSecond: 64 * 1024 } })
    server.resetStats()
    try {
      const run = await runActionWithPost({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
      expectSnapshotRestore(run)
      expect(run.stdout).toMatch(
        /in place: the fetch passed [\d.]+ KiB, 25% of the snapshot's size, so the checkout is too far behind; restoring the snapshot\./
      )
      await expectCleanAtHead(workspace)
      expect(await listDir(run.runnerTemp)).toEqual([])
    } finally {
      server.setOptions({})
    }
  })

  it('a failure after the tree started to change ends in the snapshot, replacing the tree', async () => {
    // A store that lost the blob of a file the job edited: examining and fetching work, the
    // checkout cannot restore that file. The pack is unpacked so one object can be deleted.
    const workspace = await lastJobsCheckout()
    await unpackObjects(workspace)
    const edited = (await git(workspace, 'ls-files', 'src')).split('\n')[0]
    const blob = await git(workspace, 'rev-parse', `HEAD:${edited}`)
    expect(await git(mirror.bareDir, 'rev-parse', `${head}:${edited}`)).toBe(blob)
    await fs.rm(path.join(workspace, '.git', 'objects', blob.slice(0, 2), blob.slice(2)))
    await fs.writeFile(path.join(workspace, edited), 'edited by the last job\n')
    server.resetStats()
    const run = await runAction({ inputs: inputs(), env: PUSH_TO_MAIN(), workspace })
    expectSnapshotRestore(run)
    expect(run.stdout).toMatch(
      /::warning::Updating \S+ in place failed after the tree had started to change \(.+\); put it back as the job found it \(HEAD at [0-9a-f]{40} on main\); restoring the snapshot\./
    )
    expect(uploadPacks()).toBeGreaterThan(0)
    await expectCleanAtHead(workspace)
    expect(await git(workspace, 'cat-file', '-t', blob)).toBe('blob')
  })

  it('refuses an invalid update-existing value, naming the input and the allowed values', async () => {
    const workspace = await lastJobsCheckout()
    server.resetStats()
    const run = await runAction({
      inputs: inputs({ 'update-existing': 'true' }),
      env: PUSH_TO_MAIN(),
      workspace
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      "::error::Input 'update-existing': 'true' is not allowed; use auto or false"
    )
    expect(server.requests).toEqual([])
    expect(await git(workspace, 'rev-parse', 'HEAD')).toBe(a)
  })
})
