import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import * as zlib from 'node:zlib'
import type { ByteSink } from '../src/archive/byte-sink.js'
import {
  decodeZstd,
  defaultZstdParallelism,
  type EngineFactory,
  fileSource,
  type ZstdSource
} from '../src/archive/zstd.js'
import {
  chooseZstdEngine,
  type DecodeStep,
  type FrameEngine,
  selectZstdEngine,
  zstdEngine,
  type ZstdEngineKind
} from '../src/archive/zstd-engines.js'
import { Spool } from '../src/download/spool.js'
import { ArchiveError } from '../src/errors.js'
import { tempDirectory } from './support/temp.js'
import {
  buildZstdVectors,
  layoutOf,
  mildlyCompressible,
  sha256,
  skippableFrame,
  type StreamUnit,
  type ZstdVector,
  type ZstdVectorSet
} from './support/zstd-vectors.js'

const ENGINES: ZstdEngineKind[] = ['zlib-handle', 'zlib-stream']
const WHOLE = Number.POSITIVE_INFINITY
const MIB = 1024 * 1024

let vectors: ZstdVectorSet
/** 40 MiB of text through `pzstd -1 -p 2`: a frame every 2 MiB, 21 of them. */
let many: ZstdVector

beforeAll(async () => {
  vectors = await buildZstdVectors()
  const content = Buffer.concat([1, 2, 3, 4].map(seed => mildlyCompressible(10 * MIB, seed + 40)))
  const compressed = execFileSync('pzstd', ['-q', '-1', '-p', '2', '-c'], {
    input: content,
    maxBuffer: 1 << 30
  })
  many = { name: 'pzstd-40m', compressed, content, sha256: sha256(content) }
})

afterAll(async () => {
  await vectors?.cleanup()
})

/** A source over bytes in memory that hands out at most `chunk` bytes a read. */
function memorySource(input: Buffer, chunk = WHOLE): ZstdSource & { supplied: number } {
  const source = {
    supplied: 0,
    async read(buffer: Buffer, offset: number, length: number, position: number) {
      const n = Math.max(0, Math.min(length, chunk, input.length - position))
      input.copy(buffer, offset, position, position + n)
      source.supplied = Math.max(source.supplied, position + n)
      return n
    }
  }
  return source
}

interface Decoded {
  length: number
  sha256: string
}

/** Hashes what it is given, and notes the memory behind each view (to see it reused). */
class HashSink implements ByteSink {
  private readonly hash = createHash('sha256')
  length = 0
  writes = 0
  largest = 0
  ended = false
  readonly memory = new Set<ArrayBufferLike>()
  onWrite: ((bytes: Uint8Array) => void) | undefined

  write(bytes: Uint8Array): void {
    if (this.ended) throw new Error('write after end')
    this.onWrite?.(bytes)
    this.hash.update(bytes)
    this.length += bytes.length
    this.writes += 1
    this.largest = Math.max(this.largest, bytes.length)
    this.memory.add(bytes.buffer)
  }

  end(): void {
    this.ended = true
  }

  decoded(): Decoded {
    return { length: this.length, sha256: this.hash.digest('hex') }
  }
}

async function decode(
  input: Buffer,
  engine: ZstdEngineKind,
  chunkSize = 64 * 1024,
  parallelism = 2
): Promise<Decoded> {
  const sink = new HashSink()
  const result = await decodeZstd(memorySource(input, chunkSize), sink, { engine, parallelism })
  expect(sink.ended).toBe(true)
  expect(result).toEqual({ compressedBytes: input.length, decodedBytes: sink.length })
  return sink.decoded()
}

/** Decodes expecting failure; returns the error, which must be an ArchiveError naming zstd. */
async function decodeError(
  input: Buffer,
  engine: ZstdEngineKind,
  chunkSize?: number,
  parallelism?: number
): Promise<Error> {
  let outcome: Decoded | undefined
  try {
    outcome = await decode(input, engine, chunkSize, parallelism)
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError)
    expect((error as Error).message).toMatch(/zstd/)
    return error as Error
  }
  throw new Error(`expected a zstd error, got a clean end after ${outcome.length} bytes`)
}

