/**
 * An update in place that fails after the tree started to change, followed by a snapshot
 * restore that fails too (cachew answers 500 to every snapshot GET), end to end on
 * dist/index.js: the checkout is put back first, so the job finds the target exactly as it
 * was (HEAD, its branch, the index, every file), the step fails saying why, and nothing is
 * left in RUNNER_TEMP or beside the target. When putting back fails as well, the warning says
 * what state the target is in. A cancelled job puts it back the same way and stops.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import {
  addCommit,
  execTool,
  makeMirror,
  makeSnapshot,
  SPECIAL_ENTRIES,
  type Mirror
} from './support/fixtures.js'
import { listDir, runAction, visibleLog, type ActionRun } from './support/run-action.js'
import { git, manifest, referenceExtraction } from './support/tree.js'

let root: string
let server: CachewServer
let mirror: Mirror
let snapshotFile: string
let a: string // the snapshot's commit: where last job's checkout is
let head: string // main, three commits past the snapshot: the workflow's commit

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-put-back-'))
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

const PUSH_TO_MAIN = (): Record<string, string> => ({
  GITHUB_SHA: head,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'push'
})

/** The change files the three commits after the snapshot add, oldest first. */
function addedAfterSnapshot(): string[] {
  const n = mirror.commits.length
  return [n - 3, n - 2, n - 1].map(i => `changes/change-${i}.md`)
}

/** Last job's checkout (the snapshot, extracted) at parent/ws, in a parent of its own. */
async function lastJobsCheckout(): Promise<{ parent: string; workspace: string }> {
  const parent = await fs.mkdtemp(path.join(root, 'job-'))
  const workspace = path.join(parent, 'ws')
  await referenceExtraction(snapshotFile, workspace)
  return { parent, workspace }
}

/** What the job finds: HEAD, its branch, status (ignored files too) and every file. */
async function found(workspace: string) {
  return {
    head: await git(workspace, 'rev-parse', 'HEAD'),
    symref: await git(workspace, 'symbolic-ref', 'HEAD'),
    main: await git(workspace, 'rev-parse', 'refs/heads/main'),
    index: await git(workspace, 'ls-files', '--stage'),
    status: await git(workspace, 'status', '--porcelain', '--ignored'),
    tree: await manifest(workspace, relative => relative === '.git' || relative.startsWith('.git/'))
  }
}

/** Turns the repository's packs into loose objects, so that single objects can be lost. */
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

/**
 * The workflow's commit already local (an earlier job fetched it), with the blob of `lost`
 * (a path at `commit`) lost from the store: no fetch, and a checkout that fails there.
 */
async function loseBlob(workspace: string, commit: string, lost: string): Promise<void> {
  await execTool('git', [
    '-C',
    workspace,
    'fetch',
    '-q',
    mirror.bareDir,
    '+refs/heads/main:refs/remotes/origin/main'
  ])
  await unpackObjects(workspace)
  const blob = await git(workspace, 'rev-parse', `${commit}:${lost}`)
  await fs.rm(path.join(workspace, '.git', 'objects', blob.slice(0, 2), blob.slice(2)))
}

/** A required smudge filter, as a checkout's .git/config and info/attributes can carry. */
async function addFilter(workspace: string, name: string, command: string, paths: string[]) {
  await git(workspace, 'config', `filter.${name}.smudge`, command)
  await git(workspace, 'config', `filter.${name}.required`, 'true')
  const attributes = path.join(workspace, '.git', 'info', 'attributes')
  await fs.mkdir(path.dirname(attributes), { recursive: true })
  await fs.appendFile(attributes, paths.map(p => `${p} filter=${name}\n`).join(''))
}

/** Runs the action while cachew answers 500 (without delay) to every snapshot GET. */
async function runWithSnapshotDown(workspace: string): Promise<ActionRun> {
  server.setOptions({ faults: { statusFor: { status: 500, retryAfterSeconds: 0 } } })
  server.resetStats()
  try {
    return await runAction({
      inputs: { 'server-url': server.url, repository: mirror.upstreamUrl },
      env: PUSH_TO_MAIN(),
      workspace
    })
  } finally {
    server.setOptions({})
  }
}

