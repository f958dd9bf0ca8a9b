import type { FileHandle } from 'node:fs/promises'
import * as os from 'node:os'
import type { ByteSink } from './byte-sink.js'
import {
  chooseZstdEngine,
  type DecodeStep,
  type FrameEngine,
  zstdEngine,
  type ZstdEngineKind
} from './zstd-engines.js'
import { type FrameHeader, FrameWalker, zstdError } from './zstd-frames.js'

/**
 * In-process zstd decoding of a whole stream into a synchronous sink: pzstd output (frames
 * behind skippable frames), single frames, concatenated frames, skippable frames anywhere.
 *
 * The frame walker splits the stream into frames as it is read; independent frames decode at
 * the same time on libuv's threadpool, one zlib decoder per lane, and their output reaches
 * the sink in stream order. All memory is a few pools of fixed-size blocks, taken as the
 * stream needs them and reused: compressed input is read into input blocks (a frame is a list
 * of pieces of them, so a frame of any size streams through), and decoders write into output
 * blocks that go to the sink as they fill. A frame that is not next in line keeps its output
 * until its turn, within a budget that leaves the next frame room to stream.
 */

export interface ZstdSource {
  /**
   * Reads up to `length` bytes at `position` into `buffer` at `offset`, waiting until they
   * are there; resolves 0 at the end of the stream. Rejects with the download's error, or
   * with `signal`'s reason once it aborts.
   */
  read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    signal?: AbortSignal
  ): Promise<number>
}

export interface DecodeZstdOptions {
  signal?: AbortSignal
  /** Frames decoded at once on the threadpool; defaultZstdParallelism() when omitted. */
  parallelism?: number
  /**
   * Which zlib path decodes, the best one this Node.js supports when omitted; or a factory
   * of engines, one per lane, given a signal that aborts when the decode fails or is aborted
   * (tests wrap the real engines to watch or slow them).
   */
  engine?: ZstdEngineKind | EngineFactory
  /** Told which path decodes and why. */
  debug?: (message: string) => void
}

export type EngineFactory = (signal: AbortSignal) => FrameEngine

export interface DecodeZstdResult {
  compressedBytes: number
  decodedBytes: number
}

/** A source over a whole file, for the runner cache, tests and benchmarks. */
export function fileSource(handle: FileHandle): ZstdSource {
  return {
    read: async (buffer, offset, length, position) =>
      (await handle.read(buffer, offset, length, position)).bytesRead
  }
}

/**
 * Frames decoded at once: one core is left to the main thread, which runs the sink
 * (extracting and hashing files), up to three lanes (libuv's threadpool has four threads and
 * file reads need one). On a 2-core machine that is one lane, which measured best
 * (bench/decode.ts, babel's 223 MiB pzstd snapshot, the sink hashing with SHA-1, medians of
 * three): 0.69 / 0.66 / 0.65 s at 1 / 2 / 3 lanes, alike within the noise, while minor faults
 * grew 2.6k / 6.0k / 8.7k and peak RSS 77 / 90 / 100 MiB. The decoder and the main thread
 * already fill two cores; more lanes pay off only where there are more.
 */
export function defaultZstdParallelism(): number {
  return Math.max(1, Math.min(os.availableParallelism() - 1, 3))
}

const MIB = 1024 * 1024
/** Compressed bytes per read: one read per MiB costs nothing next to decoding it. */
const INPUT_BLOCK = MIB
/**
 * Input blocks: a lane streams its frame through two while the reader fills two more. More
 * read-ahead gained nothing and cost its first-touch faults: on babel's 223 MiB pzstd
 * snapshot at parallelism 1, 18 blocks took 6.2k minor faults and 0.30 s of CPU, 4 blocks
 * 2.6k faults and 0.22 s, with the same wall time.
 */
const INPUT_BLOCKS_PER_LANE = 2
const INPUT_BLOCKS_FOR_READER = 2
/**
 * Decoded bytes per decoder call and per sink write. 256 KiB to 1 MiB measured alike; 128 KiB
 * was slower, and fewer calls leave the main thread more time for the sink.
 */
const OUTPUT_BLOCK = MIB
/** A pzstd frame's decoded size (8 MiB) with room to spare: what a waiting frame may hold. */
const FRAME_BUDGET = 9 * MIB
/** Output blocks kept for the frame next in line, so that it can always stream. */
const OUTPUT_RESERVE = 2

