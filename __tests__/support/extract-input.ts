/**
 * Feeding a TarExtractor from a file or a stream, for tests and benchmarks; the action itself
 * feeds it from the zstd decoder (src/archive/materialize.ts).
 */
import * as fs from 'node:fs'
import { finished, type Readable } from 'node:stream'
import {
  TarExtractor,
  type ExtractResult,
  type TarExtractorOptions
} from '../../src/archive/extract.js'

/** As the action reads its spool. */
const READ_BLOCK = 1024 * 1024

/** Extracts a tar file, read through one reused 1 MiB buffer. */
export function extractTarFile(
  file: string,
  directory: string,
  options: TarExtractorOptions = {}
): ExtractResult {
  const extractor = new TarExtractor(directory, options)
  const fd = fs.openSync(file, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_BLOCK)
    for (let read; (read = fs.readSync(fd, buffer, 0, READ_BLOCK, null)) > 0;) {
      extractor.write(buffer.subarray(0, read))
    }
    extractor.end()
    return extractor.result
  } finally {
    fs.closeSync(fd)
    extractor.close()
  }
}

export interface ExtractStreamOptions extends TarExtractorOptions {
  signal?: AbortSignal
}

/**
 * Extracts a tar stream. Rejects with the input's error when the input fails, with the
 * signal's reason on abort (at once, even if the input never settles); the input is
 * destroyed and no file is left open either way.
 */
export async function extractTar(
  input: Readable,
  directory: string,
  options: ExtractStreamOptions = {}
): Promise<ExtractResult> {
  const { signal, ...extractorOptions } = options
  let extractor: TarExtractor
  try {
    signal?.throwIfAborted()
    extractor = new TarExtractor(directory, extractorOptions)
  } catch (error) {
    input.destroy()
    throw error
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown): void => {
        stop()
        input.destroy()
        reject(error)
      }
      const onAbort = (): void => fail(signal!.reason)
      const onData = (chunk: Buffer): void => {
        try {
          extractor.write(chunk)
        } catch (error) {
          fail(error)
        }
      }
      const stopWatching = finished(input, { writable: false }, error =>
        error ? fail(error) : (stop(), resolve())
      )
      const stop = (): void => {
        stopWatching()
        input.off('data', onData)
        signal?.removeEventListener('abort', onAbort)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      input.on('data', onData)
    })
    extractor.end()
    return extractor.result
  } finally {
    extractor.close()
  }
}
