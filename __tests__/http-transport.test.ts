/**
 * The transport's network errors say which route failed: the proxy (and the variable that
 * named it) or the host reached directly. Real sockets on 127.0.0.1, a real squid.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { ExpectedError, TransientError } from '../src/errors.js'
import { asNetworkError, HttpTransport } from '../src/download/http.js'
import { startProxy, type ForwardProxy } from './support/proxy.js'
import { freePort } from './support/daemon.js'

const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy']
const saved = Object.fromEntries(PROXY_VARIABLES.map(name => [name, process.env[name]]))
let proxy: ForwardProxy

beforeAll(async () => {
  proxy = await startProxy({ hosts: { 'cachew.proxy.test': '127.0.0.1' } })
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
