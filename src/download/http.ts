/**
 * One HTTP transport for every request to cachew: kept-alive connections, the proxy
 * settings the runner's environment gives (https_proxy/no_proxy, through
 * @actions/http-client's agents), the Authorization header, and cancellation by
 * AbortSignal. Bodies are returned as streams; nothing is buffered here.
 */
import { HttpClient } from '@actions/http-client'
import * as http from 'node:http'
import * as https from 'node:https'
import { TransientError } from '../errors.js'

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST'
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export class HttpTransport {
  private readonly client: HttpClient

  constructor(
    private readonly authorization: string | undefined,
    maxSockets: number
  ) {
    this.client = new HttpClient('cachew-restore', [], { keepAlive: true, maxSockets })
  }

  /** Sends a request; resolves with the response once its headers arrive. */
  request(url: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const target = new URL(url)
    const module = target.protocol === 'https:' ? https : http
    const headers: Record<string, string> = { 'user-agent': 'cachew-restore', ...options.headers }
    if (this.authorization) headers.authorization = this.authorization
    if (options.body !== undefined)
      headers['content-length'] = String(Buffer.byteLength(options.body))
    return new Promise((resolve, reject) => {
      const request = module.request(target, {
        method: options.method ?? 'GET',
        headers,
        agent: this.client.getAgent(url),
        signal: options.signal
      })
      request.on('response', resolve)
      request.on('error', error => reject(asTransient(error, target)))
      request.end(options.body)
    })
  }

  /** Closes idle kept-alive sockets so the process can exit. */
  close(): void {
    this.client.dispose()
  }
}

/** Network failures are transient; the message names the host, never credentials. */
export function asTransient(error: unknown, target: URL): Error {
  if (error instanceof TransientError) return error
  const err = error as NodeJS.ErrnoException
  if (err?.name === 'AbortError') return err
  const reason = err?.code ?? err?.message ?? String(error)
  return new TransientError(`network error talking to ${target.host}: ${reason}`)
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
