import * as zlib from 'node:zlib'

/**
 * The two ways Node's zlib can decode zstd off the main thread (its async work runs on
 * libuv's threadpool), behind one call: decode some input into a given piece of output
 * memory. The frame walker has already found each frame's bounds, so an engine only ever
 * sees the bytes of one frame at a time, in order, and may go on to the next frame after it.
 *
 * - 'zlib-handle': the native handle under zlib's streams (`stream._handle`), driven
 *   directly. Its `write(flush, in, inOffset, inLength, out, outOffset, outLength)` makes
 *   one ZSTD_decompressStream call on the threadpool with `out` as the output buffer, so
 *   the decoded bytes land in memory the caller owns and reuses. Not a documented API: it is
 *   probed once at startup, and anything amiss falls back to the public streams.
 * - 'zlib-stream': the public `zlib.createZstdDecompress` stream. It allocates a fresh output
 *   chunk per `chunkSize` of output, which are copied out into the caller's memory.
 *
 * The rest of the public API has no way either to put output in a given buffer:
 * `zlib.zstdDecompress` decodes a whole frame on the threadpool but into fresh chunks it then
 * concatenates (two allocations of the frame's size), and `info` and `maxOutputLength` only
 * report on or cap what a call returns.
 *
 * Measured on babel's 223 MiB pzstd snapshot (332 MB of tar, 40 frames), one frame at a time
 * into a sink that drops the bytes, the decode alone, medians of three (bench/decode.ts): the
 * handle took 0.21 s, 0.21 s of CPU and 2.7k minor faults, about what `zstd -dc > /dev/null`
 * takes (0.20 s, 0.19 s); the stream engine 0.44 s, 0.42 s and 30k faults, most of the
 * difference being the fresh chunks' first-touch faults.
 */

export type ZstdEngineKind = 'zlib-handle' | 'zlib-stream'

export interface DecodeStep {
  /** Input bytes the decoder took (it keeps what it needs of them). */
  consumed: number
  /** Output bytes written from `outputOffset` on. */
  produced: number
}

export interface FrameEngine {
  /**
   * Decodes from `input[inputOffset, +inputLength)` into `output[outputOffset, +outputLength)`.
   * Neither range may be touched until the promise settles. Output that did not fit comes on
   * the next call, which may then pass no input. Rejects with zlib's error for damaged data.
   */
  decode(
    input: Buffer,
    inputOffset: number,
    inputLength: number,
    output: Buffer,
    outputOffset: number,
    outputLength: number
  ): Promise<DecodeStep>
  close(): void
}

export interface EngineChoice {
  kind: ZstdEngineKind
  create(): FrameEngine
  /** Why this engine, for the debug log. */
  reason: string
}

/** `zstd --long=31` frames declare a 2 GiB window, which libzstd refuses by default. */
const WINDOW_LOG_MAX = 31
/** The stream engine's output chunk: 256 KiB to 4 MiB measured alike, 16 KiB doubles the time. */
const STREAM_CHUNK_SIZE = 256 * 1024

const EMPTY = Buffer.alloc(0)

/** The native handle's interface, as lib/zlib.js uses it. */
interface NativeZstdHandle {
  init(params: Uint32Array, pledgedSize: undefined, writeState: Uint32Array, done: () => void): void
  write(
    flush: number,
    input: Buffer,
    inputOffset: number,
    inputLength: number,
    output: Buffer,
    outputOffset: number,
    outputLength: number
  ): void
  close(): void
  onerror: (message: string, errno: number, code: string) => void
}

type NativeZstdHandleClass = new () => NativeZstdHandle

class HandleEngine implements FrameEngine {
  private readonly handle: NativeZstdHandle
  /** Filled by the handle after each write: [output bytes left, input bytes left]. */
  private readonly writeState = new Uint32Array(2)
  private pending:
    { inputLength: number; outputLength: number; resolve(step: DecodeStep): void } | undefined
  private reject: ((error: Error) => void) | undefined
  private closed = false

