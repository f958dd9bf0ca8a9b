/**
 * RUNNER_TEMP on another filesystem than the target, end to end on dist/index.js: a small
 * tmpfs mounted by the test (root is needed, as in CI). The download then goes to a hidden
 * directory beside the target, which is removed afterwards; and with the runner cache under
 * RUNNER_TOOL_CACHE on that tmpfs too, the snapshot is kept by copying it across filesystems
 * (a rename cannot), and the next job restores from the copy after a 304.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { execTool, makeMirror, makeSnapshot, type Snapshot } from './support/fixtures.js'
import { listDir, runActionWithPost, visibleLog, type ActionRun } from './support/run-action.js'
import { git } from './support/tree.js'

let root: string
let tmpfs: string
let mounted = false
let upstreamUrl: string
let snapshot: Snapshot
let server: CachewServer

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-other-fs-'))
  const mirror = await makeMirror(path.join(root, 'repo'), {
    files: 120,
    commits: 2,
    fileSize: 8192
  })
  upstreamUrl = mirror.upstreamUrl
  snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  server = await startCachewServer()
  server.addRepository(upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
  tmpfs = path.join(root, 'tmpfs')
  await fs.mkdir(tmpfs)
  await execTool('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', tmpfs])
  mounted = true
}, 120_000)

afterAll(async () => {
  await server?.close()
  if (mounted) await execTool('umount', [tmpfs])
  await fs.rm(root, { recursive: true, force: true })
})

/** A job's directories: the workspace in a parent of its own, RUNNER_TEMP on the tmpfs. */
async function jobDirectories(): Promise<{
  parent: string
  workspace: string
  runnerTemp: string
}> {
  const parent = await fs.mkdtemp(path.join(root, 'job-'))
  const workspace = path.join(parent, 'ws')
  await fs.mkdir(workspace)
  const runnerTemp = await fs.mkdtemp(path.join(tmpfs, 'runner-temp-'))
  expect((await fs.stat(runnerTemp)).dev).not.toBe((await fs.stat(workspace)).dev)
  return { parent, workspace, runnerTemp }
}

async function expectRestored(run: ActionRun, parent: string): Promise<void> {
  expect(visibleLog(run)).not.toMatch(/::(error|warning)::/)
  expect(run.exitCode).toBe(0)
  expect(run.outputs).toMatchObject({ 'cache-hit': 'true', commit: snapshot.commit })
  expect(await git(run.workspace, 'status', '--porcelain', '--ignored')).toBe('')
  // Nothing beside the target and nothing in RUNNER_TEMP, the post step's cleanup included.
  expect(await listDir(parent)).toEqual(['ws'])
  expect(await listDir(run.runnerTemp)).toEqual([])
}

function downloadedBeside(run: ActionRun, parent: string): void {
  const beside = path.join(parent, '.cachew-download-')
  expect(run.stdout).toContain(
    `RUNNER_TEMP (${run.runnerTemp}) is on another filesystem than ${run.workspace}; ` +
      `downloading into ${beside}`
  )
}

describe('RUNNER_TEMP on a tmpfs, the target on another filesystem', () => {
  it('downloads beside the target, even when the tmpfs could not hold the snapshot', async () => {
    const { parent, workspace, runnerTemp } = await jobDirectories()
    // Fill the tmpfs (outside RUNNER_TEMP) until the snapshot no longer fits in it.
    const { bavail, bsize } = await fs.statfs(tmpfs)
    const filler = path.join(tmpfs, 'filler')
    await fs.writeFile(filler, Buffer.alloc(bavail * bsize - Math.floor(snapshot.size / 2)))
    try {
      const free = await fs.statfs(tmpfs)
      expect(free.bavail * free.bsize).toBeLessThan(snapshot.size)
      server.resetStats()
      const run = await runActionWithPost({
        inputs: { 'server-url': server.url, repository: upstreamUrl },
        workspace,
        runnerTemp
      })
      await expectRestored(run, parent)
      downloadedBeside(run, parent)
      await server.idle()
      expect(
        server.requests.filter(r => r.endpoint === 'snapshot.tar.zst' && r.method === 'GET')
      ).not.toEqual([])
    } finally {
      await fs.rm(filler, { force: true })
    }
  })

  it('keeps the snapshot in a runner cache on the tmpfs by copying it; the next job uses the copy after a 304', async () => {
    const toolCache = await fs.mkdtemp(path.join(tmpfs, 'tool-cache-'))
    const job = async () => {
      const { parent, workspace, runnerTemp } = await jobDirectories()
      const run = await runActionWithPost({
        inputs: { 'server-url': server.url, repository: upstreamUrl, 'runner-cache': 'true' },
        env: { RUNNER_ENVIRONMENT: 'self-hosted', RUNNER_TOOL_CACHE: toolCache },
        workspace,
        runnerTemp
      })
      await expectRestored(run, parent)
      return { run, parent }
    }

    server.resetStats()
    const first = await job()
    expect(first.run.outputs['snapshot-source']).toBe('server')
    // The spool was beside the target, on another filesystem than the cache: no rename.
    downloadedBeside(first.run, first.parent)
    expect((await fs.stat(toolCache)).dev).not.toBe((await fs.stat(first.parent)).dev)
    expect(first.run.stdout).toContain('Kept the snapshot in the runner cache for the next job')
    const [repository, ...others] = await fs.readdir(path.join(toolCache, 'cachew-restore'))
    expect(others).toEqual([])
    const directory = path.join(toolCache, 'cachew-restore', repository)
    const entry = JSON.parse(await fs.readFile(path.join(directory, 'entry.json'), 'utf8')) as {
      file: string
      etag: string
    }
    // The copy, whole, and no half-written copy left beside it.
    expect((await fs.readdir(directory)).sort()).toEqual(['entry.json', entry.file].sort())
    expect(await fs.readFile(path.join(directory, entry.file))).toEqual(
      await fs.readFile(snapshot.file)
    )

    await server.idle()
    server.resetStats()
    const second = await job()
    expect(second.run.outputs['snapshot-source']).toBe('runner-cache')
    expect(second.run.outputs['download-bytes']).toBe('0')
    expect(second.run.stdout).toContain('The snapshot kept on this runner is current')
    await server.idle()
    expect(
      server.requests
        .filter(r => r.endpoint === 'snapshot.tar.zst')
        .map(r => ({ method: r.method, status: r.status, ifNoneMatch: r.headers['if-none-match'] }))
    ).toEqual([{ method: 'HEAD', status: 304, ifNoneMatch: entry.etag }])
  })
})
