import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import * as zlib from 'node:zlib'
import { createZstdDecoder, defaultZstdBackend, type ZstdBackend } from '../src/archive/zstd.js'
import { ArchiveError } from '../src/errors.js'
import {
  buildZstdVectors,
  layoutOf,
  sha256,
  skippableFrame,
  type StreamUnit,
  type ZstdVector,
  type ZstdVectorSet
} from './support/zstd-vectors.js'

const BACKENDS: ZstdBackend[] = ['node-zlib', 'js']
const WHOLE = Number.POSITIVE_INFINITY

let vectors: ZstdVectorSet

beforeAll(async () => {
  vectors = await buildZstdVectors()
})

afterAll(async () => {
  await vectors?.cleanup()
})

function* chunksOf(input: Buffer, size: number): Generator<Buffer> {
  if (size >= input.length) {
    yield input
    return
  }
  for (let at = 0; at < input.length; at += size) yield input.subarray(at, at + size)
}

interface Decoded {
  length: number
  sha256: string
}

async function decode(
  input: Buffer,
  backend: ZstdBackend,
  chunkSize = 64 * 1024
): Promise<Decoded> {
  const hash = createHash('sha256')
  let length = 0
  await pipeline(
    Readable.from(chunksOf(input, chunkSize)),
    createZstdDecoder({ backend }),
    async (decoded: AsyncIterable<Buffer>) => {
      for await (const chunk of decoded) {
        hash.update(chunk)
        length += chunk.length
      }
    }
  )
  return { length, sha256: hash.digest('hex') }
}

/** Decodes expecting failure; returns the error, which must be an ArchiveError naming zstd. */
async function decodeError(
  input: Buffer,
  backend: ZstdBackend,
  chunkSize?: number
): Promise<Error> {
  let outcome: Decoded | undefined
  try {
    outcome = await decode(input, backend, chunkSize)
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
  return chunkSize === WHOLE ? 'whole buffer' : `${chunkSize}-byte chunks`
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
  })
})

describe('defaultZstdBackend', () => {
  it('picks node-zlib on a Node that has zlib zstd', () => {
    expect(typeof zlib.createZstdDecompress).toBe('function')
    expect(defaultZstdBackend()).toBe('node-zlib')
  })
})

