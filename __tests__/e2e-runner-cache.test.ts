/**
 * The runner cache end to end, through dist/index.js: a self-hosted runner keeps the last
 * snapshot under RUNNER_TOOL_CACHE and the next job revalidates it (HEAD, If-None-Match)
 * instead of downloading it. Against the project's server and against nginx.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { makeMirror, makeSnapshot, type Mirror, type Snapshot } from './support/fixtures.js'
import { startNginxServing } from './support/nginx.js'
import {
  listDir,
  runActionWithPost as runAction,
  visibleLog,
  type ActionRun
} from './support/run-action.js'
import { git } from './support/tree.js'

let root: string
let mirror: Mirror
let snapshot: Snapshot
let server: CachewServer

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-runner-cache-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 120, commits: 2, fileSize: 8192 })
  snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'), {
    compressor: 'pzstd'
  })
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
}, 120_000)

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/** A self-hosted runner: its tool cache outlives the job; workspace and temp do not. */
async function selfHostedRunner(): Promise<{
  toolCache: string
  job: (inputs?: Record<string, string>, serverUrl?: string) => Promise<ActionRun>
}> {
  const toolCache = await fs.mkdtemp(path.join(root, 'tool-cache-'))
  const job = (inputs: Record<string, string> = {}, serverUrl = server.url) =>
    runAction({
      inputs: {
        'server-url': serverUrl,
        repository: mirror.upstreamUrl,
        'download-chunk-size-mb': '1',
        ...inputs
      },
      env: { RUNNER_ENVIRONMENT: 'self-hosted', RUNNER_TOOL_CACHE: toolCache }
    })
  return { toolCache, job }
}

interface Cached {
  entry: { etag: string; commit?: string; size: number; file: string }
  /** The snapshot file the entry names. */
  kept: string
  /** Every file of the repository's directory but the entry. */
  files: string[]
}

/** What the runner cache holds for the one repository it should know. */
async function cached(toolCache: string): Promise<Cached> {
  const cacheRoot = path.join(toolCache, 'cachew-restore')
  const [repository, ...others] = await fs.readdir(cacheRoot)
  expect(others).toEqual([])
  const directory = path.join(cacheRoot, repository)
  const entry = JSON.parse(
    await fs.readFile(path.join(directory, 'entry.json'), 'utf8')
  ) as Cached['entry']
  const files = (await fs.readdir(directory)).filter(f => f !== 'entry.json')
  return { entry, kept: path.join(directory, entry.file), files }
}

async function expectRestored(run: ActionRun): Promise<void> {
  expect(run.stderr).toBe('')
  expect(run.exitCode).toBe(0)
  expect(run.outputs['cache-hit']).toBe('true')
  expect(run.outputs.commit).toBe(snapshot.commit)
  expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
  expect(await listDir(run.runnerTemp)).toEqual([])
}

function snapshotRequests(): Array<{ method: string; status: number; ifNoneMatch?: string }> {
  return server.requests
    .filter(r => r.endpoint === 'snapshot.tar.zst')
    .map(r => ({ method: r.method, status: r.status, ifNoneMatch: r.headers['if-none-match'] }))
}

