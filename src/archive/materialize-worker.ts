/**
 * The extraction in a thread of its own, so that it overlaps the download instead of taking
 * turns with it on the main thread: the main thread receives the HTTP bodies and writes the
 * spool; the worker reads the spool as it fills (SharedFrontier), decodes and extracts. On
 * babel's snapshot on 2 cores, the download and the extraction on one thread took their sum
 * (pinned to one core it was about as fast, bench/results.md).
 *
 * The worker runs the same bundle as the action (ncc makes one file; a worker needs a file
 * to start from), so each entry point registers itself with useWorkerEntry() and dispatches
 * on isMainThread. Without a registered entry (jest runs the sources) the extraction runs on
 * the calling thread, which is the same code.
 */
import * as fs from 'node:fs'
import {
  isMainThread,
  parentPort,
  type Transferable,
  Worker,
  workerData
} from 'node:worker_threads'
import { SharedFrontier } from '../download/shared-frontier.js'
import type { Spool } from '../download/spool.js'
import { ArchiveError, ExpectedError, UnsafeEntryError } from '../errors.js'
import type { ExtractResult } from './extract.js'
import type { SparseCheckout } from './sparse-set.js'
import type { ZstdSource } from './zstd.js'

const ROLE = 'cachew-restore:materialize'
/**
 * The worker's young generation. Its garbage is the per-entry bookkeeping, short-lived; a
 * small young generation keeps reusing the same pages. On babel's snapshot at concurrency 32
 * (4 runs each): 7.6k-8.0k minor faults in the worker and 137-143 MB peak RSS at 4 MB,
 * against 11.8k-11.9k and 151-158 MB at V8's default, with the same wall and CPU time.
 */
const YOUNG_GENERATION_MB = 4

/** What materialize() hands the worker; everything in it can be posted. */
export interface WorkerJob {
  /**
   * The spool's open file (descriptors are the process's): the worker reads the very file the
   * spool has open, even if a runner-cache entry is replaced meanwhile. The spool closes it,
   * only after the worker has reported back.
   */
  fd: number
  frontier: SharedArrayBuffer
  directory: string
  sparse?: SparseCheckout
  debug: boolean
}

type ToWorker = { kind: 'start'; job: WorkerJob } | { kind: 'abort' }

type FromWorker =
  | { kind: 'skip'; entry: string; reason: string }
  | { kind: 'debug'; message: string }
  | { kind: 'done'; result: ExtractResult }
  | { kind: 'failed'; error: PostedError }

/** The bundle file this process started from, when it can serve as a worker's entry. */
let entry: URL | undefined

/** Called by an entry point (src/index.ts): workers may be started from `url`. */
export function useWorkerEntry(url: URL): void {
  entry = url
}

export function workerAvailable(): boolean {
  return entry !== undefined
}

/** True in a thread started by startWorker(): the entry point then calls serveWorker(). */
export function isMaterializeWorker(): boolean {
  return !isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE
}

export interface WorkerCallbacks {
  onSkip?: (entry: string, reason: string) => void
  debug?: (message: string) => void
}

/** A worker started ahead of its job, so that loading the bundle overlaps the download. */
export class MaterializeWorker {
  private readonly worker: Worker
  private readonly outcome: Promise<ExtractResult>
  private callbacks: WorkerCallbacks = {}
  private started = false

  constructor() {
    if (entry === undefined) throw new Error('internal: no worker entry registered')
    this.worker = new Worker(entry, {
      workerData: { role: ROLE },
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB }
    })
    this.outcome = new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromWorker) => {
        if (message.kind === 'skip') this.callbacks.onSkip?.(message.entry, message.reason)
        else if (message.kind === 'debug') this.callbacks.debug?.(message.message)
        else if (message.kind === 'done') resolve(message.result)
        else reject(revive(message.error))
      })
      this.worker.on('error', reject)
      this.worker.on('exit', code =>
        reject(new Error(`the extraction thread stopped (exit code ${code}) before it finished`))
      )
    })
    // Until run() is called nobody awaits the outcome; a failure then is reported by run().
    this.outcome.catch(() => undefined)
  }

  /**
   * Extracts the spool's snapshot into `directory` in the worker. `signal` stops it; the
   * promise settles only once the worker has let go of every file in `directory`.
   */
  async run(
    spool: Spool,
    job: Omit<WorkerJob, 'fd' | 'frontier'>,
    signal: AbortSignal,
    callbacks: WorkerCallbacks
  ): Promise<ExtractResult> {
    if (this.started) throw new Error('internal: a worker runs one job')
    this.started = true
    this.callbacks = callbacks
    const abort = (): void => this.post({ kind: 'abort' })
    signal.addEventListener('abort', abort, { once: true })
    try {
      this.post({
        kind: 'start',
        job: { ...job, fd: spool.fd, frontier: spool.shareFrontier() }
      })
      if (signal.aborted) abort()
      return await this.outcome
    } finally {
      signal.removeEventListener('abort', abort)
    }
  }

  /** Stops the thread; for a worker that was never given a job, or once its job is done. */
  async close(): Promise<void> {
    await this.worker.terminate()
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message)
  }
}