describe.each(BACKENDS)('createZstdDecoder, %s backend', backend => {
  it('decodes every vector, whatever the chunking', async () => {
    for (const vector of vectors.all) {
      if (vector.name === 'pzstd-multi') continue // the largest: its own test below
      if (backend === 'js' && /^long(31|27-stdin)$/.test(vector.name)) continue // window test below
      for (const chunkSize of chunkingsFor(vector)) {
        const decoded = await decode(vector.compressed, backend, chunkSize)
        expect({ vector: vector.name, chunking: label(chunkSize), ...decoded }).toEqual({
          vector: vector.name,
          chunking: label(chunkSize),
          length: vector.content.length,
          sha256: vector.sha256
        })
      }
    }
  })

  it('decodes ten pzstd frames arriving in one write (zlib alone returns only the first)', async () => {
    const vector = vectors.vector('pzstd-multi')
    for (const chunkSize of [WHOLE, 64 * 1024]) {
      expect(await decode(vector.compressed, backend, chunkSize)).toEqual({
        length: vector.content.length,
        sha256: vector.sha256
      })
    }
  })

  if (backend === 'node-zlib') {
    it('decodes a --long=31 frame (2 GiB window)', async () => {
      const vector = vectors.vector('long31')
      expect(await decode(vector.compressed, backend)).toEqual({
        length: vector.content.length,
        sha256: vector.sha256
      })
    })
  } else {
    it('refuses frames whose window is past 32 MiB, naming the window, never decoding wrongly', async () => {
      expect(vectors.vector('long25-stdin').compressed[5]).toBe((25 - 10) << 3)
      for (const [name, window] of [
        ['long31', '2048 MiB'],
        ['long27-stdin', '128 MiB']
      ]) {
        const error = await decodeError(vectors.vector(name).compressed, backend)
        expect(error.message).toMatch(
          new RegExp(`zstd frame at byte 0 needs a ${window} window; .* at most 32 MiB`)
        )
      }
    })
  }

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
        expect(await decode(prefix, backend)).toEqual({
          length: expected.length,
          sha256: sha256(expected)
        })
        continue
      }
      // Mostly whole: what matters is where input ends; every fourth cut is fed in 3-byte bits.
      const error = await decodeError(prefix, backend, cut % 4 === 0 ? 3 : WHOLE)
      const empty = cut === 0 || (cut < firstFrameEnd && boundaries.has(cut))
      expect(error.message).toMatch(empty ? /empty/ : /truncated/)
      errors += 1
    }
    expect(errors).toBeGreaterThan(vector.compressed.length - 6)
  })

  it('names where a large multi-frame stream was cut, fed whole or in chunks', async () => {
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
      // Both chunkings, alternating, keep this quick: each cut decodes everything before it.
      const chunkSize = index % 2 === 0 ? WHOLE : 64 * 1024
      const error = await decodeError(vector.compressed.subarray(0, cut), backend, chunkSize)
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
        const error = await decodeError(damaged, backend)
        expect(error.message).toContain(`frame at byte ${third.start}`)
      }
    })

    it('fails on a bad checksum', async () => {
      const vector = vectors.vector('pzstd-small')
      const second = framesOf(vector)[1]
      if (second.checksumStart === undefined) throw new Error('pzstd-small: no checksum')
      const damaged = withByte(vector.compressed, second.checksumStart + 1, old => old ^ 1)
      const error = await decodeError(damaged, backend, WHOLE)
      expect(error.message).toMatch(/checksum/i)
      expect(error.message).toContain(`frame at byte ${second.start}`)
    })

    it('fails on a reserved block type', async () => {
      const vector = vectors.vector('concatenated')
      const second = framesOf(vector)[1]
      const damaged = withByte(vector.compressed, second.blocks[0].headerStart, old => old | 0b110)
      const error = await decodeError(damaged, backend)
      expect(error.message).toMatch(/reserved block type/)
      expect(error.message).toContain(`frame at byte ${second.start}`)
    })

    it('fails on a bad magic number, first or later', async () => {
      const vector = vectors.vector('concatenated')
      const notZstd = await decodeError(
        withByte(vector.compressed, 0, old => old ^ 0xff),
        backend
      )
      expect(notZstd.message).toMatch(/not a zstd stream/)
      const second = framesOf(vector)[1]
      const later = await decodeError(
        withByte(vector.compressed, second.start + 3, old => old ^ 0x10),
        backend
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
        await decodeError(damaged, backend)
      }
    })

    it('fails on a reserved bit in the frame header descriptor', async () => {
      const vector = vectors.vector('zstd-stdin')
      const error = await decodeError(
        withByte(vector.compressed, 4, old => old | 0x08),
        backend
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
      const error = await decodeError(withDictionary, backend)
      expect(error.message).toMatch(/dictionary 7/)
    })

    it('fails on a stream of skippable frames only, or on trailing garbage', async () => {
      const onlySkippable = skippableFrame(0, Buffer.from('nothing here'))
      expect((await decodeError(onlySkippable, backend)).message).toMatch(/empty/)
      const vector = vectors.vector('pzstd-small')
      const garbage = Buffer.concat([vector.compressed, Buffer.from('garbage!')])
      expect((await decodeError(garbage, backend)).message).toMatch(
        new RegExp(`bad frame magic number .*frame at byte ${vector.compressed.length}`)
      )
    })
  })

  describe('flow control', () => {
    it('holds output to a bounded buffer while nobody reads, then delivers it all', async () => {
      // Three 8 MB RLE frames from ~800 bytes of input: 24 MB if nothing held production back.
      const vector = vectors.vector('zeros-rle')
      const input = Buffer.concat(Array.from({ length: 3 }, () => vector.compressed))
      const decoder = createZstdDecoder({ backend })
      decoder.end(input)
      const buffered = await settledReadableLength(decoder)
      expect(buffered).toBeGreaterThan(0)
      expect(buffered).toBeLessThanOrEqual(4 * 1024 * 1024)
      const hash = createHash('sha256')
      let length = 0
      for await (const chunk of decoder as AsyncIterable<Buffer>) {
        hash.update(chunk)
        length += chunk.length
      }
      const expected = Buffer.concat(Array.from({ length: 3 }, () => vector.content))
      expect({ length, sha256: hash.digest('hex') }).toEqual({
        length: expected.length,
        sha256: sha256(expected)
      })
    })

    it('stops reading input while output is not consumed', async () => {
      const multi = vectors.vector('pzstd-multi')
      const input = multi.compressed.subarray(0, layoutOf(multi.compressed)[5].end) // 3 frames
      let supplied = 0
      const source = Readable.from(
        (function* () {
          for (const chunk of chunksOf(input, 64 * 1024)) {
            supplied += chunk.length
            yield chunk
          }
        })(),
        { objectMode: false, highWaterMark: 64 * 1024 }
      )
      const decoder = createZstdDecoder({ backend })
      source.pipe(decoder)
      await settledReadableLength(decoder)
      expect(supplied).toBeLessThan(input.length / 2)
      const hash = createHash('sha256')
      for await (const chunk of decoder as AsyncIterable<Buffer>) hash.update(chunk)
      const expected = execFileSync('zstd', ['-dc'], { input, maxBuffer: 1 << 30 })
      expect(hash.digest('hex')).toBe(sha256(expected))
    })

    it("streams a frame's output before the frame's last input byte arrives", async () => {
      const vector = vectors.vector('zstd-stdin') // one 0.9 MB frame
      let produced = 0
      const decoder = createZstdDecoder({ backend })
      decoder.on('data', (chunk: Buffer) => (produced += chunk.length))
      const input = chunksOf(vector.compressed, 16 * 1024)
      for (const chunk of input) {
        if (!decoder.write(chunk)) await new Promise(resolve => decoder.once('drain', resolve))
      }
      const producedWhenInputDone = produced
      decoder.end()
      await new Promise(resolve => decoder.once('end', resolve))
      expect(producedWhenInputDone).toBeGreaterThan(vector.content.length / 2)
      expect(produced).toBe(vector.content.length)
    })
  })
})

/** Lets the decoder run until its readable buffer stops growing, and returns its size. */
async function settledReadableLength(stream: Transform): Promise<number> {
  let last = -1
  let stableTurns = 0
  while (stableTurns < 50) {
    await nextTurn()
    await new Promise(resolve => setTimeout(resolve, 2))
    stableTurns = stream.readableLength === last ? stableTurns + 1 : 0
    last = stream.readableLength
  }
  return last
}
