/**
 * Receives a decoded stream's bytes in order. `bytes` is valid only during the call: the
 * caller reuses its memory afterwards, so a sink copies what it must keep.
 */
export interface ByteSink {
  write(bytes: Uint8Array): void
  end(): void
}
