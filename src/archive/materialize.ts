/**
 * The one path from a snapshot's bytes to a tree: zstd decoded in process into the tar
 * extractor, which writes the files and computes their blob ids in the same pass. The bytes
 * may still be arriving (a download filling its spool) or be whole (the runner cache, a file);
 * either way the reads follow what is there, so extraction overlaps the download. Given a
 * worker (src/archive/materialize-worker.ts), the decode and extraction run in it, and the
 * thread that calls is left to the download.
 */
import { orCancelled } from '../cancellation.js'
import { Spool } from '../download/spool.js'
import { TarExtractor, type ExtractResult } from './extract.js'
import { type MaterializeWorker, serveWorker, type WorkerCallbacks } from './materialize-worker.js'
import { type SparseCheckout, sparseFilter } from './sparse-set.js'
import { decodeZstd, type ZstdSource } from './zstd.js'

export interface SnapshotBytes {
  /** Where the compressed bytes are read from, in order; a Spool for a worker to read. */
  source: ZstdSource
  /** Settles when every byte is there (at once for a whole file); rejects with why not. */
  complete: Promise<void>
}

export interface MaterializeOptions extends WorkerCallbacks {
  /** Stops the decode and extraction; aborted by materialize itself on the first failure. */
  controller: AbortController
  /** With a sparse checkout, only its working-tree paths are written (sparse-set.ts). */
  sparse?: SparseCheckout
  /** Runs the decode and extraction in this worker, which materialize() then closes. */
  worker?: MaterializeWorker
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
  const { controller, worker } = options
  const signal = orCancelled(controller.signal)
  let first: { error: unknown } | undefined
  const stopOnFailure = (error: unknown): undefined => {
    if (first) return
    first = { error }
    controller.abort(error)
  }
  const extraction = worker
    ? inWorker(worker, bytes.source, directory, signal, options)
    : extract(bytes.source, directory, signal, options)
  const [, result] = await Promise.all([
    bytes.complete.catch(stopOnFailure),
    extraction.catch(stopOnFailure)
  ])
  if (first) throw first.error
  return result as ExtractResult
}

async function inWorker(
  worker: MaterializeWorker,
  source: ZstdSource,
  directory: string,
  signal: AbortSignal,
  options: MaterializeOptions
): Promise<ExtractResult> {
  if (!(source instanceof Spool)) throw new Error('internal: a worker reads a spool')
  try {
    return await worker.run(
      source,
      { directory, sparse: options.sparse, debug: options.debug !== undefined },
      signal,
      options
    )
  } finally {
    await worker.close()
  }
}

/** The decode and extraction on this thread. */
async function extract(
  source: ZstdSource,
  directory: string,
  signal: AbortSignal,
  options: WorkerCallbacks & { sparse?: SparseCheckout }
): Promise<ExtractResult> {
  const extractor = new TarExtractor(directory, {
    onSkip: options.onSkip,
    include: options.sparse ? sparseFilter(options.sparse) : undefined
  })
  try {
    await decodeZstd(source, extractor, { signal, debug: options.debug })
    return extractor.result
  } finally {
    // Closes the file a failed or aborted extraction may still hold open.
    extractor.close()
  }
}

/** In a worker started by MaterializeWorker: serves its job with the same extraction. */
export function serveMaterializeWorker(): void {
  serveWorker((source, job, controller, callbacks) =>
    extract(source, job.directory, controller.signal, { ...callbacks, sparse: job.sparse })
  )
}
