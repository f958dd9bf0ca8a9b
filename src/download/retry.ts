/**
 * The one retry policy of the download: exponential backoff with full jitter, the
 * server's Retry-After honoured (plus jitter, so many runners do not return in
 * lockstep), bounded per request and for the whole download.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { TransientError } from '../errors.js'

export interface RetryPolicy {
  /** Consecutive failed attempts of one request (without progress) before giving up. */
  attemptsPerRequest: number
  /** Retries allowed for the whole download, all requests together. */
  totalRetries: number
  baseDelayMs: number
  maxDelayMs: number
  /** Longest Retry-After the action will wait. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attemptsPerRequest: 8,
  totalRetries: 200,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000
}

/** Delay before retry number `attempt` (1-based). */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random
): number {
  if (retryAfterMs !== undefined) {
    const wait = Math.min(retryAfterMs, policy.maxRetryAfterMs)
    return wait + random() * Math.max(wait / 2, policy.baseDelayMs)
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return ceiling / 2 + (random() * ceiling) / 2
}

/** Counts retries across the whole download. */
export class RetryBudget {
  used = 0
  constructor(readonly policy: RetryPolicy) {}

  /** Waits before the next attempt, or rethrows when a bound is reached. */
  async wait(
    error: TransientError,
    consecutiveFailures: number,
    signal?: AbortSignal
  ): Promise<void> {
    if (consecutiveFailures >= this.policy.attemptsPerRequest) {
      throw new TransientError(`${error.message} (gave up after ${consecutiveFailures} attempts)`)
    }
    if (this.used >= this.policy.totalRetries) {
      throw new TransientError(`${error.message} (gave up: ${this.used} retries in this download)`)
    }
    this.used++
    await sleep(retryDelay(this.policy, consecutiveFailures, error.retryAfterMs), undefined, {
      signal
    })
  }
}
