/**
 * End to end on dist/index.js, run as the runner runs it, against the project's
 * cachew-compatible server and against nginx: the restored tree equals GNU tar's
 * extraction of the same snapshot, failures leave the target as it was, RUNNER_TEMP clean.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { makeMirror, makeSnapshot, type Mirror, type Snapshot } from './support/fixtures.js'
import { pythonTar } from './support/hostile-tar.js'
import { startNginxServing } from './support/nginx.js'
import { tempDirectory } from './support/temp.js'
import { listDir, runAction, runActionWithPost, visibleLog } from './support/run-action.js'
import {
  git,
  gitBookkeeping,
  manifest,
  referenceExtraction,
  type ManifestEntry
} from './support/tree.js'

let root: string
let mirror: Mirror
let pzstdSnapshot: Snapshot
let zstdSnapshot: Snapshot
let server: CachewServer
let reference: string

/** Repositories the server knows besides the real one, each with a crafted snapshot. */
const HOSTILE_URL = 'https://github.example/evil/escape'
const TRUNCATED_URL = 'https://github.example/acme/truncated'
const ZSTD_URL = 'https://github.example/acme/single-frame'

function zstdCompress(input: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c'], { input })
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-restore-'))
  // Large enough (a few MiB) for several 1 MiB ranged requests.
  mirror = await makeMirror(path.join(root, 'repo'), {
    files: 300,
    commits: 2,
    fileSize: 16 * 1024
  })
  pzstdSnapshot = await makeSnapshot(mirror, path.join(root, 'pzstd.tar.zst'), {
    compressor: 'pzstd'
  })
  zstdSnapshot = await makeSnapshot(mirror, path.join(root, 'zstd.tar.zst'), { compressor: 'zstd' })
  reference = path.join(root, 'reference')
  await referenceExtraction(pzstdSnapshot.file, reference)

  // A hostile archive: a harmless file, then an entry that climbs out of the target.
  const hostile = await pythonTar('gnu', [
    { name: './ok.txt', data: 'fine' },
    { name: './../../escaped.txt', data: 'pwned' }
  ])
  await fs.writeFile(path.join(root, 'hostile.tar.zst'), zstdCompress(hostile))
  // A snapshot cut in the middle: what a broken server or disk would hand over.
  const whole = await fs.readFile(pzstdSnapshot.file)
  await fs.writeFile(
    path.join(root, 'truncated.tar.zst'),
    whole.subarray(0, Math.floor(whole.length * 0.6))
  )

  server = await startCachewServer()
  server.addRepository(
    mirror.upstreamUrl,
    { file: pzstdSnapshot.file, commit: pzstdSnapshot.commit },
    mirror
  )
  server.addRepository(ZSTD_URL, { file: zstdSnapshot.file, commit: zstdSnapshot.commit })
  server.addRepository(HOSTILE_URL, { file: path.join(root, 'hostile.tar.zst') })
  server.addRepository(TRUNCATED_URL, { file: path.join(root, 'truncated.tar.zst') })
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'server-url': server.url,
    repository: mirror.upstreamUrl,
    'download-chunk-size-mb': '1',
    ...extra
  }
}

async function expectSameTreeAsReference(dir: string): Promise<void> {
  const ignore = (relative: string): boolean => gitBookkeeping(relative)
  expect(await manifest(dir, ignore)).toEqual(await manifest(reference, ignore))
}

/** Every directory's mtime (ns) below `root`, .git's excepted (git writes there). */
async function directoryTimes(root: string): Promise<Map<string, bigint>> {
  const times = new Map<string, bigint>()
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name)
    const relative = path.relative(root, full)
    if (!entry.isDirectory() || relative === '.git' || relative.startsWith('.git/')) continue
    times.set(relative, (await fs.lstat(full, { bigint: true })).mtimeNs)
  }
  return times
}

async function expectCleanCheckout(dir: string, commit: string): Promise<void> {
  expect(await git(dir, 'rev-parse', 'HEAD')).toBe(commit)
  expect(await git(dir, 'status', '--porcelain')).toBe('')
}

/** A non-empty workspace in a directory of its own, and a manifest of that directory. */
async function workspaceWithContent(): Promise<{
  parent: string
  workspace: string
  before: ManifestEntry[]
}> {
  const parent = await tempDirectory('kept-')
  const workspace = path.join(parent, 'ws')
  await fs.mkdir(workspace)
  await fs.writeFile(path.join(workspace, 'keep.txt'), 'precious')
  return { parent, workspace, before: await manifest(parent) }
}

