/**
 * One HTTP transport for every request to cachew: kept-alive connections, the proxy
 * settings the runner's environment gives (http_proxy/https_proxy/no_proxy in either case,
 * through @actions/http-client's agents: CONNECT tunnels, loopback hosts never proxied), the
 * Authorization header (to server-url's origin only: src/cachew/credentials.ts), and
 * cancellation by AbortSignal. Bodies are returned as streams;
 * nothing is buffered here.
 */
import { getProxyUrl, HttpClient } from '@actions/http-client'
import * as http from 'node:http'
import * as https from 'node:https'
import { orCancelled } from '../cancellation.js'
import { authorizationFor } from '../cachew/credentials.js'
import { ExpectedError, TransientError } from '../errors.js'

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
  private readonly client: HttpClient

  constructor(
    private readonly credentials: ServerCredentials | undefined,
    maxSockets: number
  ) {
    this.client = new HttpClient('cachew-restore', [], { keepAlive: true, maxSockets })
  }

  /** Sends a request; resolves with the response once its headers arrive. */
  request(url: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const target = new URL(url)
    const module = target.protocol === 'https:' ? https : http
    const headers: Record<string, string> = { 'user-agent': 'cachew-restore', ...options.headers }
    const authorization =
      this.credentials &&
      authorizationFor(this.credentials.serverUrl, this.credentials.authorization, url)
    if (authorization) headers.authorization = authorization
    if (options.body !== undefined)
      headers['content-length'] = String(Buffer.byteLength(options.body))
    return new Promise((resolve, reject) => {
      const request = module.request(target, {
        method: options.method ?? 'GET',
        headers,
        agent: this.client.getAgent(url),
        signal: orCancelled(options.signal)
      })
      request.on('response', resolve)
      request.on('error', error => reject(asNetworkError(error, target, proxyRoute(target))))
      request.end(options.body)
    })
  }

  /** Closes idle kept-alive sockets so the process can exit. */
  close(): void {
    this.client.dispose()
  }
}

/** How requests to a URL travel, by the runner's proxy variables. */
export interface ProxyRoute {
  /** The proxy's host:port (never its credentials); absent when the request goes direct. */
  proxyHost?: string
  /** The variable that names the proxy, e.g. 'https_proxy' or 'HTTP_PROXY'. */
  variable?: string
}

/** Asks @actions/http-client, whose agent makes the same decision from process.env. */
export function proxyRoute(target: URL): ProxyRoute {
  const names =
    target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY']
  const variable = names.find(name => process.env[name])
  const proxy = getProxyUrl(target.href)
  return proxy ? { proxyHost: new URL(proxy).host, variable } : { variable }
}

/**
 * Network failures are transient, but for a name that does not resolve: retrying that only
 * makes a typo in server-url (or a no_proxy that sends the request past the only resolver
 * that knows the name) take half a minute to report. The message names the host and, when one
 * is involved, the proxy and the variable that chose it (never credentials), so a wrong proxy
 * setting reads as one rather than as a fault of the server.
 */
export function asNetworkError(error: unknown, target: URL, route: ProxyRoute = {}): Error {
  if (error instanceof ExpectedError) return error // already explained (TransientError is one)
  const err = error as NodeJS.ErrnoException
  if (err?.name === 'AbortError') return err
  const message = `network error talking to ${target.host}${describeRoute(route)}: ${networkReason(err, error)}`
  if (err?.code === 'ENOTFOUND') return new ExpectedError(`${message}; check server-url`)
  return new TransientError(message)
}

function describeRoute({ proxyHost, variable }: ProxyRoute): string {
  if (proxyHost)
    return ` through the proxy ${proxyHost} (from ${variable ?? 'the proxy variables'})`
  // A proxy is configured but this host is exempt (no_proxy, or a loopback address).
  return variable ? ` directly (exempt from ${variable} by no_proxy or as a loopback host)` : ''
}

/** Reads the tunnelling agent's errors, which all carry ECONNRESET whatever happened. */
function networkReason(err: NodeJS.ErrnoException | undefined, error: unknown): string {
  const message = err?.message ?? ''
  const tunnel = /^tunneling socket could not be established, (cause|statusCode)=(.*)$/.exec(
    message
  )
  if (tunnel?.[1] === 'cause') return `could not reach the proxy (${tunnel[2]})`
  if (tunnel) return `the proxy refused the tunnel with HTTP ${tunnel[2]}`
  if (err?.code === 'ENOTFOUND') return 'the host name does not resolve (ENOTFOUND)'
  return err?.code ?? (message || String(error))
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

export function header(response: http.IncomingMessage, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}
