/**
 * The transport's connections, by the route the runner's proxy variables give, each kept alive
 * and reused:
 * - direct: one keep-alive agent per scheme;
 * - an http:// server through a proxy: the request goes to the proxy in absolute form
 *   (`GET http://host:port/path`), over kept-alive connections to the proxy, as curl and git
 *   send it. No CONNECT: a stock squid allows CONNECT only to port 443, so tunnelling plain
 *   http fails behind it while git's requests through the same proxy work;
 * - an https:// server through a proxy: a CONNECT tunnel, TLS to the server inside it (SNI and
 *   certificate checks as on a direct connection, NODE_EXTRA_CA_CERTS included), and the TLS
 *   socket pooled like a direct one, so later requests reuse the tunnel instead of paying a
 *   CONNECT and a handshake each.
 *
 * Which requests take a proxy, and which one, is @actions/http-client's decision (its
 * lib/proxy: lower case before upper case, no_proxy, loopback hosts never proxied), imported
 * alone because the package's index also loads undici (about 50 ms and 23 MB of RSS at
 * start-up), which the action never uses.
 */
import { checkBypass, getProxyUrl } from '@actions/http-client/lib/proxy'
import * as http from 'node:http'
import * as https from 'node:https'
import { isIP, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { ExpectedError } from '../errors.js'

/** How requests to a URL travel, for messages: never the proxy's credentials. */
export interface ProxyRoute {
  /** The proxy's host:port; absent when the request goes direct. */
  proxyHost?: string
  /** The variable that names the proxy, e.g. 'https_proxy' or 'HTTP_PROXY'. */
  variable?: string
  /** The proxy URL carried credentials, sent as Proxy-Authorization. */
  proxyCredentials?: boolean
}

/**
 * The proxy itself turned the request down: it refused a CONNECT, or answered a forwarded
 * request in the server's place (407, or a squid error page).
 */
export class ProxyRefusal extends Error {
  override name = 'ProxyRefusal'
  constructor(
    readonly status: number,
    readonly tunnel: boolean,
    /** The proxy's own words for it, when it gives them (squid's X-Squid-Error). */
    readonly detail?: string
  ) {
    super(`the proxy answered HTTP ${status}${detail ? ` (${detail})` : ''}`)
  }
}

export interface OutgoingRequest {
  method: string
  headers: Record<string, string>
  signal?: AbortSignal
}

export interface SentRequest {
  request: http.ClientRequest
  route: ProxyRoute
  /** Sent to the proxy in absolute form: its answer may be the proxy's own (proxyRefusal). */
  forwarded: boolean
}

/** A proxy to send requests through, with its credentials ready to send. */
interface Proxy {
  url: URL
  /** Proxy-Authorization's value, from the URL's user:password. */
  authorization?: string
}

/** The route for `target`: which proxy, if any, and the variable consulted. */
function proxyFor(target: URL): { proxy?: Proxy; variable?: string } {
  const names =
    target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY']
  const variable = names.find(name => process.env[name])
  if (!variable || checkBypass(target)) return { variable }
  const url = toolkitProxyUrl(target, variable)
  if (url?.protocol === 'http:' || url?.protocol === 'https:') {
    return { proxy: withCredentials(url, url.username, url.password), variable }
  }
  const value = process.env[variable] ?? ''
  const scheme = /^([^:/]*):\/\//.exec(value)?.[1]
  // `proxy.corp:3128` parses as a URL whose scheme is `proxy.corp:`, which the toolkit then
  // takes for no proxy at all; curl, and so git, read a value without a scheme as http://.
  if (scheme === undefined) return { proxy: schemelessProxy(value, variable), variable }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new ExpectedError(
      `${variable} names a ${scheme}:// proxy; only http:// and https:// proxies are supported`
    )
  }
  throw notAProxyUrl(variable)
}

/** The toolkit's parse, which also percent-decodes the credentials (and may throw doing so). */
function toolkitProxyUrl(target: URL, variable: string): URL | undefined {
  try {
    return getProxyUrl(target)
  } catch {
    throw notAProxyUrl(variable)
  }
}