describe('restore from the cachew-compatible server', () => {
  it('restores a pzstd snapshot with ranged requests: same tree, modes, symlinks and HEAD as GNU tar', async () => {
    const run = await runActionWithPost({ inputs: inputs() })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    await expectSameTreeAsReference(run.workspace)
    await expectCleanCheckout(run.workspace, pzstdSnapshot.commit)
    expect(run.outputs).toMatchObject({
      'cache-hit': 'true',
      commit: pzstdSnapshot.commit,
      'snapshot-commit': pzstdSnapshot.commit,
      'bundle-applied': 'false',
      'download-bytes': String(pzstdSnapshot.size)
    })
    expect(Number(run.outputs['seconds'])).toBeGreaterThan(0)
    // The git access config stays for later steps until the post step removes it.
    expect(run.post.exitCode).toBe(0)
    expect(await listDir(run.runnerTemp)).toEqual([])
    expect(run.summary).toContain(pzstdSnapshot.commit.slice(0, 12))
    expect(run.summary).toContain('Download and extract')
    expect(run.stdout).toContain('::group::')
  })

  it('extracts in a thread of its own, started from the bundle itself', async () => {
    // With RUNNER_DEBUG the worker reports what it cost; its line proves the bundle started it.
    const run = await runAction({ inputs: inputs(), env: { RUNNER_DEBUG: '1' } })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/::debug::Extraction thread: [0-9.]+ s from its job's start/)
    await expectSameTreeAsReference(run.workspace)
    await expectCleanCheckout(run.workspace, pzstdSnapshot.commit)
    // The worker sets the directories' times last: they end as GNU tar leaves them (whole
    // seconds from the archive; a directory left with its time of extraction would differ to
    // the nanosecond).
    const times = await directoryTimes(run.workspace)
    expect(times.size).toBeGreaterThan(3)
    expect(times).toEqual(await directoryTimes(reference))
  })

  it('restores a single-frame zstd snapshot in one stream with download-concurrency 1', async () => {
    server.resetStats()
    const run = await runAction({
      inputs: inputs({ repository: ZSTD_URL, 'download-concurrency': '1' })
    })
    expect(run.exitCode).toBe(0)
    await expectSameTreeAsReference(run.workspace)
    const gets = server.requests.filter(r => r.path.endsWith('snapshot.tar.zst'))
    expect(gets).toHaveLength(1)
    expect(gets[0].headers['range']).toBeUndefined()
  })

  it('into a subdirectory that does not exist yet', async () => {
    const run = await runAction({ inputs: inputs({ path: 'nested/checkout' }) })
    expect(run.exitCode).toBe(0)
    await expectCleanCheckout(path.join(run.workspace, 'nested/checkout'), pzstdSnapshot.commit)
    expect(await listDir(run.workspace)).toEqual(['nested'])
  })

  it('replaces the content of a non-empty target after the new tree is complete', async () => {
    const workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'ws-'))
    await fs.writeFile(path.join(workspace, 'stale.txt'), 'old')
    const run = await runAction({ inputs: inputs(), workspace })
    expect(run.exitCode).toBe(0)
    await expectSameTreeAsReference(workspace)
  })

  it('refuses a hostile archive by entry name, writes nothing outside, leaves the target as it was', async () => {
    const { parent, workspace, before } = await workspaceWithContent()
    const run = await runAction({ inputs: inputs({ repository: HOSTILE_URL }), workspace })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::.*\.\.\/\.\.\/escaped\.txt/)
    expect(run.stdout).not.toMatch(/\n\s+at /) // no stack trace
    expect(await manifest(parent)).toEqual(before)
    await expect(fs.access(path.join(os.tmpdir(), 'escaped.txt'))).rejects.toThrow()
    expect(await listDir(run.runnerTemp)).toEqual([])
  })

  it('fails a truncated snapshot with a zstd error and keeps a non-empty target intact', async () => {
    const { parent, workspace, before } = await workspaceWithContent()
    const run = await runAction({ inputs: inputs({ repository: TRUNCATED_URL }), workspace })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::.*zstd/i)
    expect(await manifest(parent)).toEqual(before)
    expect(await listDir(run.runnerTemp)).toEqual([])
  })

  it('a miss is a warning and cache-hit=false; with fail-on-cache-miss it fails', async () => {
    const missing = 'https://github.example/acme/nothing-here'
    const miss = await runAction({ inputs: inputs({ repository: missing }) })
    expect(miss.exitCode).toBe(0)
    expect(miss.outputs['cache-hit']).toBe('false')
    expect(miss.stdout).toMatch(/::warning::cachew has no snapshot for this repository \(HTTP 404/)
    expect(await listDir(miss.workspace)).toEqual([])
    expect(await listDir(miss.runnerTemp)).toEqual([])

    const strict = await runAction({
      inputs: inputs({ repository: missing, 'fail-on-cache-miss': 'true' })
    })
    expect(strict.exitCode).toBe(1)
    expect(strict.stdout).toMatch(/::error::.*HTTP 404/)
  })

  it('401 names the authorization input; the right secret restores and never reaches the log', async () => {
    const secret = 'Bearer s3cr3t-t0ken-value'
    server.setOptions({ requireAuthorization: secret })
    try {
      const without = await runAction({ inputs: inputs() })
      expect(without.exitCode).toBe(1)
      expect(without.stdout).toMatch(/::error::.*HTTP 401.*'authorization' input/)

      const wrong = await runAction({ inputs: inputs({ authorization: 'Bearer wrong-value' }) })
      expect(wrong.exitCode).toBe(1)
      expect(wrong.stdout).toMatch(/::error::.*HTTP 403.*refused the credentials/)
      expect(visibleLog(wrong)).not.toContain('wrong-value')

      const right = await runActionWithPost({ inputs: inputs({ authorization: secret }) })
      expect(right.exitCode).toBe(0)
      expect(visibleLog(right) + visibleLog(right.post) + right.summary).not.toContain(
        's3cr3t-t0ken-value'
      )
      expect(await fs.readFile(path.join(right.workspace, '.git', 'config'), 'utf8')).not.toContain(
        's3cr3t'
      )
      await expectCleanCheckout(right.workspace, pzstdSnapshot.commit)
    } finally {
      server.setOptions({})
    }
  })

  it.each([
    ['download-concurrency', 'abc'],
    ['download-concurrency', '0'],
    ['download-concurrency', '-3'],
    ['download-concurrency', '100000'],
    ['download-chunk-size-mb', '0'],
    ['download-chunk-size-mb', '1e9'],
    ['server-url', 'not-a-url'],
    ['server-url', 'ftp://x/'],
    ['repository', ':::'],
    ['bundle', 'maybe']
  ])(
    'invalid %s=%p fails before any network or disk work, naming the input',
    async (name, value) => {
      server.resetStats()
      const run = await runAction({ inputs: inputs({ [name]: value }) })
      expect(run.exitCode).toBe(1)
      expect(run.stdout).toContain(`::error::Input '${name}'`)
      expect(run.stdout).not.toMatch(/\n\s+at /)
      expect(server.requests).toHaveLength(0)
      expect(await listDir(run.workspace)).toEqual([])
      expect(await listDir(run.runnerTemp)).toEqual([])
    }
  )
})

describe('restore from nginx serving the snapshot file (a server nobody here wrote)', () => {
  it('restores with ranged requests pinned by its ETag', async () => {
    const nginx = await startNginxServing(path.join(root, 'nginx-root'), {
      upstreamUrl: mirror.upstreamUrl,
      file: pzstdSnapshot.file,
      commit: pzstdSnapshot.commit
    })
    try {
      const run = await runActionWithPost({ inputs: inputs({ 'server-url': nginx.url }) })
      expect(run.stderr).toBe('')
      expect(run.exitCode).toBe(0)
      await expectSameTreeAsReference(run.workspace)
      await expectCleanCheckout(run.workspace, pzstdSnapshot.commit)
      expect(run.outputs['snapshot-commit']).toBe(pzstdSnapshot.commit)
      const log = await fs.readFile(nginx.accessLog, 'utf8')
      // Several requests, the ranged ones answered 206: the parallel path ran against nginx.
      expect(log.match(/ 206 /g)?.length ?? 0).toBeGreaterThan(1)
      expect(await listDir(run.runnerTemp)).toEqual([])
    } finally {
      await nginx.stop()
    }
  })
})