describe('runner cache', () => {
  it('keeps the snapshot after a download and restores the next job from it after a 304', async () => {
    const { toolCache, job } = await selfHostedRunner()
    server.resetStats()
    const first = await job()
    await expectRestored(first)
    expect(first.outputs['snapshot-source']).toBe('server')
    const { entry, kept, files } = await cached(toolCache)
    expect(entry).toMatchObject({
      commit: snapshot.commit,
      size: (await fs.stat(snapshot.file)).size
    })
    expect(files).toEqual([entry.file])
    expect(await fs.readFile(kept)).toEqual(await fs.readFile(snapshot.file))

    await server.idle()
    server.resetStats()
    const second = await job()
    await expectRestored(second)
    expect(second.outputs['snapshot-source']).toBe('runner-cache')
    expect(second.outputs['download-bytes']).toBe('0')
    // The extraction's time, still reported.
    expect(Number(second.outputs['download-seconds'])).toBeGreaterThan(0)
    expect(visibleLog(second)).toContain('The snapshot kept on this runner is current')
    expect(second.summary).toContain('kept on this runner')
    await server.idle()
    // One revalidation, answered 304, and no GET of the snapshot.
    expect(snapshotRequests()).toEqual([{ method: 'HEAD', status: 304, ifNoneMatch: entry.etag }])
  })

  it('downloads again and replaces the entry when the server has a new snapshot', async () => {
    const { toolCache, job } = await selfHostedRunner()
    await expectRestored(await job())
    const before = await cached(toolCache)

    // A regenerated snapshot: same content, a new file, so a new ETag.
    const regenerated = path.join(root, 'regenerated.tar.zst')
    await fs.copyFile(snapshot.file, regenerated)
    server.addRepository(mirror.upstreamUrl, { file: regenerated, commit: snapshot.commit }, mirror)
    try {
      await server.idle()
      server.resetStats()
      const run = await job()
      await expectRestored(run)
      expect(run.outputs['snapshot-source']).toBe('server')
      expect(visibleLog(run)).toContain('not current (the server answered 200)')
      await server.idle()
      expect(snapshotRequests().filter(r => r.method === 'GET').length).toBeGreaterThan(0)
      const after = await cached(toolCache)
      expect(after.entry.etag).not.toBe(before.entry.etag)
      expect(after.entry.file).not.toBe(before.entry.file)
    } finally {
      server.addRepository(
        mirror.upstreamUrl,
        { file: snapshot.file, commit: snapshot.commit },
        mirror
      )
    }
  })

  it('downloads again when the kept file is damaged, and keeps the good copy', async () => {
    const { toolCache, job } = await selfHostedRunner()
    await expectRestored(await job())
    const before = await cached(toolCache)
    // Same size, corrupted in the middle: only zstd's checks can tell.
    const handle = await fs.open(before.kept, 'r+')
    const size = (await handle.stat()).size
    await handle.write(Buffer.alloc(4096, 0x55), 0, 4096, Math.floor(size / 2))
    await handle.close()

    const run = await job()
    await expectRestored(run)
    expect(run.outputs['snapshot-source']).toBe('server')
    expect(visibleLog(run)).toMatch(
      /The snapshot kept on this runner is damaged .*downloading it instead/
    )
    const after = await cached(toolCache)
    expect(after.entry.file).not.toBe(before.entry.file)
    expect(await fs.readFile(after.kept)).toEqual(await fs.readFile(snapshot.file))
  })

  it('two jobs at once on one runner both restore, and leave one sound entry', async () => {
    const { toolCache, job } = await selfHostedRunner()
    const runs = await Promise.all([job(), job()])
    for (const run of runs) await expectRestored(run)
    const { kept } = await cached(toolCache)
    expect(await fs.readFile(kept)).toEqual(await fs.readFile(snapshot.file))
    const third = await job()
    await expectRestored(third)
    expect(third.outputs['snapshot-source']).toBe('runner-cache')
  })

  it('is off on GitHub-hosted runners by default, and with runner-cache: false', async () => {
    const toolCache = await fs.mkdtemp(path.join(root, 'hosted-tool-cache-'))
    for (const [environment, setting] of [
      ['github-hosted', ''],
      ['self-hosted', 'false']
    ]) {
      const run = await runAction({
        inputs: {
          'server-url': server.url,
          repository: mirror.upstreamUrl,
          ...(setting ? { 'runner-cache': setting } : {})
        },
        env: { RUNNER_ENVIRONMENT: environment, RUNNER_TOOL_CACHE: toolCache }
      })
      await expectRestored(run)
      expect(run.outputs['snapshot-source']).toBe('server')
    }
    expect(await listDir(toolCache)).toEqual([])
  })

  it('refuses an unknown runner-cache value, naming the input and the allowed values', async () => {
    const run = await runAction({
      inputs: { 'server-url': server.url, repository: mirror.upstreamUrl, 'runner-cache': 'yes' }
    })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run)).toContain(
      "Input 'runner-cache': 'yes' is not allowed; use auto, true or false"
    )
    expect(visibleLog(run)).not.toMatch(/\n\s+at /)
  })

  it('revalidates against nginx (a server nobody here wrote): 304, no second download', async () => {
    const nginx = await startNginxServing(path.join(root, 'nginx-root'), {
      upstreamUrl: mirror.upstreamUrl,
      file: snapshot.file,
      commit: snapshot.commit
    })
    try {
      const { job } = await selfHostedRunner()
      const first = await job({ bundle: 'false' }, nginx.url)
      await expectRestored(first)
      const downloads = (await fs.readFile(nginx.accessLog, 'utf8')).split('\n').length
      const second = await job({ bundle: 'false' }, nginx.url)
      await expectRestored(second)
      expect(second.outputs['snapshot-source']).toBe('runner-cache')
      const later = (await fs.readFile(nginx.accessLog, 'utf8')).split('\n').slice(downloads - 1)
      const snapshotLines = later.filter(line => line.includes('snapshot.tar.zst'))
      expect(snapshotLines).toHaveLength(1)
      expect(snapshotLines[0]).toMatch(/"HEAD [^"]*snapshot\.tar\.zst HTTP\/1\.1" 304 /)
    } finally {
      await nginx.stop()
    }
  })
})
