/**
 * zstd test vectors made at test time by the real `zstd` and `pzstd` CLIs, plus an independent
 * little lister of a stream's structure (frames, blocks, checksums, skippable frames) that tests
 * use to aim truncations and corruptions at a chosen kind of byte.
 *
 *   const set = await buildZstdVectors()
 *   const v = set.vector('pzstd-multi') // { name, compressed, content, sha256 }
 *   await set.cleanup()
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

export interface ZstdVector {
  name: string
  compressed: Buffer
  /** What the vector decompresses to. */
  content: Buffer
  sha256: string
}

export interface ZstdVectorSet {
  vector(name: string): ZstdVector
  /** Every vector, for tests that run them all. */
  all: ZstdVector[]
  cleanup(): Promise<void>
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Deterministic bytes that compress like source code (~3:1): words from a small vocabulary,
 * with a run of random hex every few dozen words.
 */
export function mildlyCompressible(size: number, seed: number): Buffer {
  let state = seed >>> 0 || 1
  const next = (): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
  const letters = 'abcdefghijklmnopqrstuvwxyz_'
  const words = Array.from({ length: 2000 }, () => {
    const length = 2 + Math.floor(next() * 9)
    let word = ''
    for (let i = 0; i < length; i++) word += letters[Math.floor(next() * letters.length)]
    return Buffer.from(word)
  })
  const out = Buffer.alloc(size)
  let at = 0
  let count = 0
  while (at < size) {
    count += 1
    if (count % 40 === 0) {
      for (let i = 0; i < 24 && at < size; i++)
        out[at++] = '0123456789abcdef'.charCodeAt(next() * 16)
    } else {
      at += words[Math.floor(next() * words.length)].copy(out, at)
    }
    if (at < size) out[at++] = count % 12 === 0 ? 0x0a : 0x20
  }
  return out
}

function randomBytes(size: number, seed: number): Buffer {
  let state = seed >>> 0 || 1
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i += 4) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out.writeUInt32LE(state >>> 0, i)
  }
  return out
}

/** A skippable frame: magic 0x184D2A50 + `variant` (0..15), then a payload. */
export function skippableFrame(variant: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt32LE(0x184d2a50 + variant, 0)
  header.writeUInt32LE(payload.length, 4)
  return Buffer.concat([header, payload])
}

function run(command: string, args: string[], input?: Buffer): Buffer {
  return execFileSync(command, args, { input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] })
}

export async function buildZstdVectors(): Promise<ZstdVectorSet> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'zstd-vectors-'))
  const vectors = new Map<string, ZstdVector>()
  const add = (name: string, compressed: Buffer, content: Buffer): void => {
    vectors.set(name, { name, compressed, content, sha256: sha256(content) })
  }
  /** Compress from a file, so the frame header carries the content size. */
  const fromFile = async (content: Buffer, command: string, args: string[]): Promise<Buffer> => {
    const file = path.join(dir, `input-${vectors.size}-${args.join('')}`)
    await fsp.writeFile(file, content)
    return run(command, [...args, '-c', file])
  }
  /** Compress from stdin, as a server does: no content size in the header. */
  const fromStdin = (content: Buffer, command: string, args: string[]): Buffer =>
    run(command, [...args, '-c'], content)

  // pzstd at level 1 cuts a frame every ~2 MB: 20 MB gives ten skippable+zstd frame pairs.
  const big = mildlyCompressible(20_000_000, 1)
  add('pzstd-multi', await fromFile(big, 'pzstd', ['-q', '-1', '-p', '4']), big)

  // Three pzstd outputs back to back: what a server streams, small enough to feed byte by byte.
  const pieces = [1, 2, 3].map(seed => mildlyCompressible(9_000 + seed * 1_000, seed + 10))
  add(
    'pzstd-small',
    Buffer.concat(pieces.map(piece => fromStdin(piece, 'pzstd', ['-q', '-p', '2']))),
    Buffer.concat(pieces)
  )

  const medium = mildlyCompressible(2_500_000, 2)
  add('zstd-T0-file', await fromFile(medium, 'zstd', ['-q', '-T0']), medium)
  add('zstd-stdin', fromStdin(medium, 'zstd', ['-q', '-T0']), medium)
  add('zstd-no-check', await fromFile(medium, 'zstd', ['-q', '--no-check']), medium)
  add('zstd-no-check-no-size', fromStdin(medium, 'zstd', ['-q', '--no-check']), medium)

  const small = mildlyCompressible(30_000, 3)
  const smallTail = mildlyCompressible(5_000, 4)
  add(
    'concatenated',
    Buffer.concat([
      await fromFile(small, 'zstd', ['-q']),
      fromStdin(smallTail, 'zstd', ['-q', '--no-check']),
      fromStdin(small, 'pzstd', ['-q', '-p', '2'])
    ]),
    Buffer.concat([small, smallTail, small])
  )

  add(
    'skippable-anywhere',
    Buffer.concat([
      skippableFrame(0xf, Buffer.alloc(0)),
      fromStdin(small, 'zstd', ['-q']),
      skippableFrame(0x3, Buffer.from([0x28])),
      skippableFrame(0x0, randomBytes(300, 5)),
      await fromFile(smallTail, 'zstd', ['-q']),
      skippableFrame(0xa, Buffer.from('trail'))
    ]),
    Buffer.concat([small, smallTail])
  )

  // A 3 MB random block seen twice: the second copy is one long match, 3 MB back. From stdin,
  // --long=31 declares a 2 GiB window, which zlib refuses unless told otherwise.
  const noise = randomBytes(3_000_000, 6)
  const repeated = Buffer.concat([noise, noise])
  add('long31', fromStdin(repeated, 'zstd', ['-q', '--long=31']), repeated)
  add('long27-file', await fromFile(repeated, 'zstd', ['-q', '--long=27']), repeated)
  // From stdin --long=N declares a 2^N window whatever the content: 32 MiB is the JS backend's
  // limit (it must decode this one), 128 MiB is past it.
  add('long25-stdin', fromStdin(repeated, 'zstd', ['-q', '--long=25']), repeated)
  add('long27-stdin', fromStdin(small, 'zstd', ['-q', '--long=27']), small)

  const zeros = Buffer.alloc(8_000_000)
  add('zeros-rle', fromStdin(zeros, 'zstd', ['-q']), zeros)
  const incompressible = randomBytes(400_000, 7)
  add('incompressible-raw', fromStdin(incompressible, 'zstd', ['-q']), incompressible)
  add('empty-content', fromStdin(Buffer.alloc(0), 'zstd', ['-q']), Buffer.alloc(0))

  // Every structure in a few hundred bytes, for cutting at each offset: a pzstd pair with a
  // checksum, a skippable frame, a raw-block frame without checksum, an RLE frame with content size.
  const tinyText = mildlyCompressible(250, 8)
  const tinyNoise = randomBytes(64, 9)
  const tinyZeros = Buffer.alloc(140_000)
  add(
    'tiny-mixed',
    Buffer.concat([
      fromStdin(tinyText, 'pzstd', ['-q', '-p', '1']),
      skippableFrame(0x7, Buffer.from('skip me')),
      fromStdin(tinyNoise, 'zstd', ['-q', '--no-check']),
      await fromFile(tinyZeros, 'zstd', ['-q'])
    ]),
    Buffer.concat([tinyText, tinyNoise, tinyZeros])
  )

  return {
    vector(name: string): ZstdVector {
      const found = vectors.get(name)
      if (found === undefined) throw new Error(`no zstd vector '${name}'`)
      return found
    },
    all: [...vectors.values()],
    cleanup: () => fsp.rm(dir, { recursive: true, force: true })
  }
}