function schemelessProxy(value: string, variable: string): Proxy {
  try {
    const url = new URL(`http://${value}`)
    return withCredentials(url, decodeURIComponent(url.username), decodeURIComponent(url.password))
  } catch {
    throw notAProxyUrl(variable)
  }
}

function notAProxyUrl(variable: string): ExpectedError {
  return new ExpectedError(
    `${variable} is not a proxy URL (http://HOST:PORT, with USER:PASSWORD@ percent-encoded)`
  )
}

function withCredentials(url: URL, username: string, password: string): Proxy {
  if (!username && !password) return { url }
  const basic = Buffer.from(`${username}:${password}`).toString('base64')
  return { url, authorization: `Basic ${basic}` }
}

export class Connections {
  private readonly direct: { http: http.Agent; https: https.Agent }
  /** Per proxy (its URL, credentials included): the agent for forwarded requests, for tunnels. */
  private readonly forwarding = new Map<string, http.Agent>()
  private readonly tunnelling = new Map<string, TunnelAgent>()
  /** CONNECTs not answered yet: close() ends them too. */
  private readonly opening = new Set<http.ClientRequest>()

  constructor(private readonly maxSockets: number) {
    const options = { keepAlive: true, maxSockets }
    this.direct = { http: new http.Agent(options), https: new https.Agent(options) }
  }

  /** Whether requests to `target` go straight to it, through no proxy. */
  goesDirect(target: URL): boolean {
    return proxyFor(target).proxy === undefined
  }

  /** Starts a request to `target`; the caller adds the listeners and ends it. */
  request(target: URL, outgoing: OutgoingRequest): SentRequest {
    const { proxy, variable } = proxyFor(target)
    const { method, headers, signal } = outgoing
    const secure = target.protocol === 'https:'
    if (!proxy) {
      const request = secure
        ? https.request(target, { method, headers, agent: this.direct.https, signal })
        : http.request(target, { method, headers, agent: this.direct.http, signal })
      return { request, route: { variable }, forwarded: false }
    }
    const route = { proxyHost: proxy.url.host, variable, proxyCredentials: !!proxy.authorization }
    if (secure) {
      const agent = this.tunnelAgent(proxy)
      return {
        request: https.request(target, { method, headers, agent, signal }),
        route,
        forwarded: false
      }
    }
    const request = (proxy.url.protocol === 'https:' ? https : http).request({
      ...proxyAddress(proxy),
      method,
      path: absoluteForm(target),
      headers: { ...headers, host: target.host, ...proxyAuthorization(proxy) },
      agent: this.forwardingAgent(proxy),
      signal
    })
    return { request, route, forwarded: true }
  }

  /** Closes every kept-alive socket and tunnel, and any CONNECT still unanswered. */
  close(): void {
    for (const connect of this.opening) connect.destroy()
    this.opening.clear()
    this.direct.http.destroy()
    this.direct.https.destroy()
    for (const agent of [...this.forwarding.values(), ...this.tunnelling.values()]) agent.destroy()
    this.forwarding.clear()
    this.tunnelling.clear()
  }

  private forwardingAgent(proxy: Proxy): http.Agent {
    let agent = this.forwarding.get(proxy.url.href)
    if (!agent) {
      const options = { keepAlive: true, maxSockets: this.maxSockets }
      agent = proxy.url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options)
      this.forwarding.set(proxy.url.href, agent)
    }
    return agent
  }

  private tunnelAgent(proxy: Proxy): TunnelAgent {
    let agent = this.tunnelling.get(proxy.url.href)
    if (!agent) {
      agent = new TunnelAgent(proxy, this.opening, { keepAlive: true, maxSockets: this.maxSockets })
      this.tunnelling.set(proxy.url.href, agent)
    }
    return agent
  }
}

