import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { type FrontierState, SharedFrontier } from '../src/download/shared-frontier.js'
import { Spool } from '../src/download/spool.js'

let dir: string
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spool-'))
})
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

/** Reads the spool to its end in order, as the decoder does, noting each read's size. */
async function collect(
  spool: Spool,
  blockSize: number,
  seen: number[],
  signal?: AbortSignal
): Promise<Buffer> {
  const parts: Buffer[] = []
  let position = 0
  for (;;) {
    const block = Buffer.alloc(blockSize)
    const n = await spool.read(block, 0, block.length, position, signal)
    if (n === 0) return Buffer.concat(parts)
    parts.push(block.subarray(0, n))
    seen.push(n)
    position += n
  }
}

describe('Spool', () => {
  it('reads in order while segments are written out of order, never past the frontier', async () => {
    const data = randomBytes(40_000)
    const spool = await Spool.create(path.join(dir, 'f'))
    const bounds = [0, 10_000, 20_000, 30_000, 40_000]
    spool.setSegments(bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1] })))
    const sizes: number[] = []
    const reading = collect(spool, 64 * 1024, sizes)

    await spool.write(2, data.subarray(20_000, 30_000), 20_000)
    await spool.write(3, data.subarray(30_000, 40_000), 30_000)
    expect(spool.frontier).toBe(0)
    await spool.write(0, data.subarray(0, 5_000), 0)
    expect(spool.frontier).toBe(5_000)
    await new Promise(resolve => setTimeout(resolve, 20))
    await spool.write(0, data.subarray(5_000, 10_000), 5_000)
    await spool.write(1, data.subarray(10_000, 20_000), 10_000)
    expect(spool.frontier).toBe(40_000)
    spool.finish(40_000)

    expect((await reading).equals(data)).toBe(true)
    // The first read happened before the rest was there: the reader followed the frontier.
    expect(sizes[0]).toBe(5_000)
    await spool.close()
  })

  it('ends a stream of unknown size where finish says', async () => {
    const spool = await Spool.create(path.join(dir, 'g'))
    spool.setSegments([{ start: 0, end: Infinity }])
    const reading = collect(spool, 1024, [])
    await spool.write(0, Buffer.from('hello '), 0)
    await spool.write(0, Buffer.from('world'), 6)
    spool.finish(11)
    expect((await reading).toString()).toBe('hello world')
    await spool.close()
  })

  it('hands the download failure to the reader', async () => {
    const spool = await Spool.create(path.join(dir, 'h'))
    spool.setSegments([{ start: 0, end: 100 }])
    const reading = collect(spool, 1024, [])
    await spool.write(0, Buffer.alloc(10), 0)
    spool.fail(new Error('boom'))
    await expect(reading).rejects.toThrow('boom')
    await spool.close()
  })

  it('reads into the given buffer at an offset, and stops waiting when the signal aborts', async () => {
    const spool = await Spool.create(path.join(dir, 'i'))
    spool.setSegments([{ start: 0, end: 100 }])
    await spool.write(0, Buffer.from('abcdef'), 0)
    const buffer = Buffer.alloc(10, '.')
    expect(await spool.read(buffer, 2, 3, 1)).toBe(3)
    expect(buffer.toString()).toBe('..bcd.....')
    const controller = new AbortController()
    const waiting = spool.read(buffer, 0, 10, 6, controller.signal)
    const reason = new Error('cancelled')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    await expect(spool.read(buffer, 0, 10, 0, controller.signal)).rejects.toBe(reason)
    await spool.close()
  })
})

describe('Spool shared with another thread (SharedFrontier)', () => {
  // A reader over the same SharedArrayBuffer, as the extraction's worker has one; waiting and
  // waking go through Atomics just as they do across threads.
  it('wakes a waiting reader as the frontier passes it, and tells the end', async () => {
    const spool = await Spool.create(path.join(dir, 's'))
    spool.setSegments([
      { start: 0, end: 100 },
      { start: 100, end: 200 }
    ])
    const reader = new SharedFrontier(spool.shareFrontier())
    expect(reader.read()).toEqual({ frontier: 0, finalSize: undefined, failed: false })
    let woken: FrontierState | undefined
    const waiting = reader.waitBeyond(99).then(state => (woken = state))
    await spool.write(1, Buffer.alloc(100), 100)
    await spool.write(0, Buffer.alloc(50), 0)
    await new Promise(resolve => setTimeout(resolve, 20))
    // Neither write moved the frontier past 99: the reader still waits.
    expect(woken).toBeUndefined()
    await spool.write(0, Buffer.alloc(50), 50)
    expect(await waiting).toEqual({ frontier: 200, finalSize: undefined, failed: false })
    spool.finish(200)
    expect(await reader.waitBeyond(200)).toEqual({ frontier: 200, finalSize: 200, failed: false })
    await spool.close()
  })

  it('wakes the reader when the download fails, and stops waiting when its signal aborts', async () => {
    const spool = await Spool.create(path.join(dir, 't'))
    spool.setSegments([{ start: 0, end: 100 }])
    const reader = new SharedFrontier(spool.shareFrontier())
    const failed = reader.waitBeyond(0)
    spool.fail(new Error('boom'))
    expect((await failed).failed).toBe(true)

    const other = await Spool.create(path.join(dir, 'u'))
    other.setSegments([{ start: 0, end: 100 }])
    const controller = new AbortController()
    const aborted = new SharedFrontier(other.shareFrontier()).waitBeyond(0, controller.signal)
    controller.abort(new Error('stop'))
    await expect(aborted).rejects.toThrow('stop')
    await spool.close()
    await other.close()
  })

  it('gives a whole file its size at once', async () => {
    const file = path.join(dir, 'whole')
    await fs.writeFile(file, Buffer.alloc(300))
    const spool = Spool.complete(file, await fs.open(file), 300)
    expect(new SharedFrontier(spool.shareFrontier()).read()).toEqual({
      frontier: 300,
      finalSize: 300,
      failed: false
    })
    await spool.close()
  })
})