export interface BlockLayout {
  headerStart: number
  type: 'raw' | 'rle' | 'compressed' | 'reserved'
  bodyStart: number
  bodyEnd: number
}

export type StreamUnit =
  | { kind: 'skippable'; start: number; end: number }
  | {
      kind: 'frame'
      start: number
      /** First byte after the frame header. */
      headerEnd: number
      /** Where the content size field sits and how wide it is, if present. */
      contentSizeField: { at: number; width: number } | undefined
      blocks: BlockLayout[]
      checksumStart: number | undefined
      end: number
    }

const BLOCK_TYPES = ['raw', 'rle', 'compressed', 'reserved'] as const

/** The units of a well-formed stream, in order (written apart from the decoder, as an oracle). */
export function layoutOf(stream: Buffer): StreamUnit[] {
  const units: StreamUnit[] = []
  let at = 0
  while (at < stream.length) {
    const magic = stream.readUInt32LE(at)
    if (magic >>> 4 === 0x184d2a5) {
      const end = at + 8 + stream.readUInt32LE(at + 4)
      units.push({ kind: 'skippable', start: at, end })
      at = end
      continue
    }
    if (magic !== 0xfd2fb528) throw new Error(`layoutOf: no magic at ${at}`)
    const descriptor = stream[at + 4]
    const singleSegment = (descriptor >> 5) & 1
    const sizeWidth = [singleSegment, 2, 4, 8][descriptor >> 6]
    const dictionaryWidth = [0, 1, 2, 4][descriptor & 3]
    const sizeAt = at + 5 + (1 - singleSegment) + dictionaryWidth
    const headerEnd = sizeAt + sizeWidth
    const blocks: BlockLayout[] = []
    let cursor = headerEnd
    for (;;) {
      const word = stream.readUIntLE(cursor, 3)
      const type = BLOCK_TYPES[(word >> 1) & 3]
      const bodyEnd = cursor + 3 + (type === 'rle' ? 1 : word >>> 3)
      blocks.push({ headerStart: cursor, type, bodyStart: cursor + 3, bodyEnd })
      cursor = bodyEnd
      if (word & 1) break
    }
    const checksumStart = descriptor & 4 ? cursor : undefined
    const end = cursor + (checksumStart === undefined ? 0 : 4)
    units.push({
      kind: 'frame',
      start: at,
      headerEnd,
      contentSizeField: sizeWidth > 0 ? { at: sizeAt, width: sizeWidth } : undefined,
      blocks,
      checksumStart,
      end
    })
    at = end
  }
  return units
}
