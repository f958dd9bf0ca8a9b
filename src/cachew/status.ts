/**
 * What each HTTP status from cachew means for the action: the policy in one place.
 * Messages name the status and what to do, and never carry credentials.
 */
import { CacheMissError, ServerError, SnapshotChangedError, TransientError } from '../errors.js'

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504])

export interface StatusContext {
  /** What was asked for, without an article: "snapshot", "delta bundle". */
  what: string
  /** The URL without credentials (the action never puts any in URLs). */
  url: string
  /** Whether an Authorization header was sent. */
  authorized: boolean
  /** Retry-After header value, if any. */
  retryAfter?: string
}

/** Maps a status that is not the expected success to the error to throw. */
export function errorForStatus(status: number, context: StatusContext): Error {
  const where = `the ${context.what} (${context.url})`
  if (status === 401 || status === 403) {
    const hint = context.authorized
      ? "the server refused the credentials in the 'authorization' input; check the secret's value and that it is allowed to read this repository"
      : "the server requires credentials; set the 'authorization' input (e.g. authorization: Bearer ${{ secrets.CACHEW_TOKEN }})"
    return new ServerError(status, `cachew answered HTTP ${status} for ${where}: ${hint}.`)
  }
  if (status === 404) {
    return new CacheMissError(
      status,
      `cachew has no ${context.what} for this repository (HTTP 404 from ${context.url}).`
    )
  }
  if (status === 412 || status === 416) {
    return new SnapshotChangedError(
      `cachew regenerated the snapshot while it was being downloaded (HTTP ${status}).`
    )
  }
  if (RETRYABLE.has(status)) {
    return new TransientError(
      `cachew answered HTTP ${status} for ${where}`,
      parseRetryAfter(context.retryAfter)
    )
  }
  return new ServerError(
    status,
    `cachew answered HTTP ${status} for ${where}; check the server's logs and that server-url points at a cachew server.`
  )
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
