/**
 * The one retry layer of git traffic through cachew: each `git fetch` and each ensure-refs
 * request is one operation, tried again as a whole under the download's policy
 * (src/download/retry.ts: exponential backoff with full jitter, the server's Retry-After,
 * a bounded number of attempts). Only ensure-refs sees a Retry-After: git does not pass the
 * response's headers on. Nothing below retries: ensure-refs' client has its retries
 * off, and git does not retry a failed HTTP request itself (2.39, as tested here).
 *
 * Retried: HTTP 5xx and 429 (408 and 425 too, by the status policy of src/cachew/status.ts),
 * connection resets and refusals, timeouts, and git's "RPC failed" and "early EOF". Not
 * retried: 401, 403 and 404, a name that does not resolve, and a missing commit or ref, which
 * another attempt cannot change.
 */
import { errorForStatus } from '../cachew/status.js'
import { DEFAULT_RETRY_POLICY, RetryBudget, type RetryPolicy } from '../download/retry.js'
import { TransientError } from '../errors.js'
import { GitError } from './git.js'

export interface RetryContext {
  log: { info(message: string): void }
  /** Aborting it ends the wait between attempts; an aborted operation is never retried. */
  signal?: AbortSignal
  policy?: RetryPolicy
}

/**
 * Runs `operation` until it succeeds, fails in a way another attempt cannot change, or the
 * policy's attempts are used up; then rethrows its last error unchanged, so callers see the
 * GitError or ServerError they know.
 */
export async function withRetries<T>(
  what: string,
  operation: () => Promise<T>,
  context: RetryContext
): Promise<T> {
  const policy = context.policy ?? DEFAULT_RETRY_POLICY
  const budget = new RetryBudget(policy)
  for (let failures = 1; ; failures++) {
    try {
      return await operation()
    } catch (error) {
      const transient = transientFailure(error)
      if (!transient || context.signal?.aborted) throw error
      if (failures >= policy.attemptsPerRequest) {
        context.log.info(`${what} failed ${failures} times (${transient.message}); giving up.`)
        throw error
      }
      context.log.info(
        `${what} failed (${transient.message}); retrying, attempt ${failures + 1} of ` +
          `${policy.attemptsPerRequest}.`
      )
      await budget.wait(transient, failures, context.signal)
    }
  }
}

/** The failure as a TransientError when another attempt may succeed; undefined otherwise. */
export function transientFailure(error: unknown): TransientError | undefined {
  if (error instanceof TransientError) return error
  if (error instanceof GitError) return transientGitFailure(error)
  return undefined
}

/**
 * Failures another attempt cannot change, as git 2.39 words them: the commit or ref is not
 * there ("not our ref", "couldn't find remote ref", "unadvertised object"), credentials
 * (a 401 reads "could not read Username" with prompts off), a repository not found (404),
 * a host that does not resolve.
 */
const PERMANENT =
  /not our ref|couldn't find remote ref|unadvertised object|could not read (username|password)|authentication failed|repository '[^']*' not found|could not resolve (host|proxy)/i

/** The HTTP status git reports: "returned error: 502" (GET), "RPC failed; HTTP 502" (POST). */
const HTTP_STATUS = /RPC failed; HTTP (\d{3})|The requested URL returned error: (\d{3})/

/**
 * A broken or refused transfer, as git and libcurl report it: a pack cut short ("early
 * EOF", "unexpected disconnect", "bytes of body are still expected"), a reset or empty
 * reply, a refused connection, a timeout, and "RPC failed" without a status.
 */
const BROKEN_TRANSFER =
  /early EOF|unexpected disconnect|bytes of body are still expected|RPC failed|connection reset|recv failure|empty reply from server|transfer closed with|remote end hung up unexpectedly|failed to connect|couldn't connect to server|timed out/i

export function transientGitFailure(error: GitError): TransientError | undefined {
  const stderr = error.stderr
  if (PERMANENT.test(stderr)) return undefined
  const status = HTTP_STATUS.exec(stderr)
  if (status) {
    const code = Number(status[1] ?? status[2])
    // One policy for statuses: the action's own requests' (src/cachew/status.ts).
    const mapped = errorForStatus(code, { what: 'git request', url: '', authorized: false })
    return mapped instanceof TransientError ? new TransientError(gitsReason(stderr)) : undefined
  }
  return BROKEN_TRANSFER.test(stderr) ? new TransientError(gitsReason(stderr)) : undefined
}

/** git's first error or fatal line (lines before it may be the server's, "remote: ..."). */
function gitsReason(stderr: string): string {
  const lines = stderr.split('\n').filter(line => line.trim() !== '')
  return lines.find(line => /^(error|fatal):/.test(line)) ?? lines[0] ?? stderr
}