/** Chunk sizes worth trying for a vector: byte by byte only where that stays quick. */
function chunkingsFor(vector: ZstdVector): number[] {
  if (vector.compressed.length <= 2_000) return [1, 7, 64 * 1024, WHOLE]
  if (vector.compressed.length <= 40_000) return [7, 64 * 1024, WHOLE]
  return [64 * 1024 + 3, WHOLE]
}

function label(chunkSize: number): string {
  return chunkSize === WHOLE ? 'whole buffer' : `${chunkSize}-byte reads`
}

type Frame = Extract<StreamUnit, { kind: 'frame' }>

function framesOf(vector: ZstdVector): Frame[] {
  return layoutOf(vector.compressed).filter((unit): unit is Frame => unit.kind === 'frame')
}

function withByte(input: Buffer, at: number, value: (old: number) => number): Buffer {
  const copy = Buffer.from(input)
  copy[at] = value(copy[at])
  return copy
}

/**
 * Real engines of one kind, watched: how many calls are under way, and what each engine (one
 * per lane, in the order the lanes made them) has produced. `delay(index)` holds back the
 * answer of every call of engine `index` by that many milliseconds.
 */
async function watchedEngines(kind: ZstdEngineKind, delay: (index: number) => number = () => 0) {
  const choice = await zstdEngine(kind)
  const watch = { inFlight: 0, produced: [] as number[], calls: 0 }
  const factory: EngineFactory = () => {
    const index = watch.produced.length
    watch.produced.push(0)
    const engine = choice.create()
    const watched: FrameEngine = {
      async decode(...args): Promise<DecodeStep> {
        watch.inFlight += 1
        watch.calls += 1
        try {
          const step = await engine.decode(...args)
          if (delay(index) > 0) await sleep(delay(index))
          watch.produced[index] += step.produced
          return step
        } finally {
          watch.inFlight -= 1
        }
      },
      close: () => engine.close()
    }
    return watched
  }
  return { factory, watch }
}

/** A spool the test fills while the decoder reads it, as a download does. */
async function fillingSpool(segments: Array<{ start: number; end: number }>): Promise<Spool> {
  const directory = await tempDirectory('zstd-spool-')
  const spool = await Spool.create(path.join(directory, 'snapshot.zst'))
  spool.setSegments(segments)
  return spool
}

describe('zstd test vectors (made by the zstd and pzstd CLIs)', () => {
  it('cover the structures the decoder must walk', () => {
    const multi = layoutOf(vectors.vector('pzstd-multi').compressed)
    expect(multi.filter(unit => unit.kind === 'frame').length).toBeGreaterThanOrEqual(4)
    // pzstd: every frame is preceded by a skippable frame holding its compressed size.
    multi.forEach((unit, index) => {
      expect(unit.kind).toBe(index % 2 === 0 ? 'skippable' : 'frame')
      if (unit.kind === 'frame') {
        const before = multi[index - 1]
        expect(vectors.vector('pzstd-multi').compressed.readUInt32LE(before.start + 8)).toBe(
          unit.end - unit.start
        )
      }
    })
    const blockTypes = new Set(
      vectors.all.flatMap(v => framesOf(v).flatMap(f => f.blocks)).map(b => b.type)
    )
    expect([...blockTypes].sort()).toEqual(['compressed', 'raw', 'rle'])
    const frames = vectors.all.flatMap(framesOf)
    expect(frames.some(f => f.checksumStart !== undefined && f.contentSizeField)).toBe(true)
    expect(frames.some(f => f.checksumStart === undefined && !f.contentSizeField)).toBe(true)
    // --long=31 from stdin: window descriptor byte 0xa8 = 2^31.
    expect(vectors.vector('long31').compressed[5]).toBe(0xa8)
    expect(framesOf(many).length).toBeGreaterThanOrEqual(20)
  })
})

