/**
 * Proves the test infrastructure is real: fixtures are what cachew makes, the test server speaks
 * the protocol and its faults really happen, and nginx (which nobody here wrote) agrees on the
 * range and conditional semantics. Requests use Node's http client (or a raw socket where the
 * HTTP client would hide the bytes).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { startCachewServer, snapshotUrl, type CachewServer } from './support/cachew-server.js'
import {
  addCommit,
  execTool,
  makeMirror,
  makeSnapshot,
  SPECIAL_ENTRIES,
  type Mirror,
  type Snapshot
} from './support/fixtures.js'
import { startNginx } from './support/nginx.js'

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** The body arrived whole (false when the connection was cut). */
  complete: boolean
  /** When each chunk arrived (ms since the request started) and the bytes so far. */
  arrivals: { at: number; total: number }[]
  elapsedMs: number
}

function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}
): Promise<Reply> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false
    })
    req.on('error', reject)
    req.on('response', res => {
      const chunks: Buffer[] = []
      const arrivals: Reply['arrivals'] = []
      let total = 0
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        total += chunk.length
        arrivals.push({ at: Date.now() - started, total })
      })
      res.on('error', () => undefined) // a cut body shows as complete === false
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete,
          arrivals,
          elapsedMs: Date.now() - started
        })
      )
    })
    req.end(options.body)
  })
}

/** A GET over a bare socket: every byte the server wrote, split into head and body. */
function rawGet(
  url: string,
  headers: Record<string, string>
): Promise<{ head: string; body: Buffer }> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname)
    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', reject)
    socket.on('end', () => {
      const all = Buffer.concat(chunks)
      const split = all.indexOf('\r\n\r\n')
      resolve({ head: all.subarray(0, split).toString(), body: all.subarray(split + 4) })
    })
    const lines = [`GET ${target.pathname} HTTP/1.1`, `Host: ${target.host}`, 'Connection: close']
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
    socket.write(lines.join('\r\n') + '\r\n\r\n')
  })
}

const git = (cwd: string, ...args: string[]) =>
  execTool('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).then(s =>
    s.trim()
  )

let root: string
let mirror: Mirror
let snapshot: Snapshot
let bytes: Buffer
let server: CachewServer
let url: string

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'server-test-'))
  mirror = await makeMirror(path.join(root, 'widgets'), { files: 80, commits: 3, fileSize: 2048 })
  snapshot = await makeSnapshot(mirror, path.join(root, 'widgets.tar.zst'))
  bytes = await fsp.readFile(snapshot.file)
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
  url = snapshotUrl(server.url, mirror.upstreamUrl)
})

afterEach(() => {
  server.setOptions({})
  server.resetStats()
})

afterAll(async () => {
  await server?.close()
  await fsp.rm(root, { recursive: true, force: true })
})

