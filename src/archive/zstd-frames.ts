import { ArchiveError } from '../errors.js'

/**
 * Walks the structure of a zstd stream (RFC 8878) without decompressing it: frame headers,
 * block headers and checksums are parsed so the caller knows exactly where each frame starts
 * and ends, and can hand every frame to its own decompressor. Block bodies are never copied:
 * they go out as views into the caller's chunks.
 */

const ZSTD_MAGIC = 0xfd2fb528
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC_BASE = 0x184d2a50
/** RFC 8878 3.1.1.2: no block, compressed or not, is larger than 128 KiB. */
const BLOCK_SIZE_MAX = 128 * 1024
const BLOCK_TYPE_RLE = 1
const BLOCK_TYPE_RESERVED = 3
/** Magic (4) + descriptor (1) + window (1) + dictionary id (4) + content size (8). */
const FRAME_HEADER_MAX = 18

/** What a frame header declares; every field is checked against the frame's output later. */
export interface FrameHeader {
  /** Byte offset of the frame's magic number in the whole stream. */
  offset: number
  /** Bytes of history the decoder must keep (the content size for single-segment frames). */
  windowSize: number
  /** Declared decompressed size, when the header carries one. */
  contentSize: number | undefined
  hasChecksum: boolean
  dictionaryId: number
}

export type FramePiece =
  /** A frame begins; its header bytes follow as the first 'bytes' piece. */
  | { kind: 'start'; header: FrameHeader }
  /**
   * The next bytes of the current frame, in order (a view into the input, or the header);
   * `whole` when they end at a header, block or frame boundary rather than at a chunk's end.
   */
  | { kind: 'bytes'; bytes: Uint8Array; whole: boolean }
  /** The current frame is complete; `checksum` is its stored XXH64 low word, if any. */
  | { kind: 'end'; header: FrameHeader; checksum: number | undefined }

type State =
  | 'magic'
  | 'frame-header'
  | 'block-header'
  | 'block-body'
  | 'checksum'
  | 'skippable-header'
  | 'skippable-body'

const STATE_NAMES: Record<State, string> = {
  magic: 'a frame magic number',
  'frame-header': 'a frame header',
  'block-header': 'a block header',
  'block-body': 'block data',
  checksum: 'the frame checksum',
  'skippable-header': 'a skippable frame header',
  'skippable-body': 'a skippable frame'
}

export function zstdError(detail: string, offset?: number): ArchiveError {
  const where = offset === undefined ? '' : ` (frame at byte ${offset})`
  return new ArchiveError(`zstd stream is damaged: ${detail}${where}`)
}

export interface FrameWalkerOptions {
  /**
   * Cut 'bytes' pieces after every block, so that a synchronous decoder fed one piece produces
   * at most one block of output and can yield to backpressure in between.
   */
  blockAligned?: boolean
}

export class FrameWalker {
  private state: State = 'magic'
  /** Small header fields (magic, frame header, block header, checksum) gathered across chunks. */
  private readonly scratch = new Uint8Array(FRAME_HEADER_MAX)
  private scratchLength = 0
  private scratchNeeded = 4
  /** Bytes left in the current block body or skippable frame payload. */
  private remaining = 0
  private lastBlock = false
  private header: FrameHeader | undefined
  /** Stream offset of the first byte of the unit (frame or skippable frame) being parsed. */
  private unitOffset = 0
  private chunkOffset = 0
  private framesSeen = 0
  private readonly blockAligned: boolean

  constructor(options: FrameWalkerOptions = {}) {
    this.blockAligned = options.blockAligned ?? false
  }

  /** The pieces found in `chunk`, in stream order. Throws ArchiveError on a malformed stream. */
  *walk(chunk: Uint8Array): Generator<FramePiece> {
    const length = chunk.length
    let pos = 0
    // Start of the current frame's bytes in this chunk that have not been handed out yet.
    let pending = 0
    // An empty block (zstd ends streamed frames with one) completes with no body bytes at all.
    while (pos < length || (this.state === 'block-body' && this.remaining === 0)) {
      switch (this.state) {
        case 'block-body':
        case 'skippable-body': {
          const take = Math.min(this.remaining, length - pos)
          pos += take
          this.remaining -= take
          if (this.remaining > 0) break
          if (this.state === 'skippable-body') {
            this.expectMagic()
            break
          }
          if (!this.lastBlock) {
            this.expect('block-header', 3)
            if (this.blockAligned) {
              yield { kind: 'bytes', bytes: chunk.subarray(pending, pos), whole: true }
              pending = pos
            }
            break
          }
          if (this.header?.hasChecksum) {
            this.expect('checksum', 4)
            break
          }
          if (pos > pending)
            yield { kind: 'bytes', bytes: chunk.subarray(pending, pos), whole: true }
          pending = pos
          yield this.endFrame(undefined)
          break
        }
        default: {
          if (this.state === 'magic' && this.scratchLength === 0) {
            this.unitOffset = this.chunkOffset + pos
          }
          const take = Math.min(this.scratchNeeded - this.scratchLength, length - pos)
          this.scratch.set(chunk.subarray(pos, pos + take), this.scratchLength)
          this.scratchLength += take
          pos += take
          if (this.scratchLength < this.scratchNeeded) break
          const piece = this.fieldComplete()
          if (piece === undefined) break
          if (piece.kind === 'start') {
            yield piece
            yield { kind: 'bytes', bytes: this.scratch.slice(0, this.scratchLength), whole: true }
            this.expect('block-header', 3)
            pending = pos
          } else {
            if (pos > pending)
              yield { kind: 'bytes', bytes: chunk.subarray(pending, pos), whole: true }
            pending = pos
            yield piece
          }
        }
      }
    }
    if (this.inFrameBody() && pos > pending) {
      yield { kind: 'bytes', bytes: chunk.subarray(pending, pos), whole: false }
    }
    this.chunkOffset += length
  }

