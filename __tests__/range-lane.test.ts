/**
 * RangeLane, the parallel download's own connections: byte-exact ranges from nginx and from the
 * cachew test server (its faults included) over kept-alive connections, https, and the edges a
 * hand-written reader must get right, each from a scripted server on a real socket: a head
 * split across reads, 1xx answers, Connection: close, a kept-alive connection the server drops,
 * a body cut short or followed by bytes nobody asked for, chunked framing (refused before any
 * body byte), cancellation. Last, the Download over lanes against a server whose ranged answers
 * are chunked: it goes back to Node's client and the file is whole.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import * as net from 'node:net'
import * as path from 'node:path'
import * as tls from 'node:tls'
import { Download } from '../src/download/download.js'
import { HttpTransport } from '../src/download/http.js'
import { RangeLane, UnframedResponseError, type ResponseHead } from '../src/download/range-lane.js'
import { Spool } from '../src/download/spool.js'
import { TransientError } from '../src/errors.js'
import { selfSignedIdentity } from './support/certificate.js'
import { snapshotUrl, startCachewServer, type CachewServer } from './support/cachew-server.js'
import { startNginxServing, type NginxServer } from './support/nginx.js'
import { tempDirectory } from './support/temp.js'

const UPSTREAM = 'https://github.example/acme/lanes'
const SIZE = 3 * 1024 * 1024 + 12345
let dir: string
let content: Buffer
let file: string

beforeAll(async () => {
  dir = await tempDirectory('range-lane-')
  content = randomBytes(SIZE)
  file = path.join(dir, 'snapshot.tar.zst')
  await fs.writeFile(file, content)
})

/** What one GET over a lane gave: its head and its body, concatenated. */
async function fetchRange(
  lane: RangeLane,
  url: string,
  headers: Record<string, string>,
  signal = new AbortController().signal
): Promise<{ head: ResponseHead; body: Buffer }> {
  let head: ResponseHead | undefined
  const pieces: Buffer[] = []
  await lane.get(
    new URL(url),
    headers,
    {
      onHead: h => (head = h),
      // The lane reuses its buffer: a piece must be copied to be kept.
      onBody: bytes => pieces.push(Buffer.from(bytes))
    },
    signal
  )
  return { head: head!, body: Buffer.concat(pieces) }
}

/** Ranges that cover the file in `count` uneven parts, fetched one after another over `lane`. */
async function fetchAll(lane: RangeLane, url: string, count: number): Promise<Buffer> {
  const parts: Buffer[] = []
  const step = Math.ceil(SIZE / count) + 17
  for (let start = 0; start < SIZE; start += step) {
    const end = Math.min(SIZE, start + step) - 1
    const { head, body } = await fetchRange(lane, url, { range: `bytes=${start}-${end}` })
    expect(head.statusCode).toBe(206)
    expect(head.headers['content-range']).toBe(`bytes ${start}-${end}/${SIZE}`)
    parts.push(body)
  }
  return Buffer.concat(parts)
}

describe('against nginx', () => {
  let nginx: NginxServer

  beforeAll(async () => {
    nginx = await startNginxServing(path.join(dir, 'nginx-site'), { upstreamUrl: UPSTREAM, file })
  })
  afterAll(async () => {
    await nginx?.stop()
  })

  it('reads every range byte for byte over one kept-alive connection', async () => {
    const lane = new RangeLane(new URL(nginx.url))
    try {
      const whole = await fetchAll(lane, snapshotUrl(nginx.url, UPSTREAM), 7)
      expect(whole.equals(content)).toBe(true)
    } finally {
      lane.close()
    }
  })

  it('gives a 416 head with its (small) body framed by Content-Length', async () => {
    const lane = new RangeLane(new URL(nginx.url))
    try {
      const { head } = await fetchRange(lane, snapshotUrl(nginx.url, UPSTREAM), {
        range: `bytes=${SIZE + 10}-${SIZE + 20}`
      })
      expect(head.statusCode).toBe(416)
      // The connection is still good for the next request.
      const next = await fetchRange(lane, snapshotUrl(nginx.url, UPSTREAM), { range: 'bytes=0-9' })
      expect(next.body.equals(content.subarray(0, 10))).toBe(true)
    } finally {
      lane.close()
    }
  })
})