describe('fixtures', () => {
  it('makeMirror builds a real repository with awkward entries, pushed to a bare mirror', async () => {
    const work = mirror.workDir
    expect(await fsp.readlink(path.join(work, SPECIAL_ENTRIES.symlink))).toBe('../docs/README.md')
    expect(fs.existsSync(path.join(work, SPECIAL_ENTRIES.unicode))).toBe(true)
    expect(Buffer.byteLength(SPECIAL_ENTRIES.longPath)).toBeGreaterThan(100)
    const scripts = (await git(work, 'ls-files', '-s'))
      .split('\n')
      .filter(l => l.startsWith('100755'))
    expect(scripts.length).toBeGreaterThan(0)
    expect(mirror.commits).toHaveLength(3)
    expect(await git(mirror.bareDir, 'rev-parse', 'refs/heads/main')).toBe(mirror.commits[2])
    expect(await git(mirror.bareDir, 'config', 'remote.origin.url')).toBe(mirror.upstreamUrl)
    expect(await git(mirror.bareDir, 'rev-list', '--count', 'main')).toBe('3')
  })

  it('makeSnapshot archives a clone of the mirror, origin = upstream, as pzstd frames', async () => {
    // pzstd puts a skippable frame (magic 0x184D2A50) before each zstd frame.
    expect(bytes.readUInt32LE(0)).toBe(0x184d2a50)
    expect(bytes.readUInt32LE(12)).toBe(0xfd2fb528)
    expect(snapshot.size).toBe(bytes.length)
    const out = await fsp.mkdtemp(path.join(root, 'extract-'))
    await execTool('sh', ['-c', `pzstd -dc "${snapshot.file}" | tar -xpf - -C "${out}"`])
    expect(await git(out, 'remote', 'get-url', 'origin')).toBe(mirror.upstreamUrl)
    expect(await git(out, 'rev-parse', 'HEAD')).toBe(snapshot.commit)
    expect(await git(out, 'status', '--porcelain')).toBe('')
    expect((await fsp.lstat(path.join(out, SPECIAL_ENTRIES.symlink))).isSymbolicLink()).toBe(true)
    const listing = await execTool('sh', ['-c', `pzstd -dc "${snapshot.file}" | tar -tf -`])
    expect(listing.split('\n')[0]).toBe('./')
    expect(listing).toContain('./.git/HEAD')
    expect(listing).toContain(`./${SPECIAL_ENTRIES.longPath}`)
  })

  it('makeSnapshot also writes single-frame zstd and long-window zstd', async () => {
    const plain = await makeSnapshot(mirror, path.join(root, 'plain.tar.zst'), {
      compressor: 'zstd'
    })
    expect((await fsp.readFile(plain.file)).readUInt32LE(0)).toBe(0xfd2fb528)
    const long = await makeSnapshot(mirror, path.join(root, 'long.tar.zst'), {
      compressor: 'zstd-long'
    })
    // A 2 GiB window: a decoder that is not told to accept it refuses.
    await expect(execTool('zstd', ['-dc', long.file])).rejects.toThrow(/--long=31|memory/)
    const listing = await execTool('sh', ['-c', `zstd -dc --long=31 "${long.file}" | tar -tf -`])
    expect(listing).toContain('./.git/HEAD')
  })

  it('addCommit makes a commit and pushes it to the mirror', async () => {
    const small = await makeMirror(path.join(root, 'small'), { files: 3, commits: 1 })
    const sha = await addCommit(small, 'one more')
    expect(small.commits).toHaveLength(2)
    expect(await git(small.bareDir, 'rev-parse', 'refs/heads/main')).toBe(sha)
    expect(await git(small.bareDir, 'log', '-1', '--format=%s', sha)).toBe('one more')
  })
})

