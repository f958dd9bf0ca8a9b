/**
 * Downloads a snapshot into a Spool. The first request asks for the first chunk and
 * yields the plan; when the server pins the object with an ETag and honours Range, the
 * rest goes out as ranged requests (If-Match), at most `concurrency` in flight, each
 * verified, resumed from where it broke, and retried by one policy. Otherwise the first
 * response is the whole download: one stream, resumed by Range when the server allows.
 */
import { EventEmitter, once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { errorForStatus } from '../cachew/status.js'
import {
  CacheMissError,
  RestartRequiredError,
  ServerError,
  SnapshotChangedError,
  TransientError
} from '../errors.js'
import { asNetworkError, discard, header, type HttpTransport, type ResponseFields } from './http.js'
import { type RangeLane, UnframedResponseError } from './range-lane.js'
import { DEFAULT_RETRY_POLICY, RetryBudget, type RetryPolicy } from './retry.js'
import type { Spool } from './spool.js'

export interface DownloadOptions {
  transport: HttpTransport
  concurrency: number
  chunkSize: number
  stallTimeoutMs: number
  signal: AbortSignal
  retry?: RetryPolicy
  /** What is downloaded, for messages, without an article: "snapshot", "delta bundle". */
  what?: string
  authorized?: boolean
}

/** What the first response told about the object. */
export interface ObjectInfo {
  /** Total size, when known (unknown on a cold serve). */
  size?: number
  etag?: string
  /** The response's headers, for the protocol's own fields (commit, bundle URL). */
  headers: IncomingMessage['headers']
  status: number
}

export interface DownloadStats {
  mode: 'parallel' | 'single'
  bytes: number
  requests: number
  retries: number
  inFlight: number
  maxInFlight: number
  /** Requests allowed at once now: halved after a 429/503, grown back by one per chunk. */
  concurrencyLimit: number
}

/** Stats before the first request (and of a restore that needed none). */
export function noDownloadYet(concurrencyLimit: number): DownloadStats {
  return {
    mode: 'single',
    bytes: 0,
    requests: 0,
    retries: 0,
    inFlight: 0,
    maxInFlight: 0,
    concurrencyLimit
  }
}

interface Segment {
  start: number
  /** Exclusive; Infinity when the size is unknown. */
  end: number
}

/** A body that carried more bytes than its range: the chunk is fetched again from its start. */
class OverlongBodyError extends TransientError {}

export class Download {
  readonly stats: DownloadStats
  /** Settles when every byte is in the spool (then spool.finish was called) or on failure. */
  completion!: Promise<void>
  info!: ObjectInfo
  private readonly budget: RetryBudget
  private segments: Segment[] = []
  private resumable = false
  /** Ranged chunks go over RangeLanes until a response comes that a lane cannot read. */
  private lanes = true
  /** Says when a request ends, for workers waiting while the pool is shrunk. */
  private readonly slots = new EventEmitter()
  /** Aborts every request of this download once one part has failed for good. */
  private readonly cancel = new AbortController()
  private readonly signal: AbortSignal

  private constructor(
    private readonly url: string,
    private readonly spool: Spool,
    private readonly options: DownloadOptions
  ) {
    this.budget = new RetryBudget(options.retry ?? DEFAULT_RETRY_POLICY)
    this.signal = AbortSignal.any([options.signal, this.cancel.signal])
    // Every worker may wait here at once (up to 64).
    this.slots.setMaxListeners(0)
    this.stats = noDownloadYet(options.concurrency)
  }

  /**
   * Sends the discovery request and resolves once the plan is known; the transfer goes on
   * in the background (`completion`). A failure before the plan is known rejects here.
   */
  static async start(url: string, spool: Spool, options: DownloadOptions): Promise<Download> {
    const download = new Download(url, spool, options)
    const first = await download.discover()
    download.completion = download.transfer(first).then(
      () => spool.finish(download.totalBytes()),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error))
        spool.fail(failure)
        throw failure
      }
    )
    // The caller observes completion; this keeps an early failure from being "unhandled".
    download.completion.catch(() => undefined)
    return download
  }

  private totalBytes(): number {
    const last = this.segments[this.segments.length - 1]
    return last.end === Infinity ? this.spool.frontier : last.end
  }

  private get what(): string {
    return this.options.what ?? 'snapshot'
  }

  /** Returns the first response (headers read, body unread) and fixes the plan. */
  private async discover(): Promise<Attempt> {
    const { concurrency, chunkSize } = this.options
    let askRange = concurrency > 1
    let failures = 0
    for (;;) {
      const headers: Record<string, string> = askRange ? { range: `bytes=0-${chunkSize - 1}` } : {}
      try {
        const attempt = await this.send(headers)
        const { response } = attempt
        const status = response.statusCode ?? 0
        if (status === 416 && askRange) {
          // An empty object cannot be ranged: ask for it whole.
          attempt.release()
          askRange = false
          continue
        }
        if (status !== 200 && status !== 206 && status !== 204) {
          attempt.release()
          throw this.statusError(response)
        }
        if (this.plan(response)) return attempt
        // A partial answer the action cannot pin (no ETag): ask for the whole object.
        attempt.release()
        askRange = false
      } catch (error) {
        if (!(error instanceof TransientError)) throw error
        failures++
        this.stats.retries++
        await this.budget.wait(error, failures, this.signal)
      }
    }
  }

  /** Sets info, segments and mode from the first response; false when it must be asked again. */
  private plan(response: IncomingMessage): boolean {
    const status = response.statusCode ?? 0
    const etag = strongEtag(header(response, 'etag'))
    const range = parseContentRange(header(response, 'content-range'))
    const length = parseLength(header(response, 'content-length'))
    const chunkSize = this.options.chunkSize
    if (status === 206) {
      if (!range || range.start !== 0) return false
      if (range.end + 1 < range.size && !etag) return false
      this.info = { size: range.size, etag, headers: response.headers, status }
      this.resumable = etag !== undefined
      this.segments = [{ start: 0, end: range.end + 1 }]
      for (let start = range.end + 1; start < range.size; start += chunkSize) {
        this.segments.push({ start, end: Math.min(start + chunkSize, range.size) })
      }
    } else {
      // 204 (a bundle endpoint's "nothing to apply") is an empty object.
      const size = status === 204 ? 0 : length
      this.info = { size, etag, headers: response.headers, status }
      this.resumable =
        etag !== undefined && size !== undefined && header(response, 'accept-ranges') === 'bytes'
      this.segments = [{ start: 0, end: size ?? Infinity }]
    }
    this.stats.mode = this.segments.length > 1 ? 'parallel' : 'single'
    this.spool.setSegments(this.segments)
    return true
  }

  /**
   * Runs the segments through at most `concurrency` workers; the first one takes the discovery
   * response. Each worker fetches its ranged chunks over a lane of its own (a direct
   * connection: the transport gives none through a proxy).
   */
  private async transfer(first: Attempt): Promise<void> {
    const queue = this.segments.map((_, index) => index).slice(1)
    let failure: { error: unknown } | undefined
    const worker = async (firstAttempt?: Attempt): Promise<void> => {
      const lane = queue.length > 0 ? this.options.transport.openLane(this.url) : undefined
      try {
        if (firstAttempt) await this.fetchSegment(0, undefined, firstAttempt)
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
          await this.waitForSlot()
          await this.fetchSegment(index, lane)
        }
      } catch (error) {
        if (!failure) {
          failure = { error }
          this.cancel.abort(error)
        }
      } finally {
        lane?.close()
      }
    }
    const workers = [worker(first)]
    for (let i = 1; i < Math.min(this.options.concurrency, this.segments.length); i++)
      workers.push(worker())
    await Promise.all(workers)
    if (failure) throw failure.error
  }

  /**
   * Backs off when the server is over capacity: after a 429/503 the pool runs fewer
   * requests at once, growing back by one per completed chunk.
   */
  private async waitForSlot(): Promise<void> {
    while (this.stats.inFlight >= this.stats.concurrencyLimit) {
      await once(this.slots, 'freed', { signal: this.signal }).catch((error: unknown) => {
        throw this.signal.aborted ? this.signal.reason : error
      })
    }
  }

  /** Fetches one segment, resuming from where a failed attempt stopped. */
  private async fetchSegment(
    index: number,
    lane: RangeLane | undefined,
    firstAttempt?: Attempt
  ): Promise<void> {
    const segment = this.segments[index]
    let position = segment.start
    let failures = 0
    let attempt = firstAttempt
    for (;;) {
      const cursor = { position }
      const range = {
        range: `bytes=${position}-${segment.end - 1}`,
        'if-match': this.info.etag ?? ''
      }
      try {
        if (attempt === undefined && lane && this.lanes) {
          await this.receiveOverLane(lane, range, index, cursor, segment.end)
        } else {
          attempt ??= await this.send(range)
          if (attempt !== firstAttempt) this.checkChunk(attempt.response, position, segment.end)
          await this.receive(attempt, index, cursor, segment.end)
        }
        this.stats.concurrencyLimit = Math.min(
          this.options.concurrency,
          this.stats.concurrencyLimit + 1
        )
        return
      } catch (error) {
        attempt?.release()
        attempt = undefined
        if (error instanceof UnframedResponseError) {
          // Framed otherwise than by Content-Length (chunked, say): Node's client reads those.
          this.lanes = false
          continue
        }
        if (!(error instanceof TransientError)) throw error
        if (!this.resumable) {
          throw new RestartRequiredError(`${error.message}; the server cannot resume this download`)
        }
        const progressed = cursor.position > position
        position = error instanceof OverlongBodyError ? segment.start : cursor.position
        failures = progressed ? 1 : failures + 1
        if (error.retryAfterMs !== undefined || /HTTP (429|503)/.test(error.message)) {
          this.stats.concurrencyLimit = Math.max(1, Math.ceil(this.stats.concurrencyLimit / 2))
        }
        this.stats.retries++
        await this.budget.wait(error, failures, this.signal)
      }
    }
  }

  /** Verifies a chunk response: 206, the exact range and size, the pinned ETag. */
  private checkChunk(response: ResponseFields, start: number, end: number): void {
    const status = response.statusCode ?? 0
    if (status === 200)
      throw new TransientError('the server ignored Range and sent the whole object')
    if (status !== 206) {
      const error = this.statusError(response)
      // The snapshot was found moments ago: a 404 now is a server failure, not a miss.
      if (error instanceof CacheMissError)
        throw new ServerError(404, `${error.message} It disappeared mid-download.`)
      throw error
    }
    const etag = header(response, 'etag')
    if (etag !== undefined && etag !== this.info.etag) {
      throw new SnapshotChangedError(
        'cachew regenerated the snapshot while it was being downloaded (ETag changed).'
      )
    }
    const range = parseContentRange(header(response, 'content-range'))
    if (!range) throw new TransientError('a ranged response had no valid Content-Range')
    if (range.size !== this.info.size) {
      throw new SnapshotChangedError(
        'cachew regenerated the snapshot while it was being downloaded (size changed).'
      )
    }
    if (range.start !== start || range.end !== end - 1) {
      throw new TransientError(
        `asked for bytes ${start}-${end - 1}, got ${range.start}-${range.end}`
      )
    }
    const length = parseLength(header(response, 'content-length'))
    if (length !== undefined && length !== end - start) {
      throw new TransientError(
        `Content-Length ${length} does not match the ${end - start} bytes asked for`
      )
    }
  }

  /** Streams a response body into the spool; every byte is accounted for. */
  private async receive(
    attempt: Attempt,
    index: number,
    cursor: { position: number },
    end: number
  ): Promise<void> {
    try {
      for await (const data of attempt.response as AsyncIterable<Buffer>) {
        attempt.touch()
        const room = end - cursor.position
        const part = data.length > room ? data.subarray(0, room) : data
        if (part.length > 0) {
          await this.spool.write(index, part, cursor.position)
          cursor.position += part.length
          this.stats.bytes += part.length
        }
        if (data.length > room) {
          throw new OverlongBodyError(`a response sent more than the ${end} bytes of its range`)
        }
      }
    } catch (error) {
      throw attempt.failure(error)
    } finally {
      attempt.release()
    }
    if (end !== Infinity && cursor.position < end) {
      throw new TransientError(`a response ended after ${cursor.position} of ${end} bytes`)
    }
  }

  /**
   * Fetches a chunk over a lane into the spool, verified as checkChunk verifies, under the same
   * stall watchdog. The lane's buffer is reused at its next read, so each piece is written
   * before the callback returns.
   */
  private async receiveOverLane(
    lane: RangeLane,
    headers: Record<string, string>,
    index: number,
    cursor: { position: number },
    end: number
  ): Promise<void> {
    const attempt = this.startAttempt()
    const start = cursor.position
    try {
      await lane.get(
        new URL(this.url),
        this.options.transport.headersFor(this.url, headers),
        {
          onHead: head => {
            attempt.touch()
            this.checkChunk(head, start, end)
          },
          onBody: bytes => {
            attempt.touch()
            this.spool.writeSync(index, bytes, cursor.position)
            cursor.position += bytes.length
            this.stats.bytes += bytes.length
          }
        },
        attempt.signal
      )
    } catch (error) {
      throw error instanceof UnframedResponseError ? error : attempt.failure(error)
    } finally {
      attempt.release()
    }
  }

  /** A request's watchdog and slot; counts the request. */
  private startAttempt(): Attempt {
    this.stats.requests++
    return new Attempt(this.url, this.options.stallTimeoutMs, this.signal, this.stats, () =>
      this.slots.emit('freed')
    )
  }

  /** Sends one request under a stall watchdog that aborts it (AbortSignal) when no bytes come. */
  private async send(headers: Record<string, string>): Promise<Attempt> {
    const attempt = this.startAttempt()
    try {
      attempt.response = await this.options.transport.request(this.url, {
        headers,
        signal: attempt.signal
      })
      attempt.touch()
      return attempt
    } catch (error) {
      attempt.release()
      throw attempt.failure(error)
    }
  }

  private statusError(response: ResponseFields): Error {
    return errorForStatus(response.statusCode ?? 0, {
      what: this.what,
      url: this.url,
      authorized: this.options.authorized ?? false,
      retryAfter: header(response, 'retry-after')
    })
  }
}

