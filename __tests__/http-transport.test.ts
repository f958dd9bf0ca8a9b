/**
 * The transport's routes and their errors: direct, an http:// server's requests forwarded by
 * the proxy in absolute form (no CONNECT, so a stock squid lets them through), an https://
 * server's through CONNECT tunnels that are kept alive and reused, proxy credentials, an
 * https:// proxy; and network errors that say which route failed (the proxy and the variable
 * that named it, or the host reached directly). Real sockets on 127.0.0.1, real squids.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'
import * as tls from 'node:tls'
import { ExpectedError, TransientError } from '../src/errors.js'
import { asNetworkError, HttpTransport, readText } from '../src/download/http.js'
import { startProxy, type ForwardProxy } from './support/proxy.js'
import { freePort } from './support/daemon.js'
import { selfSignedIdentity, type Identity } from './support/certificate.js'
import { tempDirectory } from './support/temp.js'

const HOST = 'cachew.proxy.test'
const PROXY_VARIABLES = [
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'no_proxy',
  'NO_PROXY'
]
const saved = Object.fromEntries(PROXY_VARIABLES.map(name => [name, process.env[name]]))
let proxy: ForwardProxy

beforeAll(async () => {
  proxy = await startProxy({ hosts: { [HOST]: '127.0.0.1' } })
})

afterAll(async () => {
  await proxy?.stop()
})

afterEach(() => {
  for (const name of PROXY_VARIABLES) {
    if (saved[name] === undefined) delete process.env[name]
    else process.env[name] = saved[name]
  }
})

function setProxyEnvironment(values: Record<string, string>): void {
  for (const name of PROXY_VARIABLES) delete process.env[name]
  Object.assign(process.env, values)
}

async function requestError(url: string): Promise<Error> {
  const transport = new HttpTransport({ serverUrl: url, authorization: 'Bearer not-for-logs' }, 2)
  try {
    await transport.request(url)
  } catch (error) {
    return error as Error
  } finally {
    transport.close()
  }
  throw new Error(`expected ${url} to fail`)
}

describe('network errors name the route', () => {
  it('a proxy that refuses connections is named, with the variable that set it', async () => {
    const port = await freePort()
    setProxyEnvironment({ HTTP_PROXY: `http://user:proxy-secret@127.0.0.1:${port}` })
    const error = await requestError('http://cachew.proxy.test:8080/git/x')
    expect(error).toBeInstanceOf(TransientError)
    expect(error.message).toBe(
      `network error talking to cachew.proxy.test:8080 through the proxy 127.0.0.1:${port} ` +
        `(from HTTP_PROXY): could not reach the proxy (connect ECONNREFUSED 127.0.0.1:${port})`
    )
    expect(error.message).not.toContain('proxy-secret')
    expect(error.message).not.toContain('not-for-logs')
  })

  it("a proxy's refusal to tunnel is reported with its HTTP status", async () => {
    // squid knows the name, but nothing listens on that port: it answers CONNECT with 503.
    const port = await freePort()
    setProxyEnvironment({ https_proxy: proxy.url })
    const error = await requestError(`https://cachew.proxy.test:${port}/git/x`)
    expect(error).toBeInstanceOf(TransientError)
    expect(error.message).toBe(
      `network error talking to cachew.proxy.test:${port} through the proxy ` +
        `${new URL(proxy.url).host} (from https_proxy): the proxy refused the tunnel with HTTP 503`
    )
  })

  it('a host exempt from a configured proxy is reported as reached directly', async () => {
    const port = await freePort()
    setProxyEnvironment({ http_proxy: proxy.url })
    const error = await requestError(`http://127.0.0.1:${port}/`)
    expect(error.message).toBe(
      `network error talking to 127.0.0.1:${port} directly ` +
        '(exempt from http_proxy by no_proxy or as a loopback host): ECONNREFUSED'
    )
    expect((await proxy.log()).join('\n')).not.toContain(`127.0.0.1:${port}`)
  })

  it('without proxy variables the message is just the host and the reason', async () => {
    setProxyEnvironment({})
    const port = await freePort()
    const error = await requestError(`http://127.0.0.1:${port}/`)
    expect(error.message).toBe(`network error talking to 127.0.0.1:${port}: ECONNREFUSED`)
  })
})

describe('asNetworkError', () => {
  const target = new URL('http://cachew.example:8080/x')

  it('passes transient errors and aborts through unchanged', () => {
    const transient = new TransientError('already explained')
    expect(asNetworkError(transient, target)).toBe(transient)
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' })
    expect(asNetworkError(abort, target)).toBe(abort)
  })

  it('says a name that does not resolve in words, as a failure not worth retrying', () => {
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND cachew.example'), {
      code: 'ENOTFOUND'
    })
    const failure = asNetworkError(error, target)
    expect(failure.message).toBe(
      'network error talking to cachew.example:8080: the host name does not resolve (ENOTFOUND); check server-url'
    )
    expect(failure).toBeInstanceOf(ExpectedError)
    expect(failure).not.toBeInstanceOf(TransientError)
  })

  it('keeps an unknown error readable', () => {
    expect(asNetworkError('socket hang up', target).message).toBe(
      'network error talking to cachew.example:8080: socket hang up'
    )
  })
})

// ------------------------------------------------------------------ the routes

/** What a test server saw of one request. */
interface Seen {
  method: string
  url: string
  host?: string
  /** Only the proxy may see the proxy's credentials: they must never reach the server. */
  proxyAuthorization: boolean
  /** Which connection (1, 2, ...) carried it. */
  connection: number
  /** The TLS server name the client asked for (SNI), over https. */
  servername?: string
}