describe('snapshot endpoint', () => {
  it('answers a GET with the whole file and the protocol headers', async () => {
    const reply = await request(url)
    expect(reply.status).toBe(200)
    expect(reply.body.equals(bytes)).toBe(true)
    expect(reply.headers.etag).toMatch(/^"[^"]+"$/)
    expect(reply.headers['accept-ranges']).toBe('bytes')
    expect(reply.headers['content-length']).toBe(String(bytes.length))
    expect(reply.headers['content-type']).toBe('application/zstd')
    expect(reply.headers['x-cachew-snapshot-commit']).toBe(snapshot.commit)
    expect(reply.headers['x-cachew-bundle-url']).toBeUndefined()
    await server.idle()
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      endpoint: 'snapshot.tar.zst',
      status: 200,
      bytesSent: bytes.length,
      aborted: false
    })
  })

  it('answers byte ranges S-E, S- and -N with 206 and Content-Range', async () => {
    const total = bytes.length
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-1999', 1000, 1999],
      [`bytes=${total - 10}-`, total - 10, total - 1],
      ['bytes=-300', total - 300, total - 1],
      [`bytes=${total - 5}-${total + 1000}`, total - 5, total - 1]
    ]
    for (const [range, start, end] of cases) {
      const reply = await request(url, { headers: { Range: range } })
      expect(reply.status).toBe(206)
      expect(reply.headers['content-range']).toBe(`bytes ${start}-${end}/${total}`)
      expect(reply.headers['content-length']).toBe(String(end - start + 1))
      expect(reply.body.equals(bytes.subarray(start, end + 1))).toBe(true)
      expect(reply.headers['x-cachew-snapshot-commit']).toBe(snapshot.commit)
    }
  })

  it('answers an unsatisfiable range with 416 and bytes */TOTAL', async () => {
    for (const range of [`bytes=${bytes.length}-`, 'bytes=-0', 'bytes=abc']) {
      const reply = await request(url, { headers: { Range: range } })
      expect(reply.status).toBe(416)
      expect(reply.headers['content-range']).toBe(`bytes */${bytes.length}`)
    }
  })

  it('answers 416 for any range of an empty snapshot, 200 with no body otherwise', async () => {
    const empty = path.join(root, 'empty.tar.zst')
    await fsp.writeFile(empty, '')
    server.addRepository('https://github.example/acme/empty', { file: empty })
    const emptyUrl = snapshotUrl(server.url, 'https://github.example/acme/empty')
    const ranged = await request(emptyUrl, { headers: { Range: 'bytes=0-99' } })
    expect(ranged.status).toBe(416)
    expect(ranged.headers['content-range']).toBe('bytes */0')
    const whole = await request(emptyUrl)
    expect(whole.status).toBe(200)
    expect(whole.headers['content-length']).toBe('0')
  })

  it('evaluates If-Match and If-None-Match before Range, and honours If-Range', async () => {
    const etag = (await request(url, { method: 'HEAD' })).headers.etag as string
    const pinned = await request(url, { headers: { Range: 'bytes=10-19', 'If-Match': etag } })
    expect(pinned.status).toBe(206)
    expect(pinned.body.equals(bytes.subarray(10, 20))).toBe(true)
    const stale = await request(url, { headers: { Range: 'bytes=10-19', 'If-Match': '"other"' } })
    expect(stale.status).toBe(412)
    const staleBeyond = await request(url, {
      headers: { Range: `bytes=${bytes.length}-`, 'If-Match': '"other"' }
    })
    expect(staleBeyond.status).toBe(412)
    const cached = await request(url, { headers: { Range: 'bytes=10-19', 'If-None-Match': etag } })
    expect(cached.status).toBe(304)
    expect(cached.body.length).toBe(0)
    const changed = await request(url, { headers: { Range: 'bytes=10-19', 'If-Range': '"other"' } })
    expect(changed.status).toBe(200)
    expect(changed.body.length).toBe(bytes.length)
  })

  it('answers HEAD from metadata: headers, no body, conditionals honoured', async () => {
    const head = await request(url, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe(String(bytes.length))
    expect(head.headers['x-cachew-snapshot-commit']).toBe(snapshot.commit)
    const etag = head.headers.etag as string
    expect(
      (await request(url, { method: 'HEAD', headers: { 'If-None-Match': etag } })).status
    ).toBe(304)
    expect((await request(url, { method: 'HEAD', headers: { 'If-Match': '"x"' } })).status).toBe(
      412
    )
    expect(server.requests.every(r => r.bytesSent === 0)).toBe(true)
  })

  it('sends the bundle URL on 200 and 206 alike when the mirror has moved on', async () => {
    const upstream = 'https://github.example/acme/widgets-behind'
    const base = mirror.commits[1]
    server.addRepository(upstream, { file: snapshot.file, commit: base, bundleBase: base }, mirror)
    const expected = `/git/github.example/acme/widgets-behind/snapshot.bundle?base=${base}`
    const whole = await request(snapshotUrl(server.url, upstream))
    const ranged = await request(snapshotUrl(server.url, upstream), {
      headers: { Range: 'bytes=0-9' }
    })
    expect(whole.headers['x-cachew-bundle-url']).toBe(expected)
    expect(ranged.status).toBe(206)
    expect(ranged.headers['x-cachew-bundle-url']).toBe(expected)
  })

  it('answers 404 for an unknown repository or LFS snapshot; ignores a .git suffix', async () => {
    expect(
      (await request(`${server.url}/git/github.example/acme/nope/snapshot.tar.zst`)).status
    ).toBe(404)
    expect((await request(`${server.url}/elsewhere`)).status).toBe(404)
    const lfs = url.replace('snapshot.tar.zst', 'lfs-snapshot.tar.zst')
    expect((await request(lfs)).status).toBe(404)
    const dotGit = `${server.url}/git/github.example/acme/widgets.git/snapshot.tar.zst`
    expect((await request(dotGit, { method: 'HEAD' })).status).toBe(200)
  })

  it('serves cold: chunked, no ETag, no commit, Range ignored; HEAD finds nothing', async () => {
    server.setOptions({ coldServe: true })
    const reply = await request(url, { headers: { Range: 'bytes=0-9' } })
    expect(reply.status).toBe(200)
    expect(reply.headers['transfer-encoding']).toBe('chunked')
    expect(reply.headers['content-length']).toBeUndefined()
    expect(reply.headers.etag).toBeUndefined()
    expect(reply.headers['accept-ranges']).toBeUndefined()
    expect(reply.headers['x-cachew-snapshot-commit']).toBeUndefined()
    expect(reply.body.equals(bytes)).toBe(true)
    expect((await request(url, { method: 'HEAD' })).status).toBe(404)
  })

  it('plays an old server: ETag and length, but Range ignored', async () => {
    server.setOptions({ noRangeSupport: true })
    const reply = await request(url, { headers: { Range: 'bytes=0-9' } })
    expect(reply.status).toBe(200)
    expect(reply.headers.etag).toBeDefined()
    expect(reply.headers['accept-ranges']).toBeUndefined()
    expect(reply.body.equals(bytes)).toBe(true)
  })

  it('requires the exact Authorization value on every endpoint and never logs it', async () => {
    const secret = 'Bearer s3cret-value'
    server.setOptions({ requireAuthorization: secret })
    const ensure = url.replace('snapshot.tar.zst', 'ensure-refs')
    const infoRefs = url.replace('snapshot.tar.zst', 'info/refs?service=git-upload-pack')
    const body = JSON.stringify({ refs: { 'refs/heads/main': '' } })
    for (const [target, method] of [
      [url, 'GET'],
      [ensure, 'POST'],
      [infoRefs, 'GET']
    ]) {
      const anonymous = await request(target, {
        method,
        body: method === 'POST' ? body : undefined
      })
      expect(anonymous.status).toBe(401)
      const wrong = await request(target, {
        method,
        headers: { Authorization: 'Bearer wrong' },
        body: method === 'POST' ? body : undefined
      })
      expect(wrong.status).toBe(403)
      const right = await request(target, {
        method,
        headers: { Authorization: secret },
        body: method === 'POST' ? body : undefined
      })
      expect(right.status).toBe(200)
    }
    expect(server.requests.map(r => r.authorization)).toEqual(
      Array(3).fill(['absent', 'wrong', 'correct']).flat()
    )
    expect(JSON.stringify(server.requests)).not.toContain('s3cret')
  })
})