  constructor(Handle: NativeZstdHandleClass) {
    this.handle = new Handle()
    this.handle.onerror = (message, errno, code) => {
      const error = Object.assign(new Error(message), { errno, code })
      const reject = this.reject
      this.pending = undefined
      this.reject = undefined
      reject?.(error)
    }
    const params = new Uint32Array(zlib.constants.ZSTD_d_windowLogMax + 1).fill(0xffffffff)
    params[zlib.constants.ZSTD_d_windowLogMax] = WINDOW_LOG_MAX
    this.handle.init(params, undefined, this.writeState, () => this.written())
  }

  decode(
    input: Buffer,
    inputOffset: number,
    inputLength: number,
    output: Buffer,
    outputOffset: number,
    outputLength: number
  ): Promise<DecodeStep> {
    if (this.pending !== undefined) throw new Error('zstd engine: decode while one is running')
    return new Promise((resolve, reject) => {
      this.pending = { inputLength, outputLength, resolve }
      this.reject = reject
      this.handle.write(
        zlib.constants.Z_NO_FLUSH,
        input,
        inputOffset,
        inputLength,
        output,
        outputOffset,
        outputLength
      )
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    // The native side defers the close until a write in progress has finished.
    this.handle.close()
  }

  private written(): void {
    const pending = this.pending
    if (pending === undefined) return
    this.pending = undefined
    this.reject = undefined
    pending.resolve({
      consumed: pending.inputLength - this.writeState[1],
      produced: pending.outputLength - this.writeState[0]
    })
  }
}

class StreamEngine implements FrameEngine {
  private readonly stream: zlib.ZstdDecompress
  /** Decoded chunks not yet copied out, the first from `queuedOffset`. */
  private readonly queued: Buffer[] = []
  private queuedOffset = 0
  private failure: Error | undefined
  private onFailure: ((error: Error) => void) | undefined

  constructor() {
    this.stream = zlib.createZstdDecompress({
      chunkSize: STREAM_CHUNK_SIZE,
      params: { [zlib.constants.ZSTD_d_windowLogMax]: WINDOW_LOG_MAX }
    })
    this.stream.on('data', (chunk: Buffer) => this.queued.push(chunk))
    this.stream.on('error', error => {
      this.failure ??= error
      this.onFailure?.(error)
    })
  }

  async decode(
    input: Buffer,
    inputOffset: number,
    inputLength: number,
    output: Buffer,
    outputOffset: number,
    outputLength: number
  ): Promise<DecodeStep> {
    if (this.failure) throw this.failure
    let produced = this.copyOut(output, outputOffset, outputLength)
    if (produced === outputLength || inputLength === 0) return { consumed: 0, produced }
    // The write's callback comes after all of its output went out as 'data'.
    await new Promise<void>((resolve, reject) => {
      this.onFailure = reject
      this.stream.write(input.subarray(inputOffset, inputOffset + inputLength), error =>
        error ? reject(this.failure ?? error) : resolve()
      )
    })
    this.onFailure = undefined
    produced += this.copyOut(output, outputOffset + produced, outputLength - produced)
    return { consumed: inputLength, produced }
  }

  close(): void {
    this.stream.destroy()
  }

  private copyOut(output: Buffer, offset: number, length: number): number {
    let copied = 0
    while (copied < length && this.queued.length > 0) {
      const chunk = this.queued[0]
      const n = chunk.copy(output, offset + copied, this.queuedOffset)
      copied += n
      this.queuedOffset += n
      if (this.queuedOffset === chunk.length) {
        this.queued.shift()
        this.queuedOffset = 0
      }
    }
    return copied
  }
}

const STREAM_ENGINE: Omit<EngineChoice, 'reason'> = {
  kind: 'zlib-stream',
  create: () => new StreamEngine()
}

/** The native handle's class, from a throwaway stream; undefined when it is not there. */
export function nativeHandleClass(): unknown {
  const stream = zlib.createZstdDecompress()
  try {
    return (stream as unknown as { _handle?: object })._handle?.constructor
  } finally {
    stream.close()
  }
}

/** A handle that does not answer within this long is taken to be broken. */
const PROBE_TIMEOUT_MS = 5_000

/**
 * Decodes a small frame through a fresh handle, its output arriving in two pieces, and checks
 * the bytes: the handle's calling convention is an internal of Node's, so it has to prove
 * itself before a snapshot is trusted to it.
 */
async function probeHandle(Handle: NativeZstdHandleClass): Promise<void> {
  const content = Buffer.alloc(48 * 1024)
  for (let i = 0; i < content.length; i++) content[i] = (i * 7 + (i >> 9)) & 0xff
  const frame = zlib.zstdCompressSync(content, {
    params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 }
  })
  const engine = new HandleEngine(Handle)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer from a decode')), PROBE_TIMEOUT_MS)
  })
  try {
    const output = Buffer.alloc(content.length + 16)
    const half = content.length / 2
    const decode = (consumed: number, produced: number): Promise<DecodeStep> =>
      Promise.race([
        engine.decode(
          consumed < frame.length ? frame : EMPTY,
          consumed < frame.length ? consumed : 0,
          frame.length - consumed,
          output,
          produced,
          (produced === 0 ? half : output.length) - produced
        ),
        timeout
      ])
    let consumed = 0
    let produced = 0
    for (let calls = 0; calls < 4 && produced < content.length; calls++) {
      const step = await decode(consumed, produced)
      if (calls === 0 && step.produced !== half) {
        throw new Error(`the first decode gave ${step.produced} bytes into room for ${half}`)
      }
      consumed += step.consumed
      produced += step.produced
    }
    if (consumed !== frame.length || produced !== content.length) {
      throw new Error(
        `took ${consumed} of ${frame.length} bytes and gave ${produced} of ${content.length}`
      )
    }
    if (!output.subarray(0, produced).equals(content)) throw new Error('decoded wrong bytes')
  } finally {
    clearTimeout(timer)
    engine.close()
  }
}