interface InputBlock {
  bytes: Buffer
  /** Stream offset of `bytes[0]`. */
  position: number
  filled: number
  /** Frame pieces in it, plus one while the reader may still hand out its bytes. */
  refs: number
}

interface OutputBlock {
  bytes: Buffer
  filled: number
  /** Bytes up to here have gone to the sink. */
  delivered: number
}

/** Some of a frame's compressed bytes: `block.bytes[start, end)`. */
interface Piece {
  block: InputBlock
  start: number
  end: number
}

interface Frame {
  header: FrameHeader
  /** Compressed bytes not yet taken by the decoder, in order. */
  pieces: Piece[]
  /** All of the frame's bytes are in `pieces` (or were). */
  inputDone: boolean
  /** Decoded bytes not yet delivered, in order; only the last may still be written to. */
  outputs: OutputBlock[]
  decoded: boolean
}

/** One decoder call under way. */
interface Call {
  piece: Piece | undefined
  block: OutputBlock
  outputLength: number
  step: Promise<DecodeStep>
}

class Pool<T> {
  private readonly free: T[] = []
  private created = 0

  constructor(
    private readonly max: number,
    private readonly make: () => T
  ) {}

  /** An item, unless no more than `reserve` could still be had. */
  take(reserve = 0): T | undefined {
    if (this.free.length + this.max - this.created <= reserve) return undefined
    // The most recently returned block is the likeliest to be in cache.
    const reused = this.free.pop()
    if (reused !== undefined) return reused
    this.created += 1
    return this.make()
  }

  give(item: T): void {
    this.free.push(item)
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * Decodes the zstd stream that `source` holds into `sink`: `sink.write` is called with the
 * decoded bytes in order, as views into memory that is reused once it returns, then
 * `sink.end()`. Rejects with an ArchiveError naming zstd and the frame's offset for a
 * damaged or truncated stream, with what the source or sink threw, or with the signal's
 * reason; it settles only once no decoder is still working.
 */
export async function decodeZstd(
  source: ZstdSource,
  sink: ByteSink,
  options: DecodeZstdOptions = {}
): Promise<DecodeZstdResult> {
  const parallelism = options.parallelism ?? defaultZstdParallelism()
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new RangeError(`zstd parallelism must be a positive integer, not ${parallelism}`)
  }
  options.signal?.throwIfAborted()
  const createEngine = await engineFactory(options, parallelism)
  return new DecodeRun(source, sink, parallelism, createEngine).run(options.signal)
}

async function engineFactory(
  options: DecodeZstdOptions,
  parallelism: number
): Promise<EngineFactory> {
  if (typeof options.engine === 'function') return options.engine
  const choice = options.engine ? await zstdEngine(options.engine) : await chooseZstdEngine()
  options.debug?.(`${choice.reason}; up to ${parallelism} frame(s) at once`)
  return choice.create
}

class DecodeRun {
  private readonly inputs: Pool<InputBlock>
  private readonly outputs: Pool<OutputBlock>
  private readonly maxOpenFrames: number
  /** Frames not yet wholly delivered, in stream order: the first is next in line. */
  private readonly frames: Frame[] = []
  /** Frames no lane has taken yet, in stream order. */
  private readonly waiting: Frame[] = []
  private readerDone = false
  private failure: { error: unknown; offset: number } | undefined
  /** Aborts a read that waits for the source once the run has failed. */
  private readonly controller = new AbortController()
  private wakers: Array<() => void> = []
  private wakeScheduled = false
  private compressedBytes = 0
  private decodedBytes = 0

  constructor(
    private readonly source: ZstdSource,
    private readonly sink: ByteSink,
    private readonly parallelism: number,
    private readonly createEngine: EngineFactory
  ) {
    const inputBlocks = INPUT_BLOCKS_PER_LANE * parallelism + INPUT_BLOCKS_FOR_READER
    this.inputs = new Pool(inputBlocks, () => ({
      bytes: Buffer.allocUnsafeSlow(INPUT_BLOCK),
      position: 0,
      filled: 0,
      refs: 0
    }))
    const outputBlocks =
      OUTPUT_RESERVE + 1 + Math.ceil(((parallelism - 1) * FRAME_BUDGET) / OUTPUT_BLOCK)
    this.outputs = new Pool(outputBlocks, () => ({
      bytes: Buffer.allocUnsafeSlow(OUTPUT_BLOCK),
      filled: 0,
      delivered: 0
    }))
    this.maxOpenFrames = 2 * parallelism + 2
  }