describe('faults', () => {
  it('resetAfterBytes destroys the socket after exactly N body bytes, then stops', async () => {
    server.setOptions({ faults: { resetAfterBytes: { bytes: 5000, times: 1 } } })
    const cut = await request(url)
    expect(cut.status).toBe(200)
    expect(cut.complete).toBe(false)
    expect(cut.body.length).toBe(5000)
    expect(cut.body.equals(bytes.subarray(0, 5000))).toBe(true)
    const next = await request(url)
    expect(next.complete).toBe(true)
    expect(next.body.equals(bytes)).toBe(true)
    expect(server.faultsFired.resetAfterBytes).toBe(1)
    // setOptions alone re-arms the count, whatever the report says.
    server.setOptions({ faults: { resetAfterBytes: { bytes: 5000, times: 1 } } })
    expect((await request(url)).complete).toBe(false)
    expect(server.faultsFired.resetAfterBytes).toBe(2)
    await server.idle()
    expect(server.requests[0]).toMatchObject({ fault: 'resetAfterBytes', aborted: true })
  })

  it('stallAfterBytes sends N bytes and then nothing for the given time', async () => {
    server.setOptions({ faults: { stallAfterBytes: { bytes: 3000, ms: 400, times: 1 } } })
    const reply = await request(url)
    expect(reply.body.equals(bytes)).toBe(true)
    const atStall = reply.arrivals.findIndex(a => a.total >= 3000)
    expect(reply.arrivals[atStall].total).toBe(3000)
    // A lower bound only: the server sleeps at least this long, however slow the machine.
    expect(reply.arrivals[atStall + 1].at - reply.arrivals[atStall].at).toBeGreaterThanOrEqual(380)
    expect(server.faultsFired.stallAfterBytes).toBe(1)
  })

  it('ignoreRangeEvery answers every Nth ranged GET with the whole body', async () => {
    server.setOptions({ faults: { ignoreRangeEvery: 2 } })
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const reply = await request(url, { headers: { Range: 'bytes=100-199' } })
      statuses.push(reply.status)
      expect(reply.body.length).toBe(reply.status === 206 ? 100 : bytes.length)
    }
    expect(statuses).toEqual([206, 200, 206, 200])
  })

  it('overlongBodyOnce writes bytes past the declared body on the raw socket, once', async () => {
    server.setOptions({ faults: { overlongBodyOnce: true } })
    const first = await request(url, { headers: { Range: 'bytes=0-999' } })
    expect(first.body.equals(bytes.subarray(0, 1000))).toBe(true) // offset 0 is left alone
    const raw = await rawGet(url, { Range: 'bytes=1000-1999' })
    expect(raw.head).toMatch(/Content-Length: 1000/i)
    expect(raw.head).toMatch(/Content-Range: bytes 1000-1999\//i)
    expect(raw.body.length).toBeGreaterThan(1000)
    expect(raw.body.subarray(0, 1000).equals(bytes.subarray(1000, 2000))).toBe(true)
    const again = await rawGet(url, { Range: 'bytes=1000-1999' })
    expect(again.body.length).toBe(1000)
    expect(server.faultsFired.overlongBodyOnce).toBe(1)
  })

  it('overlongContentLengthOnce sends a longer body than Content-Range says', async () => {
    server.setOptions({ faults: { overlongContentLengthOnce: true } })
    const reply = await request(url, { headers: { Range: 'bytes=1000-1999' } })
    expect(reply.status).toBe(206)
    expect(reply.headers['content-range']).toBe(`bytes 1000-1999/${bytes.length}`)
    expect(reply.complete).toBe(true)
    expect(reply.body.length).toBeGreaterThan(1000)
    expect(Number(reply.headers['content-length'])).toBe(reply.body.length)
    expect((await request(url, { headers: { Range: 'bytes=1000-1999' } })).body.length).toBe(1000)
  })

  it('shortBodyOnce sends half the range with an honest Content-Length', async () => {
    server.setOptions({ faults: { shortBodyOnce: true } })
    const reply = await request(url, { headers: { Range: 'bytes=1000-1999' } })
    expect(reply.headers['content-range']).toBe(`bytes 1000-1999/${bytes.length}`)
    expect(reply.headers['content-length']).toBe('500')
    expect(reply.complete).toBe(true)
    expect(reply.body.equals(bytes.subarray(1000, 1500))).toBe(true)
    expect((await request(url, { headers: { Range: 'bytes=1000-1999' } })).body.length).toBe(1000)
  })

  it('truncatedBodyOnce promises the range but closes the connection halfway', async () => {
    server.setOptions({ faults: { truncatedBodyOnce: true } })
    const reply = await request(url, { headers: { Range: 'bytes=1000-1999' } })
    expect(reply.headers['content-length']).toBe('1000')
    expect(reply.complete).toBe(false)
    expect(reply.body.length).toBe(500)
    await server.idle()
    expect(server.requests[0].aborted).toBe(true)
    expect((await request(url, { headers: { Range: 'bytes=1000-1999' } })).complete).toBe(true)
  })

  it('etagChangeAfterRequests regenerates the snapshot: the old ETag then gets 412', async () => {
    server.setOptions({ faults: { etagChangeAfterRequests: 2 } })
    const first = await request(url, { headers: { Range: 'bytes=0-9' } })
    const oldTag = first.headers.etag as string
    const second = await request(url, { headers: { Range: 'bytes=10-19', 'If-Match': oldTag } })
    expect(second.status).toBe(206)
    const third = await request(url, { headers: { Range: 'bytes=20-29', 'If-Match': oldTag } })
    expect(third.status).toBe(412)
    const fresh = await request(url, { headers: { Range: 'bytes=0-9' } })
    expect(fresh.status).toBe(206)
    expect(fresh.headers.etag).not.toBe(oldTag)
    expect(server.faultsFired.etagChangeAfterRequests).toBe(1)
  })

  it('maxConcurrent refuses snapshot GETs above the cap with 503 and Retry-After', async () => {
    server.setOptions({
      faults: {
        maxConcurrent: { limit: 2, retryAfterSeconds: 7 },
        stallAfterBytes: { bytes: 10, ms: 1500, times: 2 } // holds the first two open
      }
    })
    const held = [request(url), request(url)]
    while (server.requests.filter(r => r.bytesSent >= 10).length < 2) {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    const refused = await Promise.all([request(url), request(url)])
    for (const reply of refused) {
      expect(reply.status).toBe(503)
      expect(reply.headers['retry-after']).toBe('7')
    }
    for (const reply of await Promise.all(held)) {
      expect(reply.status).toBe(200)
      expect(reply.body.equals(bytes)).toBe(true)
    }
    // The refused pair may overlap or not (a 503 is over in a moment), the held pair always.
    expect(server.maxInFlight).toBeGreaterThanOrEqual(3)
    expect(server.faultsFired.maxConcurrent).toBe(2)
  })

  it('rateLimitBytesPerSecond paces each response body', async () => {
    const rate = 200_000
    const length = Math.min(bytes.length, 100_000)
    server.setOptions({ faults: { rateLimitBytesPerSecond: rate } })
    const reply = await request(url, { headers: { Range: `bytes=0-${length - 1}` } })
    expect(reply.body.equals(bytes.subarray(0, length))).toBe(true)
    // A lower bound only: the server waits until each byte is due.
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(Math.floor((length / rate) * 1000) - 5)
    expect(reply.arrivals.length).toBeGreaterThanOrEqual(5)
  })

  it('statusFor answers the first N snapshot GETs with the given status', async () => {
    server.setOptions({ faults: { statusFor: { status: 503, times: 2, retryAfterSeconds: 1 } } })
    const replies = [await request(url), await request(url), await request(url)]
    expect(replies.map(r => r.status)).toEqual([503, 503, 200])
    expect(replies[0].headers['retry-after']).toBe('1')
    server.setOptions({ faults: { statusFor: { status: 500 } } })
    expect((await request(url)).status).toBe(500)
    expect((await request(url)).status).toBe(500)
  })
})

describe('bundle endpoint', () => {
  let moving: Mirror
  let clone: string
  let bundleUrl: (base: string) => string

  beforeAll(async () => {
    moving = await makeMirror(path.join(root, 'moving'), {
      files: 10,
      commits: 2,
      upstreamUrl: 'https://github.example/acme/moving'
    })
    const snap = await makeSnapshot(moving, path.join(root, 'moving.tar.zst'))
    clone = path.join(root, 'moving-clone')
    await execTool('sh', [
      '-c',
      `mkdir -p "${clone}" && pzstd -dc "${snap.file}" | tar -xpf - -C "${clone}"`
    ])
    await addCommit(moving)
    await addCommit(moving)
    server.addRepository(moving.upstreamUrl, { file: snap.file, commit: snap.commit }, moving)
    bundleUrl = base =>
      url.replace('widgets/snapshot.tar.zst', `moving/snapshot.bundle?base=${base}`)
  })

  it('answers 200 with a bundle that fast-forwards a restored snapshot', async () => {
    const base = await git(clone, 'rev-parse', 'HEAD')
    const reply = await request(bundleUrl(base))
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/x-git-bundle')
    expect(reply.headers.etag).toBeDefined()
    const file = path.join(root, 'moving.bundle')
    await fsp.writeFile(file, reply.body)
    await git(clone, 'bundle', 'verify', file)
    await git(clone, 'pull', '-q', '--ff-only', file, 'main')
    expect(await git(clone, 'rev-parse', 'HEAD')).toBe(moving.commits.at(-1))
  })

  it('honours Range and If-Match on the bundle', async () => {
    const base = moving.commits[0]
    const whole = await request(bundleUrl(base))
    const etag = whole.headers.etag as string
    const part = await request(bundleUrl(base), {
      headers: { Range: 'bytes=0-15', 'If-Match': etag }
    })
    expect(part.status).toBe(206)
    expect(part.body.equals(whole.body.subarray(0, 16))).toBe(true)
    const stale = await request(bundleUrl(base), {
      headers: { Range: 'bytes=0-15', 'If-Match': '"x"' }
    })
    expect(stale.status).toBe(412)
  })

  it('answers 204 at the head, 404 for unknown or diverged bases, 400 for a bad SHA', async () => {
    expect((await request(bundleUrl(moving.commits.at(-1) as string))).status).toBe(204)
    expect((await request(bundleUrl('0123456789abcdef0123456789abcdef01234567'))).status).toBe(404)
    const tree = await git(moving.bareDir, 'rev-parse', 'main^{tree}')
    const diverged = await git(
      moving.bareDir,
      'commit-tree',
      tree,
      '-p',
      moving.commits[0],
      '-m',
      'x'
    )
    expect((await request(bundleUrl(diverged))).status).toBe(404)
    expect((await request(bundleUrl('abc123'))).status).toBe(400)
    expect((await request(bundleUrl('').replace('?base=', ''))).status).toBe(400)
  })
})

describe('ensure-refs', () => {
  const ensureUrl = () => url.replace('snapshot.tar.zst', 'ensure-refs')
  const post = (body: string) => request(ensureUrl(), { method: 'POST', body })

  it('reports refs and missing commits from the mirror', async () => {
    const unknown = 'f'.repeat(40)
    const reply = await post(
      JSON.stringify({
        refs: { 'refs/heads/main': '', 'refs/heads/nope': '' },
        commits: [mirror.commits[0], unknown]
      })
    )
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/json')
    expect(JSON.parse(reply.body.toString())).toEqual({
      refs: { 'refs/heads/main': mirror.commits.at(-1), 'refs/heads/nope': '' },
      missing_commits: [unknown],
      fetched: false
    })
  })

  it('omits missing_commits when nothing is missing, as the real server does', async () => {
    const reply = await post(JSON.stringify({ commits: mirror.commits }))
    expect(JSON.parse(reply.body.toString())).toEqual({ fetched: false })
  })

  it('rejects bad bodies with 400 and other methods with 405', async () => {
    expect((await post('{not json')).status).toBe(400)
    expect((await post('{}')).status).toBe(400)
    expect((await post(JSON.stringify({ refs: { main: 1 } }))).status).toBe(400)
    expect((await request(ensureUrl())).status).toBe(405)
  })
})

describe('git smart HTTP', () => {
  const insteadOf = () => `url.${server.url}/git/github.example/.insteadOf=https://github.example/`

  it('serves git clone through insteadOf from the bare mirror, and logs it', async () => {
    const target = path.join(root, 'cloned')
    await git(root, '-c', insteadOf(), 'clone', '-q', 'https://github.example/acme/widgets', target)
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(mirror.commits.at(-1))
    expect(await git(target, 'remote', 'get-url', 'origin')).toBe(
      'https://github.example/acme/widgets'
    )
    await server.idle()
    const endpoints = server.requests.map(r => `${r.method} ${r.endpoint} ${r.status}`)
    expect(endpoints).toContain('GET info/refs 200')
    expect(endpoints).toContain('POST git-upload-pack 200')
    expect(server.requests.find(r => r.endpoint === 'git-upload-pack')?.bytesSent).toBeGreaterThan(
      0
    )
  })

  it('needs the Authorization header when the server requires one', async () => {
    server.setOptions({ requireAuthorization: 'Bearer git-token' })
    const target = path.join(root, 'cloned-auth')
    const upstream = 'https://github.example/acme/widgets'
    await expect(git(root, '-c', insteadOf(), 'clone', '-q', upstream, target)).rejects.toThrow()
    await git(
      root,
      '-c',
      insteadOf(),
      '-c',
      'http.extraHeader=Authorization: Bearer git-token',
      'clone',
      '-q',
      upstream,
      target
    )
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(mirror.commits.at(-1))
  })

  it('accepts a gzip-encoded protocol v2 request body', async () => {
    const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, '0') + line
    const body = gzipSync(pkt('command=ls-refs\n') + '0001' + '0000')
    const reply = await request(url.replace('snapshot.tar.zst', 'git-upload-pack'), {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/x-git-upload-pack-request',
        'Content-Encoding': 'gzip',
        'Git-Protocol': 'version=2'
      }
    })
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/x-git-upload-pack-result')
    expect(reply.body.toString()).toContain(`${mirror.commits.at(-1)} refs/heads/main`)
  })
})

