/**
 * The one client of cachew's own endpoints, over one transport (kept-alive connections, the
 * proxy, Authorization to server-url's origin only): the snapshot's metadata (HEAD), and
 * ensure-refs. The snapshot and the delta bundle are downloaded by the download engine
 * (src/download/download.ts) through `transport`; every status goes through one mapping
 * (./status.ts).
 */
import type { IncomingMessage } from 'node:http'
import { asNetworkError, header, HttpTransport } from '../download/http.js'
import { ExpectedError } from '../errors.js'
import type { RestoreSettings } from '../settings.js'
import { ensureRefsUrl, snapshotUrl } from './endpoints.js'
import { snapshotFields, type SnapshotFields } from './snapshot.js'
import { errorForStatus } from './status.js'

export type ClientSettings = Pick<RestoreSettings, 'serverUrl' | 'repositoryUrl' | 'authorization'>

/** What a HEAD of the snapshot says: from cachew's cache, never generating anything. */
export interface SnapshotHead {
  status: number
  etag?: string
  /** Content-Length of the compressed snapshot, when given. */
  size?: number
  fields: SnapshotFields
}

export class CachewClient {
  readonly transport: HttpTransport
  readonly snapshotUrl: string

  /** A transport of its own with `maxSockets` connections, or one shared with another client. */
  constructor(
    private readonly settings: ClientSettings,
    connections: number | HttpTransport
  ) {
    this.transport =
      typeof connections === 'number' ? new HttpTransport(settings, connections) : connections
    this.snapshotUrl = snapshotUrl(settings.serverUrl, settings.repositoryUrl)
  }

  /**
   * The same server for another repository (a submodule), over this client's transport and
   * connections; closing this client closes it too.
   */
  forRepository(repositoryUrl: string): CachewClient {
    return new CachewClient({ ...this.settings, repositoryUrl }, this.transport)
  }

  /**
   * HEAD of the snapshot, optionally conditional (If-None-Match: 304 when it is still that
   * one). Any status is returned as it is; only the network fails.
   */
  async headSnapshot(options: { ifNoneMatch?: string; signal?: AbortSignal } = {}) {
    const headers: Record<string, string> = {}
    if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch
    const response = await this.transport.request(this.snapshotUrl, {
      method: 'HEAD',
      headers,
      signal: options.signal
    })
    response.resume()
    const size = Number(header(response, 'content-length'))
    const head: SnapshotHead = {
      status: response.statusCode ?? 0,
      etag: header(response, 'etag'),
      size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
      fields: snapshotFields(this.settings.serverUrl, response.headers)
    }
    return head
  }

  /** Asks cachew to bring its mirror up to date for these refs and commits (one attempt). */
  ensureRefs(request: EnsureRefsRequest): Promise<EnsureRefsAnswer> {
    return postEnsureRefs(this.transport, this.settings, request)
  }

  /** Closes idle kept-alive connections so the process can exit. */
  close(): void {
    this.transport.close()
  }
}

export interface EnsureRefsRequest {
  refs: Record<string, string>
  commits: string[]
}

export interface EnsureRefsAnswer {
  refs: Record<string, string>
  missingCommits: string[]
  fetched: boolean
}

const ENSURE_REFS_TIMEOUT_MS = 120_000

/**
 * Asks cachew to bring its mirror up to date for these refs and commits, once (./retry.ts
 * is the one retry layer). Failures are typed as the download's are: the transport makes a
 * network error a TransientError, and the status policy of src/cachew/status.ts types a
 * status (5xx and 429 transient, with Retry-After; 401, 403 and the rest not).
 */
async function postEnsureRefs(
  transport: HttpTransport,
  settings: ClientSettings,
  request: EnsureRefsRequest
): Promise<EnsureRefsAnswer> {
  const url = ensureRefsUrl(settings.serverUrl, settings.repositoryUrl)
  const signal = AbortSignal.timeout(ENSURE_REFS_TIMEOUT_MS)
  try {
    const response = await transport.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal
    })
    const body = await bodyText(response, url)
    const status = response.statusCode ?? 0
    if (status !== 200) {
      throw errorForStatus(status, {
        what: 'ensure-refs endpoint',
        url,
        authorized: settings.authorization !== undefined,
        retryAfter: header(response, 'retry-after')
      })
    }
    return parseEnsureRefsAnswer(body)
  } catch (error) {
    // Not transient: ensure-refs only helps the fetch that follows anyway, and eight waits of
    // two minutes would hold the job for sixteen.
    if (signal.aborted) {
      throw new ExpectedError(
        `ensure-refs did not answer within ${ENSURE_REFS_TIMEOUT_MS / 1000} s`
      )
    }
    throw error
  }
}

/** The whole body; a connection lost on the way is a network error, as before the headers. */
async function bodyText(response: IncomingMessage, url: string): Promise<string> {
  const chunks: Buffer[] = []
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk)
  } catch (error) {
    throw asNetworkError(error, new URL(url))
  }
  return Buffer.concat(chunks).toString('utf8')
}

function briefBody(body: string): string {
  const text = body.trim().slice(0, 200)
  return text ? `: ${text}` : ''
}

export function parseEnsureRefsAnswer(body: string): EnsureRefsAnswer {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw new ExpectedError(`ensure-refs answered with invalid JSON${briefBody(body)}`)
  }
  const value = (parsed ?? {}) as { refs?: unknown; missing_commits?: unknown; fetched?: unknown }
  const refs: Record<string, string> = {}
  if (value.refs && typeof value.refs === 'object') {
    for (const [name, sha] of Object.entries(value.refs as Record<string, unknown>)) {
      if (typeof sha === 'string' && sha !== '') refs[name] = sha.toLowerCase()
    }
  }
  const missingCommits = Array.isArray(value.missing_commits)
    ? value.missing_commits
        .filter((sha): sha is string => typeof sha === 'string')
        .map(s => s.toLowerCase())
    : []
  return { refs, missingCommits, fetched: value.fetched === true }
}
