import { ArchiveError } from '../errors.js'

/**
 * Walks the structure of a zstd stream (RFC 8878) without decompressing it: frame headers,
 * block headers and checksums are parsed so the caller knows exactly where each frame starts
 * and ends, and can hand every frame to its own decompressor. Only headers are looked at;
 * block bodies and skippable payloads are stepped over.
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

/** What the decoder needs of a frame header; libzstd checks the rest against the content. */
export interface FrameHeader {
  /** Byte offset of the frame's magic number in the whole stream. */
  offset: number
  hasChecksum: boolean
}

export type FrameEvent =
  /** A frame's header is complete; the frame's bytes begin at `header.offset`. */
  | { kind: 'frame'; header: FrameHeader }
  /** The frame's last byte is at `end - 1` (stream offsets). */
  | { kind: 'end'; header: FrameHeader; end: number }

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

export class FrameWalker {
  private state: State = 'magic'
  /** Small header fields (magic, frame header, block header, checksum) gathered across reads. */
  private readonly scratch = new Uint8Array(FRAME_HEADER_MAX)
  private scratchLength = 0
  private scratchNeeded = 4
  /** Bytes left in the current block body or skippable frame payload. */
  private remaining = 0
  private lastBlock = false
  private header: FrameHeader | undefined
  /** Stream offset of the first byte of the unit (frame or skippable frame) being parsed. */
  private unitOffset = 0
  private framesSeen = 0
  /** Stream offset of the next byte `walk` will see. */
  position = 0

  /**
   * Walks the stream's next bytes and returns what they completed, in stream order. Throws
   * ArchiveError on a malformed stream.
   */
  walk(bytes: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = []
    const length = bytes.length
    let at = 0
    // An empty block (zstd ends streamed frames with one) completes with no body bytes at all.
    while (at < length || (this.state === 'block-body' && this.remaining === 0)) {
      if (this.state === 'block-body' || this.state === 'skippable-body') {
        const take = Math.min(this.remaining, length - at)
        at += take
        this.remaining -= take
        if (this.remaining > 0) break
        if (this.state === 'skippable-body') this.expect('magic', 4)
        else if (!this.lastBlock) this.expect('block-header', 3)
        else if (this.header?.hasChecksum) this.expect('checksum', 4)
        else events.push(this.endFrame(this.position + at))
        continue
      }
      if (this.state === 'magic' && this.scratchLength === 0) this.unitOffset = this.position + at
      const take = Math.min(this.scratchNeeded - this.scratchLength, length - at)
      this.scratch.set(bytes.subarray(at, at + take), this.scratchLength)
      this.scratchLength += take
      at += take
      if (this.scratchLength < this.scratchNeeded) break
      const event = this.fieldComplete(this.position + at)
      if (event !== undefined) events.push(event)
    }
    this.position += length
    return events
  }

  /**
   * Where the bytes begin that are neither part of a frame reported so far nor known to be
   * skippable: the start of a unit whose header is still incomplete, else `position`.
   */
  get unclaimedFrom(): number {
    const partial =
      this.state === 'frame-header' ||
      this.state === 'skippable-header' ||
      (this.state === 'magic' && this.scratchLength > 0)
    return partial ? this.unitOffset : this.position
  }

  /** Call at the end of input: throws unless the stream ended cleanly between frames. */
  finish(): void {
    if (this.state !== 'magic' || this.scratchLength > 0) {
      throw zstdError(
        `truncated: input ended inside ${STATE_NAMES[this.state]} after ${this.position} bytes`,
        this.unitOffset
      )
    }
    if (this.framesSeen === 0) {
      throw new ArchiveError(
        `zstd stream is empty: ${this.position} bytes of input held no zstd frame`
      )
    }
  }

  private expect(state: State, bytes: number): void {
    this.state = state
    this.scratchLength = 0
    this.scratchNeeded = bytes
  }

  /** A header field is complete in `scratch`, ending before stream offset `end`: act on it. */
  private fieldComplete(end: number): FrameEvent | undefined {
    switch (this.state) {
      case 'magic':
        this.magicComplete()
        return undefined
      case 'frame-header':
        return this.frameHeaderProgress()
      case 'block-header':
        this.blockHeaderComplete()
        return undefined
      case 'checksum':
        return this.endFrame(end)
      case 'skippable-header':
        this.state = 'skippable-body'
        this.remaining = readU32(this.scratch, 4)
        if (this.remaining === 0) this.expect('magic', 4)
        return undefined
      default:
        throw new Error(`zstd frame walker: no field in state ${this.state}`)
    }
  }

  private magicComplete(): void {
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
  }

  /** The descriptor byte tells how long the rest of the header is; then parse it whole. */
  private frameHeaderProgress(): FrameEvent | undefined {
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
    const dictionaryAt = 5 + (singleSegment ? 0 : 1)
    const dictionaryId = readUnsigned(this.scratch, dictionaryAt, dictionaryIdBytes)
    if (dictionaryId !== 0) {
      throw zstdError(
        `frame needs dictionary ${dictionaryId}, which is not available`,
        this.unitOffset
      )
    }
    this.header = { offset: this.unitOffset, hasChecksum: (descriptor & 0x04) !== 0 }
    this.framesSeen += 1
    this.expect('block-header', 3)
    return { kind: 'frame', header: this.header }
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

  private endFrame(end: number): FrameEvent {
    const header = this.header
    if (header === undefined) throw new Error('zstd frame walker: frame end without a header')
    this.header = undefined
    this.expect('magic', 4)
    return { kind: 'end', header, end }
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

/** Little-endian unsigned integer of up to 4 bytes. */
function readUnsigned(bytes: Uint8Array, at: number, length: number): number {
  let value = 0
  for (let i = length - 1; i >= 0; i--) value = value * 256 + bytes[at + i]
  return value
}
