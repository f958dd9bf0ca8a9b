import * as zlib from 'node:zlib'
import { finished } from 'node:stream/promises'
import { Decompress } from 'fzstd'
import { ArchiveError } from '../errors.js'
import { type FrameHeader, zstdError } from './zstd-frames.js'
import { Xxh64 } from './zstd-xxh64.js'

/**
 * Decompressors for one zstd frame at a time. The frame walker has already found the frame's
 * bounds, so each decoder sees exactly one frame and is ended at its last byte: that is what
 * keeps Node's zlib from stopping (or silently returning short) at a frame boundary.
 */

/** Where a frame decoder sends its output. */
export interface FrameOutput {
  /** Hands decoded bytes downstream; false means downstream is full and wants a pause. */
  push(bytes: Buffer): boolean
  /** Resolves when downstream asks for more after a `push` returned false. */
  demand(): Promise<void>
  /** Reports an error that happened outside any awaited call. */
  fail(error: ArchiveError): void
}

export interface FrameDecoder {
  /**
   * Feeds the frame's next compressed bytes; resolves when more may be written. `whole` says
   * they end at a block boundary rather than wherever the input chunk happened to end.
   */
  write(bytes: Uint8Array, whole: boolean): Promise<void>
  /** The frame's last byte was written: resolves once all output is pushed and verified. */
  end(storedChecksum: number | undefined): Promise<void>
  destroy(): void
}

export type FrameDecoderFactory = (header: FrameHeader, output: FrameOutput) => FrameDecoder

/**
 * zlib's 16 KiB default output chunk doubles decode time; 256 KiB to 4 MiB measured alike
 * (bench/decode.ts). The smallest of those keeps the least decoded output in flight: 256 KiB
 * took 15 to 20 MiB off the peak RSS of a 256 MiB restore against 1 MiB chunks.
 */
const ZLIB_CHUNK_SIZE = 256 * 1024
/** `zstd --long=31` frames declare a 2 GiB window, which libzstd refuses by default. */
const ZLIB_WINDOW_LOG_MAX = 31

export function zlibZstdAvailable(): boolean {
  return typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function'
}

function asArchiveError(error: unknown, header: FrameHeader): ArchiveError {
  if (error instanceof ArchiveError) return error
  const detail = error instanceof Error ? error.message : String(error)
  return zstdError(detail, header.offset)
}

export const openZlibFrameDecoder: FrameDecoderFactory = (header, output) =>
  new ZlibFrameDecoder(header, output)

class ZlibFrameDecoder implements FrameDecoder {
  private readonly stream: zlib.ZstdDecompress
  private readonly done: Promise<void>
  private failure: ArchiveError | undefined

  constructor(
    private readonly header: FrameHeader,
    output: FrameOutput
  ) {
    this.stream = zlib.createZstdDecompress({
      chunkSize: ZLIB_CHUNK_SIZE,
      params: { [zlib.constants.ZSTD_d_windowLogMax]: ZLIB_WINDOW_LOG_MAX }
    })
    this.stream.on('data', (chunk: Buffer) => {
      if (output.push(chunk)) return
      this.stream.pause()
      void output.demand().then(() => this.stream.resume())
    })
    this.stream.on('error', error => {
      this.failure ??= asArchiveError(error, header)
      output.fail(this.failure)
    })
    this.done = finished(this.stream)
    // Observed through `failure` and end(); this keeps an early rejection from going unhandled.
    this.done.catch(() => undefined)
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure
    if (this.stream.write(bytes)) return
    await new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        this.stream.off('drain', settle)
        this.stream.off('error', settle)
        this.stream.off('close', settle)
        if (this.failure) reject(this.failure)
        else resolve()
      }
      this.stream.on('drain', settle)
      this.stream.on('error', settle)
      this.stream.on('close', settle)
    })
  }

  async end(): Promise<void> {
    if (this.failure) throw this.failure
    this.stream.end()
    try {
      await this.done
    } catch (error) {
      throw this.failure ?? asArchiveError(error, this.header)
    }
  }

  destroy(): void {
    this.stream.destroy()
  }
}

/**
 * fzstd decodes match distances beyond 2^25 wrongly (its README warns of it; measured: a
 * `zstd --long=27` stream of a 364 MB tar fails its checksum), cannot allocate 2 GiB windows at
 * all, and shifts its whole window after every block, so its cost grows with the window. Frames
 * with a larger window are refused with an error that names the frame, never decoded wrongly.
 */
export const JS_WINDOW_SIZE_MAX = 32 * 1024 * 1024
/**
 * fzstd copies everything it holds on every push while a block is incomplete, so tiny input
 * chunks would cost quadratic time: pieces are gathered up to a block end or this many bytes.
 */
const JS_GATHER_BYTES = 256 * 1024

/** Small input pieces held back to be handed on as one, bounded by the caller's threshold. */
class Gatherer {
  private pieces: Uint8Array[] = []
  private length = 0

  get size(): number {
    return this.length
  }

  add(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.pieces.push(bytes)
    this.length += bytes.length
  }

  /** Everything gathered, as one array (a copy only when there was more than one piece). */
  take(): Uint8Array {
    const pieces = this.pieces
    const length = this.length
    this.pieces = []
    this.length = 0
    if (pieces.length === 1) return pieces[0]
    return pieces.length === 0 ? EMPTY : Buffer.concat(pieces, length)
  }
}

const EMPTY = new Uint8Array(0)

export const openJsFrameDecoder: FrameDecoderFactory = (header, output) =>
  new JsFrameDecoder(header, output)

class JsFrameDecoder implements FrameDecoder {
  private readonly decoder: Decompress
  /** fzstd skips the stored checksum, so it is computed here. */
  private readonly hash: Xxh64 | undefined
  private blocked = false
  private readonly input = new Gatherer()

  constructor(
    private readonly header: FrameHeader,
    private readonly output: FrameOutput
  ) {
    if (header.windowSize > JS_WINDOW_SIZE_MAX) {
      throw new ArchiveError(
        `zstd frame at byte ${header.offset} needs a ${formatMiB(header.windowSize)} window; ` +
          `the JavaScript zstd decoder handles at most ${formatMiB(JS_WINDOW_SIZE_MAX)} ` +
          `(run on a Node.js with zlib zstd support, which has no such limit)`
      )
    }
    this.hash = header.hasChecksum ? new Xxh64() : undefined
    this.decoder = new Decompress(chunk => {
      if (chunk.length === 0) return
      this.hash?.update(chunk)
      if (!output.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))) {
        this.blocked = true
      }
    })
  }

  async write(bytes: Uint8Array, whole: boolean): Promise<void> {
    this.input.add(bytes)
    if (!whole && this.input.size < JS_GATHER_BYTES) return
    this.push(this.input.take(), false)
    // Pieces end at block ends, so at most one block was produced before this wait.
    if (this.blocked) {
      this.blocked = false
      await this.output.demand()
    }
  }

  async end(storedChecksum: number | undefined): Promise<void> {
    this.push(this.input.take(), true)
    if (this.hash === undefined) return
    const actual = this.hash.digestLow32()
    if (actual !== storedChecksum) {
      throw zstdError(
        `checksum mismatch: content hashes to ${hex32(actual)}, ` +
          `frame stores ${hex32(storedChecksum ?? 0)}`,
        this.header.offset
      )
    }
  }

  destroy(): void {
    this.decoder.ondata = () => undefined
  }

  private push(bytes: Uint8Array, final: boolean): void {
    try {
      this.decoder.push(bytes, final)
    } catch (error) {
      throw asArchiveError(error, this.header)
    }
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`
}