/**
 * The native handle when `handleClass()` gives one that decodes a probe frame right, else
 * the public streams, with the reason.
 */
export async function selectZstdEngine(
  handleClass: () => unknown = nativeHandleClass
): Promise<EngineChoice> {
  let Handle: NativeZstdHandleClass
  try {
    const found = handleClass()
    const prototype = (found as { prototype?: Partial<Record<string, unknown>> } | undefined)
      ?.prototype
    if (!['init', 'write', 'close'].every(name => typeof prototype?.[name] === 'function')) {
      throw new Error('zlib streams have no native handle with init, write and close')
    }
    Handle = found as NativeZstdHandleClass
    await probeHandle(Handle)
  } catch (error) {
    return {
      ...STREAM_ENGINE,
      reason:
        `zstd: decoding through zlib streams (fresh output chunks): zlib's native handle is ` +
        `not usable on Node.js ${process.versions.node}: ${(error as Error).message}`
    }
  }
  return {
    kind: 'zlib-handle',
    create: () => new HandleEngine(Handle),
    reason: `zstd: decoding on zlib's native handle into reused buffers`
  }
}

let chosen: Promise<EngineChoice> | undefined

/** The engine this Node.js supports best, probed once per process. */
export function chooseZstdEngine(): Promise<EngineChoice> {
  chosen ??= selectZstdEngine()
  return chosen
}

/** A named engine, for tests and measurements: 'zlib-handle' throws when it is not usable. */
export async function zstdEngine(kind: ZstdEngineKind): Promise<EngineChoice> {
  if (kind === 'zlib-stream') return { ...STREAM_ENGINE, reason: 'zstd: zlib streams, as asked' }
  const best = await chooseZstdEngine()
  if (best.kind !== 'zlib-handle') throw new Error(best.reason)
  return { ...best, reason: `${best.reason}, as asked` }
}