  async run(signal: AbortSignal | undefined): Promise<DecodeZstdResult> {
    const onAbort = (): void => this.fail(signal?.reason, -Infinity)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const lanes = Array.from({ length: this.parallelism }, () => this.lane())
      await this.read().catch((error: unknown) => this.fail(error, this.compressedBytes))
      this.readerDone = true
      this.touch()
      await Promise.all(lanes)
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
    if (this.failure) throw this.failure.error
    if (this.frames.length > 0) throw new Error('zstd decoder: frames left undelivered')
    this.sink.end()
    return { compressedBytes: this.compressedBytes, decodedBytes: this.decodedBytes }
  }

  /** Keeps the failure nearest the start of the stream; -Infinity (abort, sink) beats all. */
  private fail(error: unknown, offset: number): void {
    if (this.failure === undefined || offset < this.failure.offset) {
      this.failure = { error, offset }
    }
    this.controller.abort(error)
    this.touch()
  }

  /**
   * Something a waiting task may be waiting for has changed: the tasks waiting in changed()
   * check again, once the current task yields. A task that finds nothing for it waits again
   * without touching anything, so waking never feeds itself.
   */
  private touch(): void {
    if (this.wakeScheduled) return
    this.wakeScheduled = true
    queueMicrotask(() => {
      this.wakeScheduled = false
      const wakers = this.wakers
      this.wakers = []
      for (const resume of wakers) resume()
    })
  }

  /** Resolves at the next change of state: more input, freed blocks, a frame delivered. */
  private changed(): Promise<void> {
    return new Promise(resolve => this.wakers.push(resolve))
  }

  private async read(): Promise<void> {
    const walker = new FrameWalker()
    /** Blocks the reader still holds: the one it fills and any with bytes not yet claimed. */
    const held: InputBlock[] = []
    let block: InputBlock | undefined
    /** Bytes before this offset belong to a frame's pieces or were skipped. */
    let claimed = 0
    let open: Frame | undefined
    for (;;) {
      if (block === undefined || block.filled === block.bytes.length) {
        block = await this.takeInput()
        if (block === undefined) return
        block.position = walker.position
        block.filled = 0
        block.refs = 1
        held.push(block)
      }
      const n = await this.source.read(
        block.bytes,
        block.filled,
        block.bytes.length - block.filled,
        walker.position,
        this.controller.signal
      )
      if (this.failure) return
      if (n === 0) break
      const from = block.filled
      block.filled += n
      this.compressedBytes += n
      for (const event of walker.walk(block.bytes.subarray(from, from + n))) {
        if (event.kind === 'frame') {
          if (!(await this.roomForFrame())) return
          open = this.openFrame(event.header)
          claimed = event.header.offset
        } else if (open !== undefined) {
          claim(open, held, claimed, event.end)
          claimed = event.end
          open.inputDone = true
          open = undefined
        }
      }
      if (open !== undefined) {
        claim(open, held, claimed, walker.position)
        claimed = walker.position
      } else {
        claimed = walker.unclaimedFrom
      }
      while (held.length > 1 && held[0].position + held[0].filled <= claimed) {
        this.releaseInput(held.shift() as InputBlock)
      }
      this.touch()
    }
    walker.finish()
    for (const done of held.splice(0)) this.releaseInput(done)
  }

  private async takeInput(): Promise<InputBlock | undefined> {
    for (;;) {
      if (this.failure) return undefined
      const block = this.inputs.take()
      if (block !== undefined) return block
      await this.changed()
    }
  }

  private async roomForFrame(): Promise<boolean> {
    while (!this.failure && this.frames.length >= this.maxOpenFrames) await this.changed()
    return !this.failure
  }

  private openFrame(header: FrameHeader): Frame {
    const frame: Frame = {
      header,
      pieces: [],
      inputDone: false,
      outputs: [],
      decoded: false
    }
    this.frames.push(frame)
    this.waiting.push(frame)
    this.touch()
    return frame
  }

  private releaseInput(block: InputBlock): void {
    block.refs -= 1
    if (block.refs > 0) return
    this.inputs.give(block)
    this.touch()
  }

  /** Decodes frames in stream order, one at a time, on an engine of its own. */
  private async lane(): Promise<void> {
    let engine: FrameEngine | undefined
    try {
      for (let frame; (frame = await this.nextFrame()) !== undefined;) {
        engine ??= this.createEngine(this.controller.signal)
        try {
          await this.decodeFrame(frame, engine)
        } catch (error) {
          this.fail(asArchiveError(error, frame.header), frame.header.offset)
          return
        }
      }
    } catch (error) {
      this.fail(error, -Infinity)
    } finally {
      engine?.close()
    }
  }