function expectSnapshotRefused(run: ActionRun): void {
  expect(run.exitCode).toBe(1)
  expect(run.stdout).toMatch(/::error::cachew answered HTTP 500 for the snapshot \(/)
  expect(visibleLog(run)).not.toMatch(/\n\s+at /)
  const gets = server.requests.filter(r => r.method === 'GET' && r.endpoint === 'snapshot.tar.zst')
  expect(gets.length).toBeGreaterThan(0)
  expect(gets.every(r => r.status === 500)).toBe(true)
}

async function undoDirectories(workspace: string): Promise<string[]> {
  const names = await fs.readdir(path.join(workspace, '.git'))
  return names.filter(name => name.startsWith('cachew-in-place-undo-'))
}

async function expectNothingLeft(run: ActionRun, parent: string): Promise<void> {
  expect(await listDir(run.runnerTemp)).toEqual([])
  expect(await listDir(parent)).toEqual(['ws'])
  expect(await undoDirectories(run.workspace)).toEqual([])
}

describe('an update in place that fails after the tree changed, then a snapshot that fails', () => {
  it('leaves a clean checkout as the job found it: HEAD, branch, index, status, files', async () => {
    const { parent, workspace } = await lastJobsCheckout()
    // The newest file's blob is lost: the checkout writes the files before it, moves HEAD and
    // main to the workflow's commit, and fails.
    const [, , newest] = addedAfterSnapshot()
    await loseBlob(workspace, head, newest)
    const before = await found(workspace)
    expect(before).toMatchObject({ head: a, symref: 'refs/heads/main', main: a, status: '' })

    const run = await runWithSnapshotDown(workspace)
    expectSnapshotRefused(run)
    expect(run.stdout).toContain(
      `::warning::Updating ${workspace} in place failed after the tree had started to change ` +
        `(error: unable to read sha1 file of ${newest} (`
    )
    expect(run.stdout).toContain(
      `); put it back as the job found it (HEAD at ${a} on main); restoring the snapshot.`
    )
    expect(await found(workspace)).toEqual(before)
    expect(await git(workspace, 'status', '--porcelain')).toBe('')
    // main had moved to the workflow's commit before it was put back.
    const mainLog = await git(workspace, 'log', '-g', '--format=%H %gs', 'refs/heads/main')
    expect(mainLog.split('\n')[0]).toBe(
      `${a} cachew-restore: put back after a failed update in place`
    )
    expect(mainLog).toContain(head)
    await expectNothingLeft(run, parent)
  })

  it('leaves a dirty checkout as the job found it: untracked, ignored and edited files too', async () => {
    const { parent, workspace } = await lastJobsCheckout()
    await fs.writeFile(path.join(workspace, 'stray.txt'), 'left by the last job\n')
    await fs.appendFile(path.join(workspace, '.git', 'info', 'exclude'), 'build/\n')
    await fs.mkdir(path.join(workspace, 'build'))
    await fs.writeFile(path.join(workspace, 'build', 'out.o'), 'object code')
    await fs.appendFile(path.join(workspace, 'docs', 'README.md'), 'a local edit\n')
    await fs.rm(path.join(workspace, 'src', 'link-to-readme.md'))
    // A filter stops the checkout at the newest file (git gives up there); another one shows
    // that the files before it had been written by then.
    const [oldest, , newest] = addedAfterSnapshot()
    const witness = path.join(root, `witness-${path.basename(parent)}`)
    await addFilter(workspace, 'witness', `touch '${witness}' && cat`, [oldest])
    await addFilter(workspace, 'broken', 'false', [newest])
    const before = await found(workspace)
    expect(before.status).toContain('?? stray.txt')
    expect(before.status).toContain('!! build/')

    const run = await runWithSnapshotDown(workspace)
    expectSnapshotRefused(run)
    expect(run.stdout).toMatch(
      /::warning::Updating \S+ in place failed after the tree had started to change \(.*filter.*\); put it back as the job found it/
    )
    await fs.access(witness)
    expect(await found(workspace)).toEqual(before)
    await expectNothingLeft(run, parent)
  })

  it('when putting back fails too, the warning says what state the target is in', async () => {
    const { parent, workspace } = await lastJobsCheckout()
    const edited = (await git(workspace, 'ls-files', 'src'))
      .split('\n')
      .find(file => file !== SPECIAL_ENTRIES.symlink)!
    await fs.appendFile(path.join(workspace, edited), 'a local edit\n')
    // The checkout fails on a lost blob of the workflow's commit, and putting back on a lost
    // blob of the job's commit (the README, which the checkout had rewritten).
    const [, , newest] = addedAfterSnapshot()
    await loseBlob(workspace, head, newest)
    const readme = await git(workspace, 'rev-parse', `${a}:docs/README.md`)
    await fs.rm(path.join(workspace, '.git', 'objects', readme.slice(0, 2), readme.slice(2)))

    const run = await runWithSnapshotDown(workspace)
    expectSnapshotRefused(run)
    const [undo] = await undoDirectories(workspace)
    expect(run.stdout).toContain(
      `::warning::Updating ${workspace} in place failed after the tree had started to change ` +
        `(error: unable to read sha1 file of ${newest} (`
    )
    expect(run.stdout).toContain(
      `), and putting it back failed (error: unable to read sha1 file of docs/README.md (${readme})): ` +
        `HEAD is at ${a} on main, the index is as it was, its files are partly at ${a} and ` +
        `partly at ${head}; 1 untracked or edited entry it held is in ` +
        `${path.join(workspace, '.git', undo, 'tree')}. Restoring the snapshot, which ` +
        'replaces it; should that fail as well, it stays so.'
    )
    expect(await fs.readFile(path.join(workspace, '.git', undo, 'tree', edited), 'utf8')).toMatch(
      /a local edit\n$/
    )
    expect(await listDir(run.runnerTemp)).toEqual([])
    expect(await listDir(parent)).toEqual(['ws'])
  })
})

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Processes whose command line names this path (a filter git left running, say). */
async function processesNaming(file: string): Promise<string[]> {
  const listing = await execTool('ps', ['-eo', 'pid=,args='])
  return listing.split('\n').filter(line => line.includes(file) && !line.includes('ps -eo'))
}

describe('a job cancelled while its checkout is updated in place', () => {
  it('puts the checkout back, stops there, and exits non-zero within 7.5 s', async () => {
    const { parent, workspace } = await lastJobsCheckout()
    await fs.writeFile(path.join(workspace, 'stray.txt'), 'left by the last job\n')
    // A filter that takes its time over the newest file: the files before it are written.
    const [, , newest] = addedAfterSnapshot()
    const started = path.join(root, `started-${path.basename(parent)}`)
    await addFilter(workspace, 'slow', `touch '${started}' && sleep 60 && cat`, [newest])
    const before = await found(workspace)
    server.resetStats()
    let signalledAt = 0
    const run = await runAction({
      inputs: { 'server-url': server.url, repository: mirror.upstreamUrl },
      env: PUSH_TO_MAIN(),
      workspace,
      onStart: child => {
        const checkingOut = () =>
          fs.access(started).then(
            () => true,
            () => false
          )
        void until(checkingOut, 'the checkout to reach the slow filter').then(() => {
          signalledAt = Date.now()
          child.kill('SIGINT')
        })
      }
    })
    const exitedAfterMs = Date.now() - signalledAt
    expect(signalledAt).toBeGreaterThan(0)
    expect(run.exitCode).toBe(1)
    expect(exitedAfterMs).toBeLessThan(7500)
    expect(run.stdout).toContain(
      `::warning::Updating ${workspace} in place was cancelled after the tree had started to ` +
        `change; put it back as the job found it (HEAD at ${a} on main); stopping there.`
    )
    expect(run.stdout).toContain(
      '::error::The restore was cancelled (SIGINT): nothing was changed.'
    )
    expect(visibleLog(run)).not.toMatch(/\n\s+at /)
    expect(await found(workspace)).toEqual(before)
    // No snapshot restore was started, and the filter went with git.
    expect(server.requests.filter(r => r.endpoint === 'snapshot.tar.zst')).toEqual([
      expect.objectContaining({ method: 'HEAD' })
    ])
    expect(await processesNaming(started)).toEqual([])
    await expectNothingLeft(run, parent)
  })
})