describe('nginx as a snapshot server', () => {
  it('answers a ranged GET pinned by If-Match, 412 when stale, 416 past the end', async () => {
    const docroot = path.join(root, 'nginx-root')
    const file = path.join(docroot, 'git/github.example/acme/widgets/snapshot.tar.zst')
    await fsp.mkdir(path.dirname(file), { recursive: true })
    await fsp.copyFile(snapshot.file, file)
    const nginx = await startNginx({ root: docroot, commit: snapshot.commit })
    try {
      const target = snapshotUrl(nginx.url, mirror.upstreamUrl)
      const head = await request(target, { method: 'HEAD' })
      expect(head.headers['accept-ranges']).toBe('bytes') // nginx omits it on 206 responses
      const discovery = await request(target, { headers: { Range: 'bytes=0-999' } })
      expect(discovery.status).toBe(206)
      const etag = discovery.headers.etag as string
      expect(etag).toMatch(/^"[^"]+"$/)
      const chunk = await request(target, {
        headers: { Range: 'bytes=1000-2999', 'If-Match': etag }
      })
      expect(chunk.status).toBe(206)
      expect(chunk.headers['content-range']).toBe(`bytes 1000-2999/${bytes.length}`)
      expect(chunk.headers['x-cachew-snapshot-commit']).toBe(snapshot.commit)
      expect(chunk.body.equals(bytes.subarray(1000, 3000))).toBe(true)
      const stale = await request(target, {
        headers: { Range: 'bytes=0-9', 'If-Match': '"stale"' }
      })
      expect(stale.status).toBe(412)
      const beyond = await request(target, { headers: { Range: `bytes=${bytes.length}-` } })
      expect(beyond.status).toBe(416)
      expect(beyond.headers['content-range']).toBe(`bytes */${bytes.length}`)
    } finally {
      await nginx.stop()
    }
  })
})