describe('against the cachew test server', () => {
  let server: CachewServer

  beforeAll(async () => {
    server = await startCachewServer()
    server.addRepository(UPSTREAM, { file })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('keeps one connection for every request', async () => {
    server.resetStats()
    const lane = new RangeLane(new URL(server.url))
    try {
      const whole = await fetchAll(lane, snapshotUrl(server.url, UPSTREAM), 9)
      expect(whole.equals(content)).toBe(true)
    } finally {
      lane.close()
    }
    await server.idle()
    const connections = new Set(server.requests.map(request => request.connection))
    expect(server.requests.length).toBeGreaterThanOrEqual(9)
    expect(connections.size).toBe(1)
  })

  it('sends the headers it is given, and the Host', async () => {
    server.resetStats()
    const lane = new RangeLane(new URL(server.url))
    try {
      await fetchRange(lane, snapshotUrl(server.url, UPSTREAM), {
        range: 'bytes=0-0',
        'user-agent': 'cachew-restore',
        'if-match': '"nothing"'
      }).then(({ head }) => expect(head.statusCode).toBe(412))
    } finally {
      lane.close()
    }
    await server.idle()
    const [request] = server.requests
    expect(request.headers['user-agent']).toBe('cachew-restore')
    expect(request.headers.host).toBe(new URL(server.url).host)
  })

  it('fails a body cut by a reset and goes on over a new connection', async () => {
    server.setOptions({ faults: { resetAfterBytes: { bytes: 100_000, times: 1 } } })
    const lane = new RangeLane(new URL(server.url))
    const url = snapshotUrl(server.url, UPSTREAM)
    try {
      await expect(fetchRange(lane, url, { range: `bytes=0-${SIZE - 1}` })).rejects.toThrow()
      const { body } = await fetchRange(lane, url, { range: `bytes=0-${SIZE - 1}` })
      expect(body.equals(content)).toBe(true)
    } finally {
      lane.close()
      server.setOptions({})
    }
  })
})

describe('over https', () => {
  let server: CachewServer
  let trusted: string[]

  beforeAll(async () => {
    const identity = await selfSignedIdentity(path.join(dir, 'tls'), 'localhost')
    trusted = tls.getCACertificates('default')
    // As NODE_EXTRA_CA_CERTS does for the action, for this test process.
    tls.setDefaultCACertificates([...trusted, identity.cert.toString()])
    server = await startCachewServer({}, 0, identity)
    server.addRepository(UPSTREAM, { file })
  })
  afterAll(async () => {
    tls.setDefaultCACertificates(trusted)
    await server?.close()
  })

  it('reads ranges over one TLS connection, checking the certificate by name', async () => {
    server.resetStats()
    const url = snapshotUrl(server.url, UPSTREAM).replace('127.0.0.1', 'localhost')
    const lane = new RangeLane(new URL(url))
    try {
      expect((await fetchAll(lane, url, 5)).equals(content)).toBe(true)
    } finally {
      lane.close()
    }
    await server.idle()
    expect(new Set(server.requests.map(request => request.connection)).size).toBe(1)
  })

  it('refuses a certificate for another name', async () => {
    // The certificate names localhost; 127.0.0.1 is not in it.
    const url = snapshotUrl(server.url, UPSTREAM).replace('localhost', '127.0.0.1')
    const lane = new RangeLane(new URL(url))
    try {
      await expect(fetchRange(lane, url, { range: 'bytes=0-9' })).rejects.toMatchObject({
        code: expect.stringMatching(/ERR_TLS_CERT_ALTNAME_INVALID|CERT/)
      })
    } finally {
      lane.close()
    }
  })
})

/**
 * A server that answers each request on a connection with the next of `script`'s answers: raw
 * bytes, written in the given pieces (a pause between pieces makes each its own read), or
 * 'close' to close the connection without a word. `connections` counts accepted connections.
 */
interface Scripted {
  url: string
  connections: number
  requests: string[]
  close(): Promise<void>
}

type Answer = Array<string | Buffer> | 'close'

async function scriptedServer(
  script: (connection: number, request: number) => Answer
): Promise<Scripted> {
  const sockets = new Set<net.Socket>()
  const state: Scripted = { url: '', connections: 0, requests: [], close: async () => undefined }
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    const connection = ++state.connections
    let requests = 0
    let pending = ''
    socket.on('data', async data => {
      pending += data.toString('latin1')
      while (pending.includes('\r\n\r\n')) {
        const end = pending.indexOf('\r\n\r\n') + 4
        state.requests.push(pending.slice(0, end))
        pending = pending.slice(end)
        const answer = script(connection, ++requests)
        if (answer === 'close') {
          socket.end()
          return
        }
        for (const piece of answer) {
          socket.write(piece)
          await new Promise(resolve => setTimeout(resolve, 5))
        }
      }
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  state.url = `http://127.0.0.1:${port}/file`
  state.close = async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise(resolve => server.close(resolve))
  }
  return state
}

/** A scripted server and a lane to it, for `use`; both closed after. */
async function withScripted(
  script: (connection: number, request: number) => Answer,
  use: (lane: RangeLane, server: Scripted) => Promise<void>
): Promise<void> {
  const server = await scriptedServer(script)
  const lane = new RangeLane(new URL(server.url))
  try {
    await use(lane, server)
  } finally {
    lane.close()
    await server.close()
  }
}

/** GETs over `lane`, `times` of them, each of which must give `body` whole. */
async function expectBodies(lane: RangeLane, url: string, body: Buffer, times: number) {
  for (let i = 0; i < times; i++) {
    expect((await fetchRange(lane, url, {})).body.equals(body)).toBe(true)
  }
}

function answer206(body: Buffer, extra = ''): string {
  return (
    `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-${body.length - 1}/${SIZE}\r\n` +
    `Content-Length: ${body.length}\r\n${extra}\r\n`
  )
}

describe('edges, from a scripted server', () => {
  const body = Buffer.from('0123456789abcdefghij')

  it('reads a head that comes a byte at a time, after a 103, with the body split too', async () => {
    const head = `HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n${answer206(body, 'X-Pad: 1\r\n')}`
    const server = await scriptedServer(() => [
      ...head.split(''),
      body.subarray(0, 7),
      body.subarray(7)
    ])
    const lane = new RangeLane(new URL(server.url))
    try {
      const got = await fetchRange(lane, server.url, { range: 'bytes=0-19' })
      expect(got.head.statusCode).toBe(206)
      expect(got.head.headers['x-pad']).toBe('1')
      expect(got.body.equals(body)).toBe(true)
    } finally {
      lane.close()
      await server.close()
    }
  })

  it('opens a new connection after Connection: close, and after HTTP/1.0', async () => {
    const script = (connection: number): Answer =>
      connection === 1
        ? [answer206(body, 'Connection: close\r\n') + body.toString()]
        : [answer206(body).replace('HTTP/1.1', 'HTTP/1.0') + body.toString()]
    await withScripted(script, async (lane, server) => {
      await expectBodies(lane, server.url, body, 3)
      expect(server.connections).toBe(3)
    })
  })

  it('sends again, once, a request that a kept-alive connection closed on unanswered', async () => {
    // Each connection answers its first request and closes on the second without a word.
    const script = (_: number, request: number): Answer =>
      request === 1 ? [answer206(body) + body.toString()] : 'close'
    await withScripted(script, async (lane, server) => {
      await expectBodies(lane, server.url, body, 3)
      expect(server.connections).toBe(3)
    })
  })

  it('fails a first request that its fresh connection closes on unanswered', async () => {
    await withScripted(
      () => 'close',
      async (lane, server) => {
        await expect(fetchRange(lane, server.url, {})).rejects.toThrow(TransientError)
        expect(server.connections).toBe(1)
      }
    )
  })

  it('fails a body cut short by the connection closing, saying how much came', async () => {
    const server = net.createServer(socket => {
      socket.once('data', () => socket.end(answer206(body) + 'only ten b'))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/file`
    const lane = new RangeLane(new URL(url))
    const pieces: number[] = []
    try {
      await expect(
        lane.get(
          new URL(url),
          {},
          { onHead: () => undefined, onBody: bytes => pieces.push(bytes.length) },
          new AbortController().signal
        )
      ).rejects.toThrow(new TransientError('a response ended after 10 of 20 bytes'))
      expect(pieces.reduce((a, b) => a + b, 0)).toBe(10)
    } finally {
      lane.close()
      await new Promise(resolve => server.close(resolve))
    }
  })

  it('keeps the body exact when bytes nobody asked for follow it, and leaves that connection', async () => {
    const script = (): Answer => [answer206(body) + body.toString() + 'GARBAGE']
    await withScripted(script, async (lane, server) => {
      await expectBodies(lane, server.url, body, 2)
      expect(server.connections).toBe(2)
    })
  })

  it.each([
    ['chunked', ''],
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3): the length must not be used.
    ['chunked with a Content-Length too', 'Content-Length: 29\r\n']
  ])('refuses a body framed %s before any byte of it, after showing the head', async (_, extra) => {
    const server = await scriptedServer(() => [
      `HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: chunked\r\n${extra}\r\n14\r\n`,
      `${body.toString()}\r\n0\r\n\r\n`
    ])
    const lane = new RangeLane(new URL(server.url))
    const seen: string[] = []
    try {
      await expect(
        lane.get(
          new URL(server.url),
          {},
          {
            onHead: head => seen.push(`head ${head.statusCode}`),
            onBody: () => seen.push('body')
          },
          new AbortController().signal
        )
      ).rejects.toThrow(UnframedResponseError)
      expect(seen).toEqual(['head 206'])
    } finally {
      lane.close()
      await server.close()
    }
  })

  it('does not read the body of a response its head handler refused', async () => {
    const server = await scriptedServer(() => [
      'HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n0\r\n\r\n'
    ])
    const lane = new RangeLane(new URL(server.url))
    try {
      await expect(
        lane.get(
          new URL(server.url),
          {},
          {
            onHead: head => {
              throw new TransientError(
                `HTTP ${head.statusCode}, retry after ${head.headers['retry-after']}`
              )
            },
            onBody: () => {
              throw new Error('no body expected')
            }
          },
          new AbortController().signal
        )
      ).rejects.toThrow('HTTP 503, retry after 1')
    } finally {
      lane.close()
      await server.close()
    }
  })

  it('stops at once when its signal aborts, with the signal’s reason', async () => {
    // Sends the head and half the body, then nothing.
    const server = await scriptedServer(() => [answer206(body) + 'half'])
    const lane = new RangeLane(new URL(server.url))
    const controller = new AbortController()
    try {
      const fetching = lane.get(
        new URL(server.url),
        {},
        { onHead: () => undefined, onBody: () => controller.abort(new Error('cancelled here')) },
        controller.signal
      )
      await expect(fetching).rejects.toThrow('cancelled here')
    } finally {
      lane.close()
      await server.close()
    }
  })

  it('refuses a header value with a line break, without quoting it', async () => {
    const lane = new RangeLane(new URL('http://127.0.0.1:9/'))
    await expect(
      fetchRange(lane, 'http://127.0.0.1:9/x', { authorization: 'Bearer a\r\nX-Evil: 1' })
    ).rejects.toThrow(/^invalid character in the authorization header$/)
  })
})

describe('Download over lanes', () => {
  it('goes back to Node’s client when ranged answers are chunked, and the file is whole', async () => {
    // Node's own server: the first range with Content-Length (the discovery), later ones chunked.
    const etag = '"v1"'
    const ranged: string[] = []
    const server = http.createServer((req, res) => {
      const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
      if (!match) {
        res.writeHead(200, { 'content-length': SIZE, etag, 'accept-ranges': 'bytes' })
        res.end(content)
        return
      }
      const [start, end] = [Number(match[1]), Math.min(Number(match[2]), SIZE - 1)]
      ranged.push(`${start}`)
      const headers: http.OutgoingHttpHeaders = {
        'content-range': `bytes ${start}-${end}/${SIZE}`,
        etag,
        'accept-ranges': 'bytes'
      }
      if (start === 0) headers['content-length'] = end - start + 1
      res.writeHead(206, headers)
      res.end(content.subarray(start, end + 1))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/snapshot.tar.zst`
    const transport = new HttpTransport(undefined, 6)
    const spool = await Spool.create(path.join(dir, 'chunked.spool'))
    try {
      const download = await Download.start(url, spool, {
        transport,
        concurrency: 4,
        chunkSize: 512 * 1024,
        stallTimeoutMs: 10_000,
        signal: new AbortController().signal
      })
      await download.completion
      expect(download.stats.mode).toBe('parallel')
      expect((await fs.readFile(spool.file)).equals(content)).toBe(true)
      // Every chunk was asked for; the ones a lane refused were asked again through the client.
      const chunks = Math.ceil(SIZE / (512 * 1024))
      expect(new Set(ranged).size).toBe(chunks)
      expect(ranged.length).toBeGreaterThan(chunks)
      expect(download.stats.retries).toBe(0)
    } finally {
      await spool.close()
      transport.close()
      await new Promise(resolve => server.close(resolve))
    }
  })
})
