import { Transform, type TransformCallback } from 'node:stream'
import { ArchiveError } from '../errors.js'
import {
  type FrameDecoder,
  type FrameDecoderFactory,
  type FrameOutput,
  openJsFrameDecoder,
  openZlibFrameDecoder,
  zlibZstdAvailable
} from './zstd-backends.js'
import { type FrameHeader, type FramePiece, FrameWalker, zstdError } from './zstd-frames.js'

/**
 * In-process zstd decoding of a whole stream: pzstd output (frames behind skippable frames),
 * single frames, concatenated frames, skippable frames anywhere. The stream is split into frames
 * here and each frame goes to a fresh decompressor, because Node's zlib zstd stops at the first
 * frame boundary (with an error, or silently when more frames arrive in the same write).
 */

export type ZstdBackend = 'node-zlib' | 'js'

/** 'node-zlib' when this Node has zlib.createZstdDecompress, else 'js'. */
export function defaultZstdBackend(): ZstdBackend {
  return zlibZstdAvailable() ? 'node-zlib' : 'js'
}

/**
 * A Transform: compressed bytes in (any chunking), decompressed bytes out. Errors are
 * ArchiveError with a message that names zstd.
 */
export function createZstdDecoder(options: { backend?: ZstdBackend } = {}): Transform {
  const backend = options.backend ?? defaultZstdBackend()
  if (backend === 'node-zlib' && !zlibZstdAvailable()) {
    throw new ArchiveError(`zstd backend 'node-zlib' needs Node.js with zlib zstd support`)
  }
  return backend === 'node-zlib'
    ? new ZstdDecoder(openZlibFrameDecoder, false)
    : new ZstdDecoder(openJsFrameDecoder, true)
}

/** Decoded bytes buffered ahead of the consumer: a few zlib output chunks. */
const READABLE_HIGH_WATER_MARK = 1024 * 1024

class ZstdDecoder extends Transform {
  private readonly walker: FrameWalker
  private frame: FrameDecoder | undefined
  /** Decoded bytes of the current frame, checked against the content size its header declares. */
  private produced = 0
  private demandWaiters: Array<() => void> = []
  private readonly output: FrameOutput = {
    push: bytes => {
      this.produced += bytes.length
      return this.push(bytes)
    },
    demand: () => new Promise<void>(resolve => this.demandWaiters.push(resolve)),
    fail: error => this.destroy(error)
  }

  constructor(
    private readonly openFrame: FrameDecoderFactory,
    blockAligned: boolean
  ) {
    super({ readableHighWaterMark: READABLE_HIGH_WATER_MARK })
    this.walker = new FrameWalker({ blockAligned })
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.consume(chunk).then(() => callback(), callback)
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.walker.finish()
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  override _read(size: number): void {
    const waiters = this.demandWaiters
    this.demandWaiters = []
    for (const resume of waiters) resume()
    super._read(size)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.frame?.destroy()
    this.frame = undefined
    callback(error)
  }

  private async consume(chunk: Buffer): Promise<void> {
    for (const piece of this.walker.walk(chunk)) {
      if (this.destroyed) return
      await this.handle(piece)
    }
  }

  private async handle(piece: FramePiece): Promise<void> {
    switch (piece.kind) {
      case 'start':
        this.produced = 0
        this.frame = this.openFrame(piece.header, this.output)
        return
      case 'bytes':
        return this.currentFrame().write(piece.bytes, piece.whole)
      case 'end':
        await this.currentFrame().end(piece.checksum)
        this.frame = undefined
        this.checkContentSize(piece.header)
    }
  }

  private currentFrame(): FrameDecoder {
    if (this.frame === undefined) throw new Error('zstd decoder: frame bytes outside a frame')
    return this.frame
  }

  private checkContentSize(header: FrameHeader): void {
    if (header.contentSize === undefined || header.contentSize === this.produced) return
    throw zstdError(
      `frame declares ${header.contentSize} bytes of content but decoded to ${this.produced}`,
      header.offset
    )
  }
}