/**
 * The worker's side: waits for its job, runs it with `extract` (materialize's own path,
 * passed in so that this module does not import it) and reports back.
 */
export function serveWorker(
  extract: (
    source: ZstdSource,
    job: WorkerJob,
    controller: AbortController,
    callbacks: WorkerCallbacks
  ) => Promise<ExtractResult>
): void {
  const port = parentPort
  if (port === null) throw new Error('internal: serveWorker outside a worker')
  const controller = new AbortController()
  const send = (message: FromWorker, transfer: Transferable[] = []): void =>
    port.postMessage(message, transfer)
  port.on('message', (message: ToWorker) => {
    if (message.kind === 'abort') {
      controller.abort(new Error('aborted by the main thread'))
      return
    }
    void serve(message.job)
  })
  const serve = async (job: WorkerJob): Promise<void> => {
    const started = performance.now()
    try {
      const reader = new SpoolReader(job.fd, new SharedFrontier(job.frontier))
      const result = await extract(reader, job, controller, {
        onSkip: (skipped, reason) => send({ kind: 'skip', entry: skipped, reason }),
        debug: job.debug ? text => send({ kind: 'debug', message: text }) : undefined
      })
      if (job.debug) send({ kind: 'debug', message: threadUsage(started) })
      // The stat record moves rather than being copied: with it, the post took what it took
      // without (babel/babel: 4-8 ms here, 11-15 ms to receive on the main thread).
      send({ kind: 'done', result }, [result.fileStats.buffer])
    } catch (error) {
      send({ kind: 'failed', error: posted(error) })
    } finally {
      port.close()
    }
  }
}

/** What the extraction cost its thread, for the debug log. */
function threadUsage(started: number): string {
  const { user, system } = process.threadCpuUsage()
  const seconds = (microseconds: number): string => (microseconds / 1e6).toFixed(2)
  const wall = ((performance.now() - started) / 1000).toFixed(2)
  return (
    `Extraction thread: ${wall} s from its job's start; since its own start, CPU ` +
    `${seconds(user)} s user + ${seconds(system)} s system${threadFaults()}`
  )
}

/** The thread's minor page faults, where Linux tells them (the 10th field of its stat). */
function threadFaults(): string {
  try {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'latin1')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return `, ${fields[7]} minor page faults`
  } catch {
    return ''
  }
}

/**
 * Reads a spool that another thread fills, never past its frontier, with synchronous reads
 * (a worker has its thread to itself; a read of a MiB from the page cache takes well under
 * a millisecond, and leaves libuv's threadpool to the decoder).
 */
class SpoolReader implements ZstdSource {
  constructor(
    private readonly fd: number,
    private readonly frontier: SharedFrontier
  ) {}

  async read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    signal?: AbortSignal
  ): Promise<number> {
    const state = await this.frontier.waitBeyond(position, signal)
    // Why it failed is the main thread's to tell; this only stops the extraction.
    if (state.failed) throw new Error('the download failed')
    const available = state.frontier - position
    if (available > 0)
      return fs.readSync(this.fd, buffer, offset, Math.min(length, available), position)
    if (state.finalSize !== undefined && position >= state.finalSize) return 0
    throw new Error(`internal: spool ended at ${state.frontier} of ${state.finalSize} bytes`)
  }
}

/** An error as it crosses threads: its class by name, and the fields callers look at. */
interface PostedError {
  name: string
  message: string
  stack?: string
  entry?: string
  code?: string
  syscall?: string
  path?: string
}

const REVIVABLE: Record<string, { prototype: Error }> = {
  ExpectedError,
  ArchiveError,
  UnsafeEntryError
}

function posted(error: unknown): PostedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) }
  const { name, message, stack } = error
  const { entry, code, syscall, path } = error as Partial<Record<keyof PostedError, string>>
  return { name, message, stack, entry, code, syscall, path }
}

/** The error again, of the class it had where it was thrown when it is one of the expected. */
function revive(error: PostedError): Error {
  const revived = Object.create((REVIVABLE[error.name] ?? Error).prototype) as Error
  for (const [key, value] of Object.entries(error)) {
    if (value !== undefined)
      Object.defineProperty(revived, key, { value, writable: true, configurable: true })
  }
  return revived
}
