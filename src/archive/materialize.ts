/**
 * The one path from a snapshot's bytes to a tree: zstd decoded in process into the tar
 * extractor, which writes the files and computes their blob ids in the same pass. The bytes
 * may still be arriving (a download filling its spool) or be whole (the runner cache, a file);
 * either way the reads follow what is there, so extraction overlaps the download.
 */
import { orCancelled } from '../cancellation.js'
import { TarExtractor, type ExtractResult } from './extract.js'
import { decodeZstd, type ZstdSource } from './zstd.js'

export interface SnapshotBytes {
  /** Where the compressed bytes are read from, in order. */
  source: ZstdSource
  /** Settles when every byte is there (at once for a whole file); rejects with why not. */
  complete: Promise<void>
}

export interface MaterializeOptions {
  /** Stops the decode and extraction; aborted by materialize itself on the first failure. */
  controller: AbortController
  onSkip?: (entry: string, reason: string) => void
  /** With a sparse checkout, the working-tree paths to write (see TarExtractorOptions). */
  include?: (path: string) => boolean
  debug?: (message: string) => void
}

/**
 * Decodes and extracts `bytes` into `directory` (an empty staging directory). The first
 * failure, of the bytes' arrival or of the extraction, aborts the controller, so whatever
 * feeds the bytes stops too, and is rethrown once both have settled.
 */
export async function materialize(
  bytes: SnapshotBytes,
  directory: string,
  options: MaterializeOptions
): Promise<ExtractResult> {
  const { controller } = options
  const signal = orCancelled(controller.signal)
  const extractor = new TarExtractor(directory, {
    onSkip: options.onSkip,
    include: options.include
  })
  let first: { error: unknown } | undefined
  const stopOnFailure = (error: unknown): void => {
    if (first) return
    first = { error }
    controller.abort(error)
  }
  try {
    await Promise.all([
      bytes.complete.catch(stopOnFailure),
      decodeZstd(bytes.source, extractor, { signal, debug: options.debug }).catch(stopOnFailure)
    ])
  } finally {
    // Closes the file a failed or aborted extraction may still hold open.
    extractor.close()
  }
  if (first) throw first.error
  return extractor.result
}