/** One request in flight: its abort controller, stall watchdog and in-flight accounting. */
class Attempt {
  response!: IncomingMessage
  private readonly controller = new AbortController()
  readonly signal: AbortSignal
  private readonly watchdog: NodeJS.Timeout
  private released = false

  constructor(
    private readonly url: string,
    stallTimeoutMs: number,
    parent: AbortSignal,
    private readonly stats: DownloadStats,
    private readonly onRelease: () => void
  ) {
    this.signal = AbortSignal.any([parent, this.controller.signal])
    this.watchdog = setTimeout(() => {
      const seconds = Math.round(stallTimeoutMs / 1000)
      this.controller.abort(new TransientError(`no data for ${seconds} s (stalled); retrying`))
    }, stallTimeoutMs)
    stats.inFlight++
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
  }

  touch(): void {
    this.watchdog.refresh()
  }

  /** Ends the request: stops the watchdog and frees the slot; a body still unread is dropped. */
  release(): void {
    if (this.released) return
    this.released = true
    clearTimeout(this.watchdog)
    this.stats.inFlight--
    if (this.response && !this.response.complete) discard(this.response)
    this.onRelease()
  }

  /** The error to report for a failure of this request: the stall, the caller's abort, or the network's. */
  failure(error: unknown): unknown {
    if (this.signal.aborted) return this.signal.reason
    if (
      error instanceof TransientError ||
      error instanceof RestartRequiredError ||
      error instanceof ServerError
    )
      return error
    return asNetworkError(error, new URL(this.url))
  }
}

/** `bytes S-E/T` → numbers; undefined for anything else (including `*`). */
export function parseContentRange(
  value: string | undefined
): { start: number; end: number; size: number } | undefined {
  const match = value && /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim())
  if (!match) return undefined
  const [start, end, size] = match.slice(1).map(Number)
  return start <= end && end < size ? { start, end, size } : undefined
}

function parseLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined
}

/** Only a strong ETag can pin ranged requests with If-Match (RFC 9110 §13.1.1). */
function strongEtag(value: string | undefined): string | undefined {
  return value && !value.startsWith('W/') ? value : undefined
}