describe('the zstd engine', () => {
  it("is zlib's native handle on this Node.js, and says so", async () => {
    expect((await chooseZstdEngine()).kind).toBe('zlib-handle')
    const heard: string[] = []
    const vector = vectors.vector('zstd-stdin')
    await decodeZstd(memorySource(vector.compressed), new HashSink(), {
      debug: message => heard.push(message)
    })
    expect(heard).toEqual([expect.stringMatching(/native handle into reused buffers/)])
  })

  it('falls back to the public zlib streams, with the reason, when the handle is missing', async () => {
    const choice = await selectZstdEngine(() => undefined)
    expect(choice.kind).toBe('zlib-stream')
    expect(choice.reason).toMatch(/zlib streams .*no native handle with init, write and close/)
  })

  it('falls back when the handle breaks or decodes wrongly', async () => {
    class Failing {
      init(): void {
        throw new Error('init changed shape')
      }
      write(): void {}
      close(): void {}
    }
    /** Claims to take all input and fill all output, and writes nothing. */
    class Liar {
      private state: Uint32Array = new Uint32Array(2)
      private done: () => void = () => undefined
      init(_params: unknown, _size: unknown, state: Uint32Array, done: () => void): void {
        this.state = state
        this.done = done
      }
      write(): void {
        this.state.fill(0)
        setImmediate(() => this.done.call(this))
      }
      close(): void {}
    }
    const failing = await selectZstdEngine(() => Failing)
    expect(failing).toMatchObject({ kind: 'zlib-stream', reason: /init changed shape/ })
    const lying = await selectZstdEngine(() => Liar)
    expect(lying).toMatchObject({ kind: 'zlib-stream', reason: /decoded wrong bytes/ })
  })

  it('defaults to a parallelism of at least one, and refuses nonsense', async () => {
    expect(defaultZstdParallelism()).toBeGreaterThanOrEqual(1)
    const source = memorySource(vectors.vector('zstd-stdin').compressed)
    for (const parallelism of [0, 1.5, -1]) {
      await expect(decodeZstd(source, new HashSink(), { parallelism })).rejects.toThrow(
        /parallelism must be a positive integer/
      )
    }
  })
})

