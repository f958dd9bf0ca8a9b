/**
 * Keeps the restore's memory near its working set. A download streams hundreds of MiB
 * through short-lived Buffers: the network's chunks, which Node allocates (the spool reads
 * and the zstd decoder reuse their own buffers, so only the download's writes count). Their memory
 * lives outside V8's heap and is freed only when V8 collects their small wrappers, which it
 * does after ~64 MiB of such garbage has piled up; with the allocator's slack that put a
 * 256 MiB restore at ~165 MiB peak RSS. Collecting the young generation (a scavenge of
 * about a millisecond with this heap) every few MiB that pass through frees them promptly:
 * reading 256 MiB in 1 MiB blocks peaked at 123 MiB RSS without it and 62 to 69 MiB with it.
 * Still so with the in-process extractor: babel/babel's snapshot at 32 x 16 MiB peaked at 149
 * MB RSS with 32-35k minor faults with it, 186-190 MB with 49-66k faults without it.
 * Garbage collection is process-wide, so this is one counter for the process.
 */
import * as v8 from 'node:v8'
import * as vm from 'node:vm'

type Collect = (options: { type: 'minor' | 'major' }) => void

const COLLECT_EVERY_BYTES = 4 * 1024 * 1024
let collect: Collect | undefined | null = null
let sinceCollection = 0

function exposeCollector(): Collect | undefined {
  try {
    v8.setFlagsFromString('--expose-gc')
    const found = vm.runInNewContext('gc') as unknown
    return typeof found === 'function' ? (found as Collect) : undefined
  } catch {
    return undefined
  }
}

/** Call with the size of every large Buffer the restore is done with (or about to drop). */
export function noteTransientBytes(bytes: number): void {
  sinceCollection += bytes
  if (sinceCollection < COLLECT_EVERY_BYTES) return
  sinceCollection = 0
  if (collect === null) collect = exposeCollector()
  collect?.({ type: 'minor' })
}