interface TestServer {
  url: string
  seen: Seen[]
  close(): Promise<void>
}

/** An http (or, with an identity, https) server on 127.0.0.1 that answers 'ok' to everything. */
async function startServer(identity?: Identity): Promise<TestServer> {
  const seen: Seen[] = []
  const connections = new WeakMap<object, number>()
  let count = 0
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as tls.TLSSocket
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      host: req.headers.host,
      proxyAuthorization: req.headers['proxy-authorization'] !== undefined,
      connection: connections.get(socket) ?? 0,
      servername: identity ? (socket.servername as string | undefined) : undefined
    })
    req.resume()
    req.on('end', () => res.end('ok'))
  }
  const server = identity ? https.createServer(identity, handler) : http.createServer(handler)
  server.on(identity ? 'secureConnection' : 'connection', socket => {
    connections.set(socket, ++count)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `${identity ? 'https' : 'http'}://${HOST}:${port}`,
    seen,
    close: () =>
      new Promise(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** Sends `total` requests, `parallel` at a time, over one transport; returns their bodies. */
async function requestMany(
  url: string,
  total: number,
  parallel: number,
  credentials = { serverUrl: url, authorization: 'Bearer not-for-logs' }
): Promise<string[]> {
  const transport = new HttpTransport(credentials, parallel)
  const bodies: string[] = []
  try {
    for (let sent = 0; sent < total; sent += parallel) {
      const round = Array.from({ length: Math.min(parallel, total - sent) }, async (_, i) => {
        const response = await transport.request(`${url}/chunk/${sent + i}?part=${sent + i}`)
        return `${response.statusCode} ${await readText(response)}`
      })
      bodies.push(...(await Promise.all(round)))
    }
  } finally {
    // Tunnels are logged by squid when they close.
    transport.close()
  }
  return bodies
}

function portOf(url: string): string {
  return new URL(url).port
}

describe('an http server through a proxy: requests forwarded in absolute form', () => {
  let stock: ForwardProxy
  let server: TestServer

  beforeAll(async () => {
    // squid's stock rules: CONNECT to 443 only, so a tunnel to the server's port is refused.
    stock = await startProxy({ hosts: { [HOST]: '127.0.0.1' }, stock: true })
    server = await startServer()
  })

  afterAll(async () => {
    await stock?.stop()
    await server?.close()
  })

  it('passes a stock squid: absolute-form GETs, never CONNECT, over kept-alive connections', async () => {
    setProxyEnvironment({ http_proxy: stock.url })
    const before = (await stock.requests()).length
    expect(await requestMany(server.url, 10, 2)).toEqual(Array(10).fill('200 ok'))

    const sent = (await stock.requests()).slice(before).filter(r => r.url.includes(HOST))
    expect(sent.map(r => r.method)).toEqual(Array(10).fill('GET'))
    expect(sent.map(r => r.url).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `${server.url}/chunk/${i}?`).sort()
    )
    // Two connections to the proxy carried all ten (without reuse: ten).
    expect(new Set(sent.map(r => r.clientPort)).size).toBeLessThanOrEqual(2)
    // The server got origin-form requests with its own Host, and no proxy credentials.
    expect(server.seen.slice(-10).map(r => r.host)).toEqual(
      Array(10).fill(`${HOST}:${portOf(server.url)}`)
    )
    expect(server.seen.slice(-10).every(r => r.url.startsWith('/chunk/'))).toBe(true)
  })

  it('takes a value without a scheme (proxy.corp:3128) as an http:// proxy, as curl does', async () => {
    setProxyEnvironment({ http_proxy: `localhost:${portOf(stock.url)}` })
    const before = (await stock.requests()).length
    expect(await requestMany(server.url, 1, 1)).toEqual(['200 ok'])
    const sent = (await stock.requests()).slice(before).filter(r => r.url.includes(HOST))
    expect(sent.map(r => r.method)).toEqual(['GET'])
  })

  it("says when the proxy answered in the server's place (it cannot reach it)", async () => {
    const port = await freePort()
    setProxyEnvironment({ http_proxy: stock.url })
    const error = await requestError(`http://${HOST}:${port}/git/x`)
    expect(error).toBeInstanceOf(TransientError)
    expect(error.message).toBe(
      `network error talking to ${HOST}:${port} through the proxy ${new URL(stock.url).host} ` +
        '(from http_proxy): the proxy answered HTTP 503 itself (ERR_CONNECT_FAIL 111)'
    )
  })

  it('refuses a proxy it cannot speak to, naming the variable', async () => {
    setProxyEnvironment({ HTTP_PROXY: 'socks5://127.0.0.1:1080' })
    const error = await requestError(`http://${HOST}:8080/git/x`)
    expect(error).toBeInstanceOf(ExpectedError)
    expect(error).not.toBeInstanceOf(TransientError)
    expect(error.message).toBe(
      'HTTP_PROXY names a socks5:// proxy; only http:// and https:// proxies are supported'
    )
  })

  it('refuses a proxy URL it cannot read, without showing it', async () => {
    for (const value of ['http://alice:50%zz@127.0.0.1:3128', '127.0.0.1:port']) {
      setProxyEnvironment({ http_proxy: value })
      const error = await requestError(`http://${HOST}:8080/git/x`)
      expect(error).toBeInstanceOf(ExpectedError)
      expect(error.message).toBe(
        'http_proxy is not a proxy URL (http://HOST:PORT, with USER:PASSWORD@ percent-encoded)'
      )
    }
  })
})

describe('an https server through a proxy: CONNECT tunnels kept alive', () => {
  let stock: ForwardProxy
  let server: TestServer
  let misnamed: TestServer
  let trusted: string[]

  beforeAll(async () => {
    const dir = await tempDirectory('transport-tls-')
    const identity = await selfSignedIdentity(path.join(dir, 'server'), HOST)
    // Trusted, but for another name: the certificate check must still refuse it.
    const other = await selfSignedIdentity(path.join(dir, 'other'), 'other.test')
    // As NODE_EXTRA_CA_CERTS does for the action, for this test process.
    trusted = tls.getCACertificates('default')
    tls.setDefaultCACertificates([...trusted, identity.cert.toString(), other.cert.toString()])
    stock = await startProxy({ hosts: { [HOST]: '127.0.0.1' }, stock: true })
    server = await startServer(identity)
    misnamed = await startServer(other)
  })

  afterAll(async () => {
    if (trusted) tls.setDefaultCACertificates(trusted)
    await stock?.stop()
    await server?.close()
    await misnamed?.close()
  })

  it('reuses each tunnel: ten requests, two at a time, take two CONNECTs', async () => {
    setProxyEnvironment({ https_proxy: proxy.url })
    const before = (await proxy.requests()).length
    expect(await requestMany(server.url, 10, 2)).toEqual(Array(10).fill('200 ok'))

    const sent = (await proxy.requests()).slice(before).filter(r => r.url.includes(HOST))
    // Without reuse (the toolkit's agents): ten CONNECTs, ten TLS handshakes.
    expect(sent.every(r => r.method === 'CONNECT')).toBe(true)
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.length).toBeLessThanOrEqual(2)
    const seen = server.seen.slice(-10)
    expect(new Set(seen.map(r => r.connection)).size).toBe(sent.length)
    // TLS to the server inside the tunnel: its name as SNI, no proxy credentials inside.
    expect(seen.every(r => r.servername === HOST && !r.proxyAuthorization)).toBe(true)
    expect(seen.map(r => r.host)).toEqual(Array(10).fill(`${HOST}:${portOf(server.url)}`))
  })

  it("checks the server's certificate through the tunnel as on a direct connection", async () => {
    setProxyEnvironment({ https_proxy: proxy.url })
    const error = await requestError(misnamed.url)
    expect(error.message).toMatch(
      new RegExp(
        `^network error talking to ${HOST}:${portOf(misnamed.url)} through the proxy .*: ` +
          'ERR_TLS_CERT_ALTNAME_INVALID$'
      )
    )
    expect(misnamed.seen).toEqual([])
  })

  it('reports a stock squid refusing CONNECT to a port other than 443 as a refusal, not retried', async () => {
    setProxyEnvironment({ https_proxy: stock.url })
    const error = await requestError(server.url)
    expect(error).toBeInstanceOf(ExpectedError)
    expect(error).not.toBeInstanceOf(TransientError)
    expect(error.message).toBe(
      `network error talking to ${HOST}:${portOf(server.url)} through the proxy ` +
        `${new URL(stock.url).host} (from https_proxy): the proxy refused the tunnel with HTTP 403`
    )
  })

  it('names a proxy that is down', async () => {
    const port = await freePort()
    setProxyEnvironment({ HTTPS_PROXY: `http://127.0.0.1:${port}` })
    const error = await requestError(server.url)
    expect(error).toBeInstanceOf(TransientError)
    expect(error.message).toBe(
      `network error talking to ${HOST}:${portOf(server.url)} through the proxy 127.0.0.1:${port} ` +
        `(from HTTPS_PROXY): could not reach the proxy (connect ECONNREFUSED 127.0.0.1:${port})`
    )
  })

  it('goes direct for a host in no_proxy', async () => {
    setProxyEnvironment({ https_proxy: proxy.url, NO_PROXY: `other.example,.proxy.test` })
    const error = await requestError(server.url)
    expect(error).toBeInstanceOf(ExpectedError)
    expect(error.message).toBe(
      `network error talking to ${HOST}:${portOf(server.url)} directly (exempt from https_proxy ` +
        'by no_proxy or as a loopback host): the host name does not resolve (ENOTFOUND); check server-url'
    )
  })
})

describe('proxy credentials', () => {
  const PASSWORD = 'pr0xy:p@ss'
  let guarded: ForwardProxy
  let plain: TestServer
  let secure: TestServer
  let trusted: string[]

  beforeAll(async () => {
    const identity = await selfSignedIdentity(await tempDirectory('transport-auth-'), HOST)
    trusted = tls.getCACertificates('default')
    tls.setDefaultCACertificates([...trusted, identity.cert.toString()])
    guarded = await startProxy({ hosts: { [HOST]: '127.0.0.1' }, users: { alice: PASSWORD } })
    plain = await startServer()
    secure = await startServer(identity)
  })

  afterAll(async () => {
    if (trusted) tls.setDefaultCACertificates(trusted)
    await guarded?.stop()
    await plain?.close()
    await secure?.close()
  })

  /** The proxy URL with user:password@, percent-encoded as a URL must carry them. */
  function withCredentials(user: string, password: string): string {
    const url = new URL(guarded.url)
    url.username = encodeURIComponent(user)
    url.password = encodeURIComponent(password)
    return url.href
  }

  it.each(['http', 'https'])(
    'sends user:password from the proxy URL as Proxy-Authorization (%s server)',
    async scheme => {
      const server = scheme === 'https' ? secure : plain
      setProxyEnvironment({
        http_proxy: withCredentials('alice', PASSWORD),
        https_proxy: withCredentials('alice', PASSWORD)
      })
      const before = (await guarded.log()).length
      expect(await requestMany(server.url, 4, 2)).toEqual(Array(4).fill('200 ok'))
      const lines = (await guarded.log()).slice(before).filter(line => line.includes(HOST))
      expect(lines.length).toBeGreaterThan(0)
      // The access log's user column: squid checked alice's password on every request.
      expect(lines.every(line => / alice HIER_DIRECT\//.test(line))).toBe(true)
      expect(server.seen.some(r => r.proxyAuthorization)).toBe(false)
    }
  )

  it.each([
    ['http', 'the proxy answered HTTP 407 itself (ERR_CACHE_ACCESS_DENIED 0)'],
    ['https', 'the proxy refused the tunnel with HTTP 407']
  ])('without credentials: one clear message, not retried (%s server)', async (scheme, refusal) => {
    const server = scheme === 'https' ? secure : plain
    const variable = `${scheme}_proxy`
    setProxyEnvironment({ [variable]: guarded.url })
    const error = await requestError(`${server.url}/git/x`)
    expect(error).toBeInstanceOf(ExpectedError)
    expect(error).not.toBeInstanceOf(TransientError)
    const proxyHost = new URL(guarded.url).host
    expect(error.message).toBe(
      `network error talking to ${new URL(server.url).host} through the proxy ${proxyHost} ` +
        `(from ${variable}): ${refusal}: it wants credentials, as ` +
        `http://USER:PASSWORD@${proxyHost} in ${variable}`
    )
  })

  it.each(['http', 'https'])(
    'with wrong credentials: says so, never showing them (%s server)',
    async scheme => {
      const server = scheme === 'https' ? secure : plain
      setProxyEnvironment({
        HTTP_PROXY: withCredentials('alice', 'wrong-secret'),
        HTTPS_PROXY: withCredentials('alice', 'wrong-secret')
      })
      const error = await requestError(`${server.url}/git/x`)
      expect(error).toBeInstanceOf(ExpectedError)
      expect(error.message).toMatch(/ with HTTP 407|HTTP 407 itself/)
      expect(error.message).toMatch(/: it did not accept the credentials in HTTPS?_PROXY$/)
      expect(error.message).not.toContain('wrong-secret')
      expect(error.message).not.toContain('alice')
    }
  )
})

describe('an https:// proxy (TLS to the proxy itself)', () => {
  let secureProxy: ForwardProxy
  let plain: TestServer
  let secure: TestServer
  let trusted: string[]

  beforeAll(async () => {
    const dir = await tempDirectory('transport-tls-proxy-')
    const proxyIdentity = await selfSignedIdentity(path.join(dir, 'proxy'), '127.0.0.1')
    const serverIdentity = await selfSignedIdentity(path.join(dir, 'server'), HOST)
    trusted = tls.getCACertificates('default')
    tls.setDefaultCACertificates([
      ...trusted,
      proxyIdentity.cert.toString(),
      serverIdentity.cert.toString()
    ])
    secureProxy = await startProxy({ hosts: { [HOST]: '127.0.0.1' }, tls: proxyIdentity })
    plain = await startServer()
    secure = await startServer(serverIdentity)
  })

  afterAll(async () => {
    if (trusted) tls.setDefaultCACertificates(trusted)
    await secureProxy?.stop()
    await plain?.close()
    await secure?.close()
  })

  it.each([
    ['http', 'GET'],
    ['https', 'CONNECT']
  ])("carries an %s server's requests (%s), reusing its connections", async (scheme, method) => {
    const server = scheme === 'https' ? secure : plain
    setProxyEnvironment({ [`${scheme}_proxy`]: secureProxy.url })
    expect(secureProxy.url).toMatch(/^https:\/\//)
    const before = (await secureProxy.requests()).length
    expect(await requestMany(server.url, 6, 2)).toEqual(Array(6).fill('200 ok'))
    const sent = (await secureProxy.requests()).slice(before).filter(r => r.url.includes(HOST))
    expect(new Set(sent.map(r => r.method))).toEqual(new Set([method]))
    expect(new Set(sent.map(r => r.clientPort)).size).toBeLessThanOrEqual(2)
  })
})