describe.each(ENGINES)('decodeZstd, %s engine', engine => {
  it('decodes every vector, whatever the read sizes and the parallelism', async () => {
    let round = 0
    for (const vector of vectors.all) {
      if (vector.name === 'pzstd-multi') continue // the largest: its own test below
      for (const chunkSize of chunkingsFor(vector)) {
        const parallelism = 1 + (round++ % 3)
        const decoded = await decode(vector.compressed, engine, chunkSize, parallelism)
        expect({ vector: vector.name, chunking: label(chunkSize), ...decoded }).toEqual({
          vector: vector.name,
          chunking: label(chunkSize),
          length: vector.content.length,
          sha256: vector.sha256
        })
      }
    }
  })

  it('decodes ten pzstd frames arriving in one read (zlib alone returns only the first)', async () => {
    const vector = vectors.vector('pzstd-multi')
    for (const chunkSize of [WHOLE, 64 * 1024]) {
      expect(await decode(vector.compressed, engine, chunkSize)).toEqual({
        length: vector.content.length,
        sha256: vector.sha256
      })
    }
  })

  it('decodes a --long=31 frame (2 GiB window)', async () => {
    const vector = vectors.vector('long31')
    expect(await decode(vector.compressed, engine)).toEqual({
      length: vector.content.length,
      sha256: vector.sha256
    })
  })

  it('decodes 21 pzstd frames in parallel to the bytes `zstd -dc` gives, at any parallelism', async () => {
    const expected = execFileSync('zstd', ['-dc'], { input: many.compressed, maxBuffer: 1 << 30 })
    expect(expected.length).toBe(many.content.length)
    for (const parallelism of [1, 2, 3, 4]) {
      const decoded = await decode(many.compressed, engine, WHOLE, parallelism)
      expect({ parallelism, ...decoded }).toEqual({
        parallelism,
        length: expected.length,
        sha256: sha256(expected)
      })
    }
  })

  it('delivers in stream order when later frames finish decoding first', async () => {
    const frames = framesOf(many)
    const frameLength = (frame: Frame): number =>
      zlib.zstdDecompressSync(many.compressed.subarray(frame.start, frame.end)).length
    const firstLength = frameLength(frames[0])
    const secondLength = frameLength(frames[1])
    // Lane 0 takes frame 0 and answers each call 50 ms late; lanes 1 and 2 are not held back.
    const { factory, watch } = await watchedEngines(engine, index => (index === 0 ? 50 : 0))
    const sink = new HashSink()
    let othersWhenFirstDelivered: number | undefined
    sink.onWrite = bytes => {
      if (othersWhenFirstDelivered === undefined && sink.length + bytes.length > firstLength) {
        othersWhenFirstDelivered = watch.produced.slice(1).reduce((a, b) => a + b, 0)
      }
    }
    await decodeZstd(memorySource(many.compressed), sink, { engine: factory, parallelism: 3 })
    expect(sink.decoded()).toEqual({ length: many.content.length, sha256: many.sha256 })
    // Frame 1 (at least) was decoded whole before frame 0 reached the sink.
    expect(othersWhenFirstDelivered).toBeGreaterThanOrEqual(secondLength)
    expect(watch.produced).toHaveLength(3)
  })

  it('decodes through a small set of reused buffers, never one per chunk', async () => {
    for (const parallelism of [1, 3]) {
      const sink = new HashSink()
      await decodeZstd(memorySource(many.compressed, 64 * 1024), sink, { engine, parallelism })
      expect(sink.decoded()).toEqual({ length: many.content.length, sha256: many.sha256 })
      // Decoded output fills 1 MiB blocks from a pool: 3 blocks at parallelism 1, and room for
      // a 9 MiB frame per extra lane.
      expect(sink.largest).toBeLessThanOrEqual(MIB)
      expect(sink.writes).toBeGreaterThanOrEqual(40)
      expect(sink.memory.size).toBeLessThanOrEqual(3 + (parallelism - 1) * 9)
    }
  })

  it('keeps memory bounded on frames that decode to far more than they take', async () => {
    // Three 8 MB RLE frames from ~800 bytes of input, delivered through a few reused blocks.
    const vector = vectors.vector('zeros-rle')
    const input = Buffer.concat(Array.from({ length: 3 }, () => vector.compressed))
    const sink = new HashSink()
    await decodeZstd(memorySource(input), sink, { engine, parallelism: 1 })
    const expected = Buffer.concat(Array.from({ length: 3 }, () => vector.content))
    expect(sink.decoded()).toEqual({ length: expected.length, sha256: sha256(expected) })
    expect(sink.memory.size).toBeLessThanOrEqual(3)
  })

  it('treats a truncation anywhere inside a unit as an error, at every offset of a small stream', async () => {
    const vector = vectors.vector('tiny-mixed')
    const units = layoutOf(vector.compressed)
    const boundaries = new Set(units.map(unit => unit.end))
    const firstFrameEnd = units.find(unit => unit.kind === 'frame')?.end ?? Infinity
    let errors = 0
    for (let cut = 0; cut < vector.compressed.length; cut++) {
      const prefix = vector.compressed.subarray(0, cut)
      if (boundaries.has(cut) && cut >= firstFrameEnd) {
        // Cut exactly between frames: a valid, shorter stream. zstd cannot tell; the tar layer must.
        const expected = execFileSync('zstd', ['-dc'], { input: prefix })
        expect(await decode(prefix, engine)).toEqual({
          length: expected.length,
          sha256: sha256(expected)
        })
        continue
      }
      // Mostly whole: what matters is where input ends; every fourth cut is read 3 bytes at a time.
      const error = await decodeError(prefix, engine, cut % 4 === 0 ? 3 : WHOLE)
      const empty = cut === 0 || (cut < firstFrameEnd && boundaries.has(cut))
      expect(error.message).toMatch(empty ? /empty/ : /truncated/)
      errors += 1
    }
    expect(errors).toBeGreaterThan(vector.compressed.length - 6)
  })

  it('names where a large multi-frame stream was cut, read whole or in chunks', async () => {
    const vector = vectors.vector('pzstd-multi')
    const units = layoutOf(vector.compressed)
    const frames = framesOf(vector)
    const midBlock = frames[2].blocks.filter(block => block.bodyEnd - block.bodyStart > 100)[2]
    // Streamed frames often end with an empty last block; take the last one with a body.
    const lastBlock = frames[1].blocks.filter(block => block.bodyEnd > block.bodyStart).at(-1)
    if (lastBlock === undefined) throw new Error('pzstd-multi: frame 2 has no block data')
    const cuts: Array<[number, RegExp]> = [
      [0, /empty/],
      [2, /inside a frame magic number/],
      [6, /inside a skippable frame header/],
      [10, /inside a skippable frame/],
      [frames[0].start + 2, /inside a frame magic number/],
      [frames[0].start + 5, /inside a frame header/],
      [frames[1].blocks[1].headerStart + 1, /inside a block header/],
      [Math.floor((midBlock.bodyStart + midBlock.bodyEnd) / 2), /inside block data/],
      [lastBlock.bodyEnd - 1, /inside block data/],
      [(frames[2].checksumStart ?? NaN) + 2, /inside the frame checksum/],
      [units[6].start + 9, /inside a skippable frame/],
      [vector.compressed.length - 1, /inside the frame checksum/]
    ]
    for (const [index, [cut, where]] of cuts.entries()) {
      // Both read sizes, alternating, keep this quick: each cut decodes everything before it.
      const chunkSize = index % 2 === 0 ? WHOLE : 64 * 1024
      const error = await decodeError(vector.compressed.subarray(0, cut), engine, chunkSize)
      expect(`${cut}: ${error.message}`).toMatch(where)
      expect(error.message).toMatch(/truncated|empty/)
    }
  })

  describe('corruption', () => {
    it('fails on a flipped byte inside a compressed block, naming the frame offset', async () => {
      const vector = vectors.vector('pzstd-small')
      const third = framesOf(vector)[2]
      const block = third.blocks.find(b => b.type === 'compressed')
      if (block === undefined) throw new Error('pzstd-small: no compressed block in frame 3')
      for (const at of [block.bodyStart + 10, Math.floor((block.bodyStart + block.bodyEnd) / 2)]) {
        const damaged = withByte(vector.compressed, at, old => old ^ 0x5a)
        const error = await decodeError(damaged, engine)
        expect(error.message).toContain(`frame at byte ${third.start}`)
      }
    })

    it('fails on a bad checksum', async () => {
      const vector = vectors.vector('pzstd-small')
      const second = framesOf(vector)[1]
      if (second.checksumStart === undefined) throw new Error('pzstd-small: no checksum')
      const damaged = withByte(vector.compressed, second.checksumStart + 1, old => old ^ 1)
      const error = await decodeError(damaged, engine, WHOLE)
      expect(error.message).toMatch(/checksum/i)
      expect(error.message).toContain(`frame at byte ${second.start}`)
    })

    it('fails on a reserved block type', async () => {
      const vector = vectors.vector('concatenated')
      const second = framesOf(vector)[1]
      const damaged = withByte(vector.compressed, second.blocks[0].headerStart, old => old | 0b110)
      const error = await decodeError(damaged, engine)
      expect(error.message).toMatch(/reserved block type/)
      expect(error.message).toContain(`frame at byte ${second.start}`)
    })

    it('fails on a bad magic number, first or later', async () => {
      const vector = vectors.vector('concatenated')
      const notZstd = await decodeError(
        withByte(vector.compressed, 0, old => old ^ 0xff),
        engine
      )
      expect(notZstd.message).toMatch(/not a zstd stream/)
      const second = framesOf(vector)[1]
      const later = await decodeError(
        withByte(vector.compressed, second.start + 3, old => old ^ 0x10),
        engine
      )
      expect(later.message).toMatch(/bad frame magic number/)
      expect(later.message).toContain(`frame at byte ${second.start}`)
    })

    it('fails when the content size in the header does not match the content', async () => {
      const vector = vectors.vector('zstd-no-check') // no checksum: only the size can tell
      const field = framesOf(vector)[0].contentSizeField
      if (field === undefined) throw new Error('zstd-no-check: no content size')
      for (const delta of [1, -1]) {
        const damaged = Buffer.from(vector.compressed)
        damaged.writeUIntLE(vector.content.length + delta, field.at, field.width)
        await decodeError(damaged, engine)
      }
    })

    it('fails on a reserved bit in the frame header descriptor', async () => {
      const vector = vectors.vector('zstd-stdin')
      const error = await decodeError(
        withByte(vector.compressed, 4, old => old | 0x08),
        engine
      )
      expect(error.message).toMatch(/reserved bit/)
    })

    it('fails on a frame that needs a dictionary', async () => {
      // Descriptor 0x01: a one-byte dictionary id follows the window descriptor.
      const frame = vectors.vector('empty-content').compressed
      const descriptor = frame[4]
      expect(descriptor & 0x20).toBe(0x20) // single segment: no window byte
      const withDictionary = Buffer.concat([
        frame.subarray(0, 4),
        Buffer.from([descriptor | 0x01, 7]),
        frame.subarray(5)
      ])
      const error = await decodeError(withDictionary, engine)
      expect(error.message).toMatch(/dictionary 7/)
    })

    it('fails on a stream of skippable frames only, or on trailing garbage', async () => {
      const onlySkippable = skippableFrame(0, Buffer.from('nothing here'))
      expect((await decodeError(onlySkippable, engine)).message).toMatch(/empty/)
      const vector = vectors.vector('pzstd-small')
      const garbage = Buffer.concat([vector.compressed, Buffer.from('garbage!')])
      expect((await decodeError(garbage, engine)).message).toMatch(
        new RegExp(`bad frame magic number .*frame at byte ${vector.compressed.length}`)
      )
    })

    it('fails on a damaged frame while others decode, with nothing left running', async () => {
      const frames = framesOf(many)
      const sixth = frames[5]
      const block = sixth.blocks.find(b => b.type === 'compressed' && b.bodyEnd - b.bodyStart > 64)
      if (block === undefined) throw new Error('pzstd-40m: no compressed block in frame 6')
      const damaged = withByte(many.compressed, block.bodyStart + 20, old => old ^ 0xa5)
      const { factory, watch } = await watchedEngines(engine)
      const sink = new HashSink()
      const prefix = createHash('sha256')
      const error = await decodeZstd(memorySource(damaged), sink, {
        engine: factory,
        parallelism: 3
      }).then(
        () => undefined,
        (failure: unknown) => failure
      )
      expect(error).toBeInstanceOf(ArchiveError)
      expect((error as Error).message).toContain(`frame at byte ${sixth.start}`)
      expect(watch.inFlight).toBe(0)
      expect(sink.ended).toBe(false)
      // What reached the sink is the start of the true content, never bytes of the damage.
      prefix.update(many.content.subarray(0, sink.length))
      expect(sink.decoded().sha256).toBe(prefix.digest('hex'))
      // Frames were decoding side by side: all three lanes had taken one.
      expect(watch.produced.length).toBe(3)
    })
  })

  describe('sources that are still filling', () => {
    it("streams a frame's output before the frame's last input byte arrives", async () => {
      const vector = vectors.vector('zstd-stdin') // one 0.9 MB frame
      const spool = await fillingSpool([{ start: 0, end: vector.compressed.length }])
      try {
        const sink = new HashSink()
        const decoding = decodeZstd(spool, sink, { engine })
        const piece = 16 * 1024
        let producedBeforeLast = 0
        for (let at = 0; at < vector.compressed.length; at += piece) {
          const end = Math.min(at + piece, vector.compressed.length)
          if (end === vector.compressed.length) producedBeforeLast = sink.length
          await spool.write(0, vector.compressed.subarray(at, end), at)
          await sleep(3)
        }
        spool.finish(vector.compressed.length)
        await decoding
        expect(producedBeforeLast).toBeGreaterThan(vector.content.length / 2)
        expect(sink.decoded()).toEqual({ length: vector.content.length, sha256: vector.sha256 })
      } finally {
        await spool.close()
      }
    })

    it('decodes a pzstd stream written into a spool out of order, in uneven pieces', async () => {
      const input = many.compressed
      const quarter = Math.floor(input.length / 4)
      const bounds = [0, quarter, 2 * quarter, 3 * quarter, input.length]
      const segments = bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1] }))
      const spool = await fillingSpool(segments)
      try {
        const sink = new HashSink()
        const decoding = decodeZstd(spool, sink, { engine, parallelism: 3 })
        // Later segments first: nothing can be decoded until the first arrives.
        for (const index of [3, 1, 2, 0]) {
          const { start, end } = segments[index]
          for (let at = start; at < end; at += 777_777) {
            const stop = Math.min(at + 777_777, end)
            await spool.write(index, input.subarray(at, stop), at)
            await nextTurn()
          }
          if (index !== 0) expect(sink.length).toBe(0)
        }
        spool.finish(input.length)
        await decoding
        expect(sink.decoded()).toEqual({ length: many.content.length, sha256: many.sha256 })
      } finally {
        await spool.close()
      }
    })

    it('stops promptly on abort, with no decoder or read left running', async () => {
      const input = many.compressed
      const spool = await fillingSpool([{ start: 0, end: input.length }])
      try {
        // Half the stream arrives, then the download stalls: the decoder waits on the spool.
        const half = Math.floor(input.length / 2)
        await spool.write(0, input.subarray(0, half), 0)
        const { factory, watch } = await watchedEngines(engine)
        let readsWaiting = 0
        let waitingPastWritten = false
        const watchedSpool: ZstdSource = {
          async read(buffer, offset, length, position, signal) {
            readsWaiting += 1
            waitingPastWritten = position >= half
            try {
              return await spool.read(buffer, offset, length, position, signal)
            } finally {
              readsWaiting -= 1
            }
          }
        }
        const controller = new AbortController()
        const sink = new HashSink()
        const decoding = decodeZstd(watchedSpool, sink, {
          engine: factory,
          parallelism: 3,
          signal: controller.signal
        })
        while (sink.length < 4 * MIB || !waitingPastWritten) await sleep(5)
        const reason = new Error('the job was cancelled')
        const aborted = Date.now()
        controller.abort(reason)
        await expect(decoding).rejects.toBe(reason)
        expect(Date.now() - aborted).toBeLessThan(1000)
        expect({ inFlight: watch.inFlight, readsWaiting }).toEqual({ inFlight: 0, readsWaiting: 0 })
        const writesAtAbort = sink.writes
        await sleep(50)
        expect(sink.writes).toBe(writesAtAbort)
        expect(sink.ended).toBe(false)
      } finally {
        await spool.close()
      }
    })

    it('stops on an abort from inside the sink, with frames in flight', async () => {
      const { factory, watch } = await watchedEngines(engine)
      const controller = new AbortController()
      const reason = new Error('enough')
      const sink = new HashSink()
      sink.onWrite = () => {
        if (sink.writes === 2) controller.abort(reason)
      }
      const decoding = decodeZstd(memorySource(many.compressed), sink, {
        engine: factory,
        parallelism: 3,
        signal: controller.signal
      })
      await expect(decoding).rejects.toBe(reason)
      expect(watch.inFlight).toBe(0)
      expect(sink.writes).toBe(3) // the write that aborted went through; nothing after it
    })

    it('hands on the download failure', async () => {
      const vector = vectors.vector('pzstd-small')
      const spool = await fillingSpool([{ start: 0, end: vector.compressed.length }])
      try {
        const decoding = decodeZstd(spool, new HashSink(), { engine })
        await spool.write(0, vector.compressed.subarray(0, 100), 0)
        spool.fail(new Error('connection reset'))
        await expect(decoding).rejects.toThrow('connection reset')
      } finally {
        await spool.close()
      }
    })

    it('hands on what the sink throws', async () => {
      const vector = vectors.vector('pzstd-multi')
      const sink = new HashSink()
      sink.onWrite = () => {
        throw new Error('disk full')
      }
      await expect(
        decodeZstd(memorySource(vector.compressed), sink, { engine, parallelism: 3 })
      ).rejects.toThrow('disk full')
    })
  })
})

describe('fileSource', () => {
  it('reads a whole file through its handle', async () => {
    const directory = await tempDirectory('zstd-file-')
    const file = path.join(directory, 'multi.zst')
    await fs.writeFile(file, vectors.vector('pzstd-multi').compressed)
    const handle = await fs.open(file)
    try {
      const sink = new HashSink()
      await decodeZstd(fileSource(handle), sink)
      const vector = vectors.vector('pzstd-multi')
      expect(sink.decoded()).toEqual({ length: vector.content.length, sha256: vector.sha256 })
    } finally {
      await handle.close()
    }
  })
})
