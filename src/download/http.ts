/**
 * One HTTP transport for every request to cachew: kept-alive connections, the proxy
 * settings the runner's environment gives (http_proxy/https_proxy/no_proxy in either case,
 * loopback hosts never proxied; the routes are in agents.ts), the Authorization header (to
 * server-url's origin only: src/cachew/credentials.ts), and cancellation by AbortSignal.
 * Bodies are returned as streams; nothing is buffered here.
 */
import type * as http from 'node:http'
import { orCancelled } from '../cancellation.js'
import { authorizationFor } from '../cachew/credentials.js'
import { ExpectedError, TransientError } from '../errors.js'
import { Connections, ProxyRefusal, proxyRefusal, type ProxyRoute } from './agents.js'
import { RangeLane } from './range-lane.js'

export type { ProxyRoute } from './agents.js'

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST'
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

/** cachew's Authorization value and the server it belongs to. */
export interface ServerCredentials {
  serverUrl: string
  authorization?: string
}

export class HttpTransport {
  private readonly connections: Connections

  constructor(
    private readonly credentials: ServerCredentials | undefined,
    maxSockets: number
  ) {
    this.connections = new Connections(maxSockets)
  }

  /** Sends a request; resolves with the response once its headers arrive. */
  request(url: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const target = new URL(url)
    const headers = this.headersFor(url, options.headers)
    if (options.body !== undefined)
      headers['content-length'] = String(Buffer.byteLength(options.body))
    return new Promise((resolve, reject) => {
      const { request, route, forwarded } = this.connections.request(target, {
        method: options.method ?? 'GET',
        headers,
        signal: orCancelled(options.signal)
      })
      request.on('response', response => {
        const refusal = forwarded ? proxyRefusal(response) : undefined
        if (!refusal) return resolve(response)
        discard(response)
        reject(asNetworkError(refusal, target, route))
      })
      request.on('error', error => reject(asNetworkError(error, target, route)))
      request.end(options.body)
    })
  }

  /** What every request to `url` carries: the user agent, and cachew's Authorization there. */
  headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': 'cachew-restore', ...extra }
    const authorization =
      this.credentials &&
      authorizationFor(this.credentials.serverUrl, this.credentials.authorization, url)
    if (authorization) headers.authorization = authorization
    return headers
  }

  /**
   * A connection of its own for GETs to `url`'s server that reads into one reused buffer
   * (range-lane.ts), when requests there go direct; undefined through a proxy, whose route
   * stays with the agents.
   */
  openLane(url: string): RangeLane | undefined {
    const target = new URL(url)
    return this.connections.goesDirect(target) ? new RangeLane(target) : undefined
  }

  /** Closes idle kept-alive sockets and tunnels so the process can exit. */
  close(): void {
    this.connections.close()
  }
}

/** A whole (small) response body as text. */
export async function readText(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Network failures are transient, except two kinds that retrying only makes slower to report
 * (half a minute): a name that does not resolve (a typo in server-url, or a no_proxy that sends
 * the request past the only resolver that knows the name), and a proxy that refuses for good
 * (403, or 407 for credentials). The message names the host and, when one is involved, the
 * proxy and the variable that chose it (never credentials), so a wrong proxy setting reads as
 * one rather than as a fault of the server.
 */
export function asNetworkError(error: unknown, target: URL, route: ProxyRoute = {}): Error {
  if (error instanceof ExpectedError) return error // already explained (TransientError is one)
  const err = error as NodeJS.ErrnoException
  if (err?.name === 'AbortError') return err
  const message = `network error talking to ${target.host}${describeRoute(route)}: ${networkReason(err, error, route)}`
  if (err?.code === 'ENOTFOUND') {
    const check = route.proxyHost ? (route.variable ?? 'the proxy variables') : 'server-url'
    return new ExpectedError(`${message}; check ${check}`)
  }
  if (error instanceof ProxyRefusal && (error.status === 403 || error.status === 407)) {
    return new ExpectedError(message)
  }
  return new TransientError(message)
}

function describeRoute({ proxyHost, variable }: ProxyRoute): string {
  if (proxyHost)
    return ` through the proxy ${proxyHost} (from ${variable ?? 'the proxy variables'})`
  // A proxy is configured but this host is exempt (no_proxy, or a loopback address).
  return variable ? ` directly (exempt from ${variable} by no_proxy or as a loopback host)` : ''
}

function networkReason(
  err: NodeJS.ErrnoException | undefined,
  error: unknown,
  route: ProxyRoute
): string {
  if (error instanceof ProxyRefusal) return refusalReason(error, route)
  const message = err?.message ?? ''
  // Through a proxy the action connects to nothing else: a failed connect is the proxy's.
  if (route.proxyHost && (err?.syscall === 'connect' || err?.syscall === 'getaddrinfo'))
    return `could not reach the proxy (${message})`
  if (err?.code === 'ENOTFOUND') return 'the host name does not resolve (ENOTFOUND)'
  return err?.code ?? (message || String(error))
}

function refusalReason(refusal: ProxyRefusal, route: ProxyRoute): string {
  const what = refusal.tunnel
    ? `the proxy refused the tunnel with HTTP ${refusal.status}`
    : `the proxy answered HTTP ${refusal.status} itself${refusal.detail ? ` (${refusal.detail})` : ''}`
  if (refusal.status !== 407) return what
  const variable = route.variable ?? 'the proxy variable'
  return route.proxyCredentials
    ? `${what}: it did not accept the credentials in ${variable}`
    : `${what}: it wants credentials, as http://USER:PASSWORD@${route.proxyHost} in ${variable}`
}

/**
 * Gets rid of a response whose body is not wanted: a small one is drained so its kept-alive
 * connection can be reused, a large or unknown one (a whole snapshot that ignored Range) is
 * cut off rather than downloaded.
 */
export function discard(response: http.IncomingMessage): void {
  const length = Number(header(response, 'content-length') ?? NaN)
  if (length <= 65536) response.resume()
  else response.destroy()
}

/** A response's status and headers, from Node's client or a RangeLane. */
export interface ResponseFields {
  statusCode?: number
  headers: Record<string, string | string[] | undefined>
}

export function header(response: ResponseFields, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}
