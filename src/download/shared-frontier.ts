/**
 * A spool's frontier, shared with another thread: the download writes the spool on the main
 * thread while the extraction reads it in a worker (src/archive/materialize-worker.ts). The
 * writer publishes after each write; the reader waits without blocking its event loop, which
 * keeps running the decoder's callbacks meanwhile.
 */

/** Int32 slots: a version bumped on every change (what a reader waits on), and the state. */
const VERSION = 0
const STATE = 1
/** BigInt64 slots, after the two Int32 ones: the frontier and the final size (-1: unknown). */
const FRONTIER = 1
const FINAL_SIZE = 2

const RUNNING = 0
const FAILED = 1

/** A reader's wait is cut short this often, so that an abort is seen even with no writes. */
const WAIT_SLICE_MS = 200

export interface FrontierState {
  /** The end of the contiguous prefix written. */
  frontier: number
  /** Set once the download is complete. */
  finalSize: number | undefined
  failed: boolean
}

export class SharedFrontier {
  private readonly flags: Int32Array
  private readonly sizes: BigInt64Array

  /** Over `buffer` as made by SharedFrontier.create(), in either thread. */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.flags = new Int32Array(buffer, 0, 2)
    this.sizes = new BigInt64Array(buffer, 0, 3)
  }

  static create(): SharedFrontier {
    const frontier = new SharedFrontier(new SharedArrayBuffer(3 * 8))
    Atomics.store(frontier.sizes, FINAL_SIZE, -1n)
    return frontier
  }

  /** The writer's side: what the spool now holds. */
  publish(state: FrontierState): void {
    Atomics.store(this.sizes, FRONTIER, BigInt(state.frontier))
    Atomics.store(this.sizes, FINAL_SIZE, BigInt(state.finalSize ?? -1))
    Atomics.store(this.flags, STATE, state.failed ? FAILED : RUNNING)
    Atomics.add(this.flags, VERSION, 1)
    Atomics.notify(this.flags, VERSION)
  }

  read(): FrontierState {
    const finalSize = Number(Atomics.load(this.sizes, FINAL_SIZE))
    return {
      frontier: Number(Atomics.load(this.sizes, FRONTIER)),
      finalSize: finalSize < 0 ? undefined : finalSize,
      failed: Atomics.load(this.flags, STATE) === FAILED
    }
  }

  /**
   * The reader's side: resolves with the state once the frontier has passed `position`, the
   * download is complete, or it failed. Rejects with `signal`'s reason once it aborts.
   */
  async waitBeyond(position: number, signal?: AbortSignal): Promise<FrontierState> {
    for (;;) {
      signal?.throwIfAborted()
      // The version is read first: a change after it wakes the wait below at once.
      const version = Atomics.load(this.flags, VERSION)
      const state = this.read()
      if (state.failed || state.frontier > position || state.finalSize !== undefined) return state
      const wait = Atomics.waitAsync(this.flags, VERSION, version, WAIT_SLICE_MS)
      if (wait.async) await wait.value
    }
  }
}