  private async nextFrame(): Promise<Frame | undefined> {
    for (;;) {
      if (this.failure) return undefined
      const frame = this.waiting.shift()
      if (frame !== undefined) return frame
      if (this.readerDone) return undefined
      await this.changed()
    }
  }

  private async decodeFrame(frame: Frame, engine: FrameEngine): Promise<void> {
    let outputWasFull = false
    for (;;) {
      if (this.failure) return
      const call = this.startCall(frame, engine, outputWasFull)
      if (call === 'done') break
      // Delivering while the engine works keeps the sink and the decoder busy at once.
      this.deliver()
      if (call === 'wait') {
        await this.changed()
        continue
      }
      const step = await call.step
      outputWasFull = this.account(frame, call, step)
      if (call.piece !== undefined && step.consumed === 0 && step.produced === 0) {
        throw zstdError('the decoder made no progress', frame.header.offset)
      }
    }
    // libzstd checks the checksum and any declared content size at the frame's end.
    frame.decoded = true
    this.touch()
    this.deliver()
  }

  /**
   * Starts the frame's next decoder call, or says why not: 'done' when the frame is decoded,
   * 'wait' when it needs input that has not arrived or an output block.
   */
  private startCall(
    frame: Frame,
    engine: FrameEngine,
    outputWasFull: boolean
  ): Call | 'done' | 'wait' {
    const piece = frame.pieces[0]
    // A call that filled its output may have more to give, even with no more input.
    if (piece === undefined && !outputWasFull) return frame.inputDone ? 'done' : 'wait'
    let block = frame.outputs.at(-1)
    if (block === undefined || block.filled === block.bytes.length) {
      block = this.outputs.take(frame === this.frames[0] ? 0 : OUTPUT_RESERVE)
      if (block === undefined) return 'wait'
      block.filled = 0
      block.delivered = 0
      frame.outputs.push(block)
    }
    const outputLength = block.bytes.length - block.filled
    const step = engine.decode(
      piece?.block.bytes ?? EMPTY,
      piece?.start ?? 0,
      piece === undefined ? 0 : piece.end - piece.start,
      block.bytes,
      block.filled,
      outputLength
    )
    return { piece, block, outputLength, step }
  }

  /** Books a finished call; true when it filled its output. */
  private account(frame: Frame, call: Call, step: DecodeStep): boolean {
    call.block.filled += step.produced
    const piece = call.piece
    if (piece !== undefined) {
      piece.start += step.consumed
      if (piece.start === piece.end) {
        frame.pieces.shift()
        this.releaseInput(piece.block)
      }
    }
    return step.produced === call.outputLength
  }

  /** Hands the sink everything the frames next in line have decoded, and frees its blocks. */
  private deliver(): void {
    try {
      while (!this.failure && this.frames.length > 0) {
        const head = this.frames[0]
        while (!this.failure && head.outputs.length > 0) {
          const block = head.outputs[0]
          if (block.filled > block.delivered) {
            this.sink.write(block.bytes.subarray(block.delivered, block.filled))
            this.decodedBytes += block.filled - block.delivered
            block.delivered = block.filled
          }
          // The frame's last block takes more output until it is full or the frame is done.
          if (!head.decoded && block.filled < block.bytes.length) break
          head.outputs.shift()
          this.outputs.give(block)
          this.touch()
        }
        if (!head.decoded) break
        this.frames.shift()
        this.touch()
      }
    } catch (error) {
      this.fail(error, -Infinity)
    }
  }
}

/** Adds stream bytes [from, to) to the frame's pieces, from the blocks that hold them. */
function claim(frame: Frame, held: InputBlock[], from: number, to: number): void {
  for (const block of held) {
    const start = Math.max(from, block.position) - block.position
    const end = Math.min(to, block.position + block.filled) - block.position
    if (start >= end) continue
    const last = frame.pieces.at(-1)
    if (last !== undefined && last.block === block && last.end === start) {
      last.end = end
    } else {
      frame.pieces.push({ block, start, end })
      block.refs += 1
    }
  }
}

/** libzstd's complaints (code ZSTD_error_*) about a frame become ArchiveErrors naming it. */
function asArchiveError(error: unknown, header: FrameHeader): unknown {
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code !== 'string' || !code.startsWith('ZSTD_error')) return error
  return zstdError((error as Error).message, header.offset)
}
