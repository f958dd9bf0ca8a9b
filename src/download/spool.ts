/**
 * The download's temp file: written out of order by many requests, read in order by the
 * extractor. The frontier is the end of the contiguous prefix that has been written; a
 * reader never reads past it, so decoding overlaps the download without holding chunks
 * in memory.
 */
import { EventEmitter } from 'node:events'
import * as fsSync from 'node:fs'
import * as fs from 'node:fs/promises'
import { noteTransientBytes } from '../memory.js'
import { SharedFrontier } from './shared-frontier.js'

interface Segment {
  start: number
  end: number // exclusive; Infinity while the size is unknown
  highWater: number // bytes written at least once from start
}

export class Spool {
  private readonly segments: Segment[] = []
  private head = 0 // first segment not yet complete
  private readonly events = new EventEmitter()
  private finalSize: number | undefined
  private failure: Error | undefined
  /** Made when another thread reads the spool: it then follows every change. */
  private shared: SharedFrontier | undefined
  frontier = 0

  private constructor(
    readonly file: string,
    private readonly handle: fs.FileHandle
  ) {
    this.events.setMaxListeners(0)
  }

  static async create(file: string): Promise<Spool> {
    return new Spool(file, await fs.open(file, 'wx+', 0o600))
  }

  /** A spool over a file that is already whole: reads go to its end. */
  static complete(file: string, handle: fs.FileHandle, size: number): Spool {
    const spool = new Spool(file, handle)
    spool.frontier = size
    spool.finalSize = size
    return spool
  }

  /** Declares the byte ranges that will be written: [0, b1), [b1, b2), ..., in order. */
  setSegments(bounds: Array<{ start: number; end: number }>): void {
    for (const { start, end } of bounds) this.segments.push({ start, end, highWater: 0 })
  }

  /** Writes bytes at an absolute offset inside segment `index`. */
  async write(index: number, data: Buffer, offset: number): Promise<void> {
    let done = 0
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(
        data,
        done,
        data.length - done,
        offset + done
      )
      done += bytesWritten
    }
    noteTransientBytes(data.length)
    this.wrote(index, offset + data.length)
  }

  private wrote(index: number, end: number): void {
    const segment = this.segments[index]
    segment.highWater = Math.max(segment.highWater, end - segment.start)
    this.advance()
  }

  /**
   * write()'s synchronous twin, for a caller whose buffer is reused as soon as this returns
   * (a RangeLane): a page-cache write of one socket read, shorter than a thread-pool round trip.
   */
  writeSync(index: number, data: Buffer, offset: number): void {
    for (let done = 0; done < data.length;) {
      done += fsSync.writeSync(this.handle.fd, data, done, data.length - done, offset + done)
    }
    this.wrote(index, offset + data.length)
  }

  /** The download is complete at this size (for streams whose size was unknown). */
  finish(size: number): void {
    this.finalSize = size
    this.changed()
  }

  /** Wakes the reader with the download's error. */
  fail(error: Error): void {
    this.failure ??= error
    this.changed()
  }

  /** The open file's descriptor, for a reader in another thread of this process. */
  get fd(): number {
    return this.handle.fd
  }

  /**
   * The spool's progress for a reader in another thread (SharedFrontier over the buffer),
   * which reads the file through fd. It learns that the download failed, not why: the error
   * stays here, with whoever awaits the download.
   */
  shareFrontier(): SharedArrayBuffer {
    this.shared ??= SharedFrontier.create()
    this.publish()
    return this.shared.buffer
  }

  private publish(): void {
    this.shared?.publish({
      frontier: this.frontier,
      finalSize: this.finalSize,
      failed: this.failure !== undefined
    })
  }

  private changed(): void {
    this.publish()
    this.events.emit('change')
  }

  private advance(): void {
    while (this.head < this.segments.length) {
      const segment = this.segments[this.head]
      this.frontier = segment.start + segment.highWater
      if (segment.start + segment.highWater < segment.end) break
      this.head++
    }
    this.changed()
  }

  /** Resolves once the frontier passes `position`, the download ends, or it fails. */
  private waitBeyond(position: number, signal?: AbortSignal): Promise<void> {
    if (this.frontier > position || this.finalSize !== undefined || this.failure)
      return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onChange = (): void => {
        if (this.frontier > position || this.finalSize !== undefined || this.failure) done(resolve)
      }
      const onAbort = (): void => done(() => reject(signal?.reason))
      const done = (settle: () => void): void => {
        this.events.off('change', onChange)
        signal?.removeEventListener('abort', onAbort)
        settle()
      }
      this.events.on('change', onChange)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /**
   * Reads up to `length` bytes at `position` into `buffer` at `offset`, waiting until the
   * frontier has passed `position`; resolves 0 at the end of the download. Rejects with the
   * download's error, or with `signal`'s reason once it aborts. Serves as a ZstdSource.
   */
  async read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    signal?: AbortSignal
  ): Promise<number> {
    for (;;) {
      signal?.throwIfAborted()
      await this.waitBeyond(position, signal)
      if (this.failure) throw this.failure
      const available = this.frontier - position
      if (available > 0) {
        const { bytesRead } = await this.handle.read(
          buffer,
          offset,
          Math.min(length, available),
          position
        )
        return bytesRead
      }
      if (this.finalSize === undefined) continue
      if (position >= this.finalSize) return 0
      throw new Error(`internal: spool ended at ${this.frontier} of ${this.finalSize} bytes`)
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined)
  }
}