/**
 * An https agent whose connections are TLS sockets over CONNECT tunnels. Node's agent pools
 * them per server like any other connection, so a tunnel carries request after request for
 * as long as it stays open. Measured through squid (bench/proxy-tunnels.ts), 64 MiB in 1 MiB
 * chunks at concurrency 4: 4 CONNECTs instead of one per request (65), 2.03 s instead of
 * 2.67 s with 20 ms to the proxy, 0.89 s instead of 1.19 s without.
 */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: Proxy,
    private readonly opening: Set<http.ClientRequest>,
    options: https.AgentOptions
  ) {
    super(options)
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void
  ): undefined {
    const done = (error: Error | null, stream?: Duplex) => callback?.(error, stream as Duplex)
    const authority = `${bracketed(options.host ?? 'localhost')}:${options.port ?? 443}`
    const userAgent = (options.headers as Record<string, string> | undefined)?.['user-agent']
    openTunnel(this.proxy, authority, userAgent, this.opening).then(socket => {
      try {
        // https.Agent's own TLS connect, over the tunnel: the servername, the CA store
        // (NODE_EXTRA_CA_CERTS) and the session cache a direct connection gets.
        done(
          null,
          super.createConnection({ ...options, socket } as http.ClientRequestArgs) as Duplex
        )
      } catch (error) {
        socket.destroy()
        done(error as Error)
      }
    }, done)
    return undefined
  }
}

/** A CONNECT to `authority` through the proxy; resolves with the open tunnel. */
function openTunnel(
  proxy: Proxy,
  authority: string,
  userAgent: string | undefined,
  opening: Set<http.ClientRequest>
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const connect = (proxy.url.protocol === 'https:' ? https : http).request({
      ...proxyAddress(proxy),
      method: 'CONNECT',
      path: authority,
      headers: {
        host: authority,
        // Node marks a request without an agent `Connection: close`; this one becomes a tunnel
        // that carries many requests.
        connection: 'keep-alive',
        ...(userAgent && { 'user-agent': userAgent }),
        ...proxyAuthorization(proxy)
      },
      agent: false
    })
    opening.add(connect)
    const fail = (error: Error) => {
      opening.delete(connect)
      reject(error)
    }
    connect.once('connect', (response, socket: Socket, head: Buffer) => {
      opening.delete(connect)
      const status = response.statusCode ?? 0
      if (status >= 200 && status < 300) {
        if (head.length > 0) socket.unshift(head)
        resolve(socket)
      } else {
        socket.destroy()
        reject(new ProxyRefusal(status, true))
      }
    })
    // Node reports a refused CONNECT (a status other than 2xx) as an ordinary response.
    connect.once('response', response => {
      response.resume()
      fail(new ProxyRefusal(response.statusCode ?? 0, true))
    })
    connect.once('error', fail)
    connect.end()
  })
}

/**
 * The proxy's own answer to a forwarded request, if this response is one: 407 (only a proxy
 * asks for proxy credentials), or squid's error page (X-Squid-Error), so that a proxy that
 * cannot reach the server, or will not let the request through, is not reported as cachew's
 * answer.
 */
export function proxyRefusal(response: http.IncomingMessage): ProxyRefusal | undefined {
  const status = response.statusCode ?? 0
  const squid = response.headers['x-squid-error']
  const detail = Array.isArray(squid) ? squid[0] : squid
  if (status === 407 || detail) return new ProxyRefusal(status, false, detail)
  return undefined
}

function proxyAuthorization(proxy: Proxy): Record<string, string> {
  return proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}
}

/**
 * Where to connect for the proxy. Over TLS to the proxy, the name to check is the proxy's:
 * left to itself, Node's agent would take the servername from the Host header, which names
 * the server.
 */
function proxyAddress({ url }: Proxy): {
  protocol: string
  hostname: string
  port: number
  servername?: string
} {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (url.protocol === 'http:') return { protocol: 'http:', hostname, port: Number(url.port || 80) }
  // No SNI for an IP address (RFC 6066); the certificate is then checked against the IP.
  const servername = isIP(hostname) ? '' : hostname
  return { protocol: 'https:', hostname, port: Number(url.port || 443), servername }
}

/** The request target a proxy expects: the whole URL, without credentials or fragment. */
function absoluteForm(target: URL): string {
  return `${target.protocol}//${target.host}${target.pathname}${target.search}`
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
