/**
 * The parallel ranged download end to end on dist/index.js, against the project's server
 * with each fault it can inject: every restore must end with the right tree and HEAD, a
 * clean git status and an empty RUNNER_TEMP.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { exec } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import {
  startCachewServer,
  type CachewServer,
  type ServerOptions
} from './support/cachew-server.js'
import { selfSignedIdentity } from './support/certificate.js'
import { makeMirror, makeSnapshot, type Mirror, type Snapshot } from './support/fixtures.js'
import { tempDirectory } from './support/temp.js'
import { listDir, runActionWithPost as runAction, type ActionRun } from './support/run-action.js'
import { git } from './support/tree.js'

const MiB = 1024 * 1024
const execShell = promisify(exec)
let root: string
let mirror: Mirror
let snapshot: Snapshot
let server: CachewServer

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-download-'))
  // Big enough for several 1 MiB chunks.
  mirror = await makeMirror(path.join(root, 'repo'), {
    files: 300,
    commits: 2,
    fileSize: 64 * 1024
  })
  snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'), {
    compressor: 'pzstd'
  })
  expect(snapshot.size).toBeGreaterThan(3 * MiB)
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function snapshotGets(): CachewServer['requests'] {
  return server.requests.filter(r => r.method === 'GET' && r.path.endsWith('/snapshot.tar.zst'))
}

async function restoreWith(
  options: ServerOptions,
  extra: Record<string, string> = {}
): Promise<ActionRun> {
  server.setOptions(options)
  server.resetStats()
  try {
    return await runAction({
      inputs: {
        'server-url': server.url,
        repository: mirror.upstreamUrl,
        'download-chunk-size-mb': '1',
        'download-concurrency': '4',
        ...extra
      }
    })
  } finally {
    server.setOptions({})
  }
}

async function expectRestored(run: ActionRun): Promise<void> {
  if (run.exitCode !== 0) throw new Error(`action failed:\n${run.stdout}\n${run.stderr}`)
  expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(snapshot.commit)
  expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
  expect(await git(run.workspace, 'fsck', '--no-dangling', '--no-progress')).toBe('')
  expect(run.outputs['cache-hit']).toBe('true')
  expect(await listDir(run.runnerTemp)).toEqual([])
}

describe('parallel ranged download', () => {
  it('overlaps several requests, each pinned with If-Match to the ETag of the discovery response', async () => {
    const run = await restoreWith({ faults: { rateLimitBytesPerSecond: 4 * MiB } })
    await expectRestored(run)
    const gets = snapshotGets()
    expect(gets.length).toBe(Math.ceil(snapshot.size / MiB))
    expect(gets[0].headers['range']).toBe(`bytes=0-${MiB - 1}`)
    const etags = new Set(gets.slice(1).map(r => r.headers['if-match']))
    expect(etags.size).toBe(1)
    expect([...etags][0]).toMatch(/^"/)
    expect(server.maxInFlight).toBe(4)
    // Kept-alive connections: fewer connections than requests.
    expect(new Set(gets.map(r => r.connection)).size).toBeLessThan(gets.length)
  })

  it('starts extracting before the download ends', async () => {
    const parent = await tempDirectory('overlap-')
    const workspace = path.join(parent, 'ws')
    await fs.mkdir(workspace)
    server.setOptions({ faults: { rateLimitBytesPerSecond: 512 * 1024 } })
    server.resetStats()
    let extractedWhileDownloading = false
    let watching = true
    const watcher = (async () => {
      while (watching) {
        const downloading = snapshotGets().some(r => r.endedAt === undefined)
        for (const name of await fs.readdir(parent)) {
          if (!name.startsWith('.cachew-restore-')) continue
          const staged = await fs.readdir(path.join(parent, name)).catch(() => [])
          if (staged.length > 0 && downloading) extractedWhileDownloading = true
        }
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    })()
    try {
      const run = await runAction({
        inputs: {
          'server-url': server.url,
          repository: mirror.upstreamUrl,
          'download-chunk-size-mb': '1',
          'download-concurrency': '2'
        },
        workspace
      })
      await expectRestored(run)
      // A progress line every few seconds while it downloads.
      expect(run.stdout).toMatch(
        /Downloaded [\d.]+ MiB of [\d.]+ MiB \(\d+%\) at [\d.]+ MB\/s, \d request\(s\) in flight, \d+ retr(y|ies)/
      )
    } finally {
      watching = false
      await watcher
      server.setOptions({})
    }
    expect(extractedWhileDownloading).toBe(true)
  })

  it('falls back to one stream on a cold serve (no ETag, no length, Range ignored) and asks only once', async () => {
    const run = await restoreWith({ coldServe: true })
    await expectRestored(run)
    expect(snapshotGets()).toHaveLength(1)
    expect(run.outputs['snapshot-commit']).toBe('')
  })

  it('falls back to one stream on an old server that ignores Range', async () => {
    const run = await restoreWith({ noRangeSupport: true })
    await expectRestored(run)
    expect(snapshotGets()).toHaveLength(1)
  })
})

describe('over https, direct', () => {
  let tlsServer: CachewServer
  let certificate: string

  beforeAll(async () => {
    const identity = await selfSignedIdentity(path.join(root, 'tls'), 'localhost')
    certificate = identity.certFile
    tlsServer = await startCachewServer({}, 0, identity)
    tlsServer.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit })
  })
  afterAll(async () => {
    await tlsServer?.close()
  })

  it('takes the chunks over kept-alive TLS connections, one per request in flight', async () => {
    const run = await runAction({
      inputs: {
        'server-url': tlsServer.url.replace('127.0.0.1', 'localhost'),
        repository: mirror.upstreamUrl,
        'download-chunk-size-mb': '1',
        'download-concurrency': '3'
      },
      env: { NODE_EXTRA_CA_CERTS: certificate }
    })
    await expectRestored(run)
    await tlsServer.idle()
    const gets = tlsServer.requests.filter(r => r.method === 'GET')
    expect(gets.length).toBe(Math.ceil(snapshot.size / MiB))
    // The discovery's connection (Node's client) and one of the action's own per request in
    // flight, each carrying chunk after chunk.
    expect(new Set(gets.map(r => r.connection)).size).toBeLessThanOrEqual(3 + 1)
    expect(gets.length).toBeGreaterThan(3 + 1)
  })
})

describe('faults survived', () => {
  it('a connection reset mid-chunk resumes that chunk from the byte where it broke', async () => {
    const run = await restoreWith({ faults: { resetAfterBytes: { bytes: 300_000, times: 2 } } })
    await expectRestored(run)
    expect(server.faultsFired.resetAfterBytes).toBe(2)
    const starts = snapshotGets().map(r =>
      Number(/bytes=(\d+)-/.exec(r.headers['range'] ?? '')?.[1])
    )
    expect(starts.some(start => start % MiB !== 0)).toBe(true)
  })

  it('a stalled response is aborted after stall-timeout-seconds and retried', async () => {
    const run = await restoreWith(
      { faults: { stallAfterBytes: { bytes: 100_000, ms: 20_000, times: 1 } } },
      { 'stall-timeout-seconds': '1' }
    )
    await expectRestored(run)
    expect(server.faultsFired.stallAfterBytes).toBe(1)
    expect(snapshotGets().some(r => r.fault === 'stallAfterBytes' && r.aborted)).toBe(true)
    expect(Number(run.outputs['seconds'])).toBeLessThan(15)
  })

  it('a replica that ignores Range mid-download: the chunk is asked again', async () => {
    const run = await restoreWith({ faults: { ignoreRangeEvery: 2 } })
    await expectRestored(run)
    expect(server.faultsFired.ignoreRangeEvery).toBeGreaterThan(0)
  })

  it.each([
    'overlongBodyOnce',
    'overlongContentLengthOnce',
    'shortBodyOnce',
    'truncatedBodyOnce'
  ] as const)(
    '%s: the body is refused, never cut or spliced, and the chunk fetched again',
    async fault => {
      const run = await restoreWith({ faults: { [fault]: true } })
      await expectRestored(run)
      expect(server.faultsFired[fault]).toBe(1)
    }
  )

  it.each([
    [503, 1],
    [500, undefined],
    [429, 1]
  ])('HTTP %p (Retry-After %p) is retried with backoff', async (status, retryAfterSeconds) => {
    const run = await restoreWith({
      faults: { statusFor: { status, times: 3, retryAfterSeconds } }
    })
    await expectRestored(run)
    expect(server.faultsFired.statusFor).toBe(3)
  })

  it('a snapshot regenerated mid-download (412) restarts against the new version', async () => {
    const run = await restoreWith({ faults: { etagChangeAfterRequests: 2 } })
    await expectRestored(run)
    expect(snapshotGets().some(r => r.status === 412)).toBe(true)
    expect(run.stdout).toMatch(/::warning::.*regenerated.*Starting over/)
    // After the restart, every ranged request is pinned to the new ETag.
    const discovery = snapshotGets().filter(r => r.headers['if-match'] === undefined)
    expect(discovery.length).toBe(2)
  })

  it.each([
    ['401', undefined],
    ['403', 'Bearer was-right-until-now']
  ])(
    'HTTP %s mid-download fails fast, without retrying, and leaves nothing behind',
    async (status, authorization) => {
      // The download starts unauthenticated and slow; then the server starts refusing.
      server.setOptions({ faults: { rateLimitBytesPerSecond: 1024 * 1024 } })
      server.resetStats()
      const running = runAction({
        inputs: {
          'server-url': server.url,
          repository: mirror.upstreamUrl,
          'download-chunk-size-mb': '1',
          'download-concurrency': '2',
          ...(authorization ? { authorization } : {})
        }
      })
      while (snapshotGets().length === 0) await new Promise(resolve => setTimeout(resolve, 10))
      server.setOptions({
        requireAuthorization: 'Bearer the-new-token',
        faults: { rateLimitBytesPerSecond: 1024 * 1024 }
      })
      const run = await running
      server.setOptions({})
      expect(run.exitCode).toBe(1)
      expect(run.stdout).toMatch(new RegExp(`::error::cachew answered HTTP ${status}`))
      const refused = snapshotGets().filter(r => r.status === Number(status))
      // Each worker hit the refusal at most once: no retries.
      expect(refused.length).toBeGreaterThan(0)
      expect(refused.length).toBeLessThanOrEqual(2)
      expect(await listDir(run.workspace)).toEqual([])
      expect(await listDir(run.runnerTemp)).toEqual([])
    }
  )

  it('ten restores at once against a server capped at 6 concurrent requests all succeed', async () => {
    server.setOptions({ faults: { maxConcurrent: { limit: 6, retryAfterSeconds: 1 } } })
    server.resetStats()
    try {
      const runs = await Promise.all(
        Array.from({ length: 10 }, () =>
          runAction({
            inputs: {
              'server-url': server.url,
              repository: mirror.upstreamUrl,
              'download-chunk-size-mb': '1'
            }
          })
        )
      )
      for (const run of runs) await expectRestored(run)
      expect(snapshotGets().some(r => r.status === 503)).toBe(true)
    } finally {
      server.setOptions({})
    }
  })
})

describe('memory', () => {
  it('stays bounded with a wide window: 32 requests x 16 MiB over a 256 MiB snapshot', async () => {
    // A clone plus 256 MiB of incompressible bytes (ignored by git): every chunk is in
    // flight at once, so holding chunks in memory would need hundreds of MiB.
    const clone = path.join(root, 'wide-clone')
    await git(root, 'clone', '-q', mirror.bareDir, clone)
    await fs.appendFile(path.join(clone, '.git', 'info', 'exclude'), 'blob.bin\n')
    const handle = await fs.open(path.join(clone, 'blob.bin'), 'w')
    const block = Buffer.alloc(16 * MiB)
    for (let i = 0; i < 16; i++) {
      await handle.write(randomFillSync(block))
    }
    await handle.close()
    const wideFile = path.join(root, 'wide.tar.zst')
    await execShell(`tar -cpf - -C "${clone}" . | pzstd -q -c -p 2 > "${wideFile}"`)
    const upstream = 'https://github.example/acme/wide'
    server.addRepository(upstream, { file: wideFile, commit: snapshot.commit })
    await fs.rm(clone, { recursive: true, force: true })

    server.resetStats()
    const run = await runAction({
      inputs: {
        'server-url': server.url,
        repository: upstream,
        'download-concurrency': '32',
        'download-chunk-size-mb': '16'
      }
    })
    await fs.rm(wideFile, { force: true })
    expect(run.exitCode).toBe(0)
    expect(server.maxInFlight).toBeGreaterThanOrEqual(16)
    const rss = /Peak memory \(RSS\)<\/td><td>([\d.]+) MiB/.exec(run.summary)
    expect(rss).not.toBeNull()
    // Holding the window in memory would need the whole 256 MiB on top of Node's ~67 MiB.
    // Streaming to the spool peaks at 110 to 130 MiB here with both cores busy, and once
    // reached 221 MiB on a CI machine running the whole suite (garbage collection runs later
    // there), so the bound sits between the two. The benchmark reports the peak.
    expect(Number(rss![1])).toBeLessThan(256)
    expect((await fs.stat(path.join(run.workspace, 'blob.bin'))).size).toBe(256 * MiB)
    expect(await listDir(run.runnerTemp)).toEqual([])
  })
})