  /** Call at the end of input: throws unless the stream ended cleanly between frames. */
  finish(): void {
    if (this.state !== 'magic' || this.scratchLength > 0) {
      throw zstdError(
        `truncated: input ended inside ${STATE_NAMES[this.state]} after ${this.chunkOffset} bytes`,
        this.unitOffset
      )
    }
    if (this.framesSeen === 0) {
      throw new ArchiveError(
        `zstd stream is empty: ${this.chunkOffset} bytes of input held no zstd frame`
      )
    }
  }

  private inFrameBody(): boolean {
    return this.state === 'block-header' || this.state === 'block-body' || this.state === 'checksum'
  }

  private expect(state: State, bytes: number): void {
    this.state = state
    this.scratchLength = 0
    this.scratchNeeded = bytes
  }

  private expectMagic(): void {
    this.expect('magic', 4)
  }

  /** A header field is complete in `scratch`: act on it. Returns a piece to hand out, if any. */
  private fieldComplete(): FramePiece | undefined {
    switch (this.state) {
      case 'magic':
        return this.magicComplete()
      case 'frame-header':
        return this.frameHeaderProgress()
      case 'block-header':
        this.blockHeaderComplete()
        return undefined
      case 'checksum':
        return this.endFrame(readU32(this.scratch, 0))
      case 'skippable-header':
        this.state = 'skippable-body'
        this.remaining = readU32(this.scratch, 4)
        if (this.remaining === 0) this.expectMagic()
        return undefined
      default:
        throw new Error(`zstd frame walker: no field in state ${this.state}`)
    }
  }

  private magicComplete(): undefined {
    const magic = readU32(this.scratch, 0)
    if (magic === ZSTD_MAGIC) {
      this.state = 'frame-header'
      this.scratchNeeded = 5
    } else if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC_BASE) {
      this.state = 'skippable-header'
      this.scratchNeeded = 8
    } else {
      const what = this.framesSeen === 0 ? 'not a zstd stream' : 'bad frame magic number'
      throw zstdError(`${what} 0x${magic.toString(16).padStart(8, '0')}`, this.unitOffset)
    }
    return undefined
  }

  /** The descriptor byte tells how long the rest of the header is; then parse it whole. */
  private frameHeaderProgress(): FramePiece | undefined {
    const descriptor = this.scratch[4]
    const singleSegment = (descriptor & 0x20) !== 0
    if (descriptor & 0x08) {
      throw zstdError('reserved bit set in the frame header descriptor', this.unitOffset)
    }
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3]
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]
    const headerLength = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes
    if (this.scratchLength < headerLength) {
      this.scratchNeeded = headerLength
      return undefined
    }
    let at = 5
    let windowSize = 0
    if (!singleSegment) {
      const exponent = 10 + (this.scratch[at] >> 3)
      const base = 2 ** exponent
      windowSize = base + (base / 8) * (this.scratch[at] & 7)
      at += 1
    }
    const dictionaryId = readUnsigned(this.scratch, at, dictionaryIdBytes)
    at += dictionaryIdBytes
    let contentSize: number | undefined
    if (contentSizeBytes > 0) {
      contentSize = readUnsigned(this.scratch, at, contentSizeBytes)
      if (contentSizeBytes === 2) contentSize += 256
    }
    if (singleSegment) windowSize = contentSize ?? 0
    if (dictionaryId !== 0) {
      throw zstdError(
        `frame needs dictionary ${dictionaryId}, which is not available`,
        this.unitOffset
      )
    }
    this.header = {
      offset: this.unitOffset,
      windowSize,
      contentSize,
      hasChecksum: (descriptor & 0x04) !== 0,
      dictionaryId
    }
    this.framesSeen += 1
    return { kind: 'start', header: this.header }
  }

  private blockHeaderComplete(): void {
    const word = this.scratch[0] | (this.scratch[1] << 8) | (this.scratch[2] << 16)
    const type = (word >> 1) & 3
    const size = word >>> 3
    if (type === BLOCK_TYPE_RESERVED) {
      throw zstdError('block uses the reserved block type 3', this.header?.offset)
    }
    if (size > BLOCK_SIZE_MAX) {
      throw zstdError(`block of ${size} bytes exceeds the 128 KiB limit`, this.header?.offset)
    }
    this.lastBlock = (word & 1) !== 0
    this.state = 'block-body'
    // An RLE block stores its one repeated byte; its size field is the decompressed length.
    this.remaining = type === BLOCK_TYPE_RLE ? 1 : size
  }

  private endFrame(checksum: number | undefined): FramePiece {
    const header = this.header
    if (header === undefined) throw new Error('zstd frame walker: frame end without a header')
    this.header = undefined
    this.expectMagic()
    return { kind: 'end', header, checksum }
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

/** Little-endian unsigned integer of up to 8 bytes (exact up to 2^53, which no real size nears). */
function readUnsigned(bytes: Uint8Array, at: number, length: number): number {
  let value = 0
  for (let i = length - 1; i >= 0; i--) value = value * 256 + bytes[at + i]
  return value
}
