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
