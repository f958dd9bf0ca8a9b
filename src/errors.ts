/**
 * Errors the action expects and explains. main.ts prints their message alone (no stack
 * trace); anything else is a bug and is reported with its stack in the debug log.
 */
export class ExpectedError extends Error {
  override name = 'ExpectedError'
}

/** An input that cannot be used; the message names the input and the allowed values. */
export class InputError extends ExpectedError {
  override name = 'InputError'
  constructor(
    readonly input: string,
    detail: string
  ) {
    super(`Input '${input}': ${detail}`)
  }
}

/** The archive is damaged or hostile: zstd framing, tar structure, or an unsafe entry. */
export class ArchiveError extends ExpectedError {
  override name = 'ArchiveError'
}

/** A tar entry that would escape the target, refused before anything is written for it. */
export class UnsafeEntryError extends ArchiveError {
  override name = 'UnsafeEntryError'
  constructor(
    readonly entry: string,
    reason: string
  ) {
    super(`Refusing unsafe archive entry '${entry}': ${reason}`)
  }
}

/** The server answered with a status the action cannot go on from. */
export class ServerError extends ExpectedError {
  override name = 'ServerError'
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

/** The server has no snapshot of the repository (404). Main turns it into a miss. */
export class CacheMissError extends ServerError {
  override name = 'CacheMissError'
}

/** The restore must start over from discovery: what was downloaded so far cannot be used. */
export class RestartRequiredError extends ExpectedError {
  override name = 'RestartRequiredError'
}

/** The snapshot was regenerated mid-download (412, or a different ETag or size). */
export class SnapshotChangedError extends RestartRequiredError {
  override name = 'SnapshotChangedError'
}

/**
 * A failure worth another try: a network error, a reset, a stall, a 5xx/429, a response
 * that ignored Range or did not match what was asked. retryAfterMs is the server's
 * Retry-After, when it sent one.
 */
export class TransientError extends ExpectedError {
  override name = 'TransientError'
  constructor(
    message: string,
    readonly retryAfterMs?: number
  ) {
    super(message)
  }
}

/** The runner cancelled the job (SIGINT or SIGTERM) while the restore was running. */
export class CancelledError extends ExpectedError {
  override name = 'CancelledError'
  constructor(readonly signal: NodeJS.Signals) {
    super(`The restore was cancelled (${signal}): nothing was changed.`)
  }
}
