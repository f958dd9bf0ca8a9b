/**
 * The action's two halves alone, bundled by the harness like dist/index.js and run as their
 * own processes:
 *
 *   node engine.js download URL FILE CONCURRENCY CHUNK_MB   the download engine into FILE
 *   node engine.js extract FILE DIR                          in-process zstd + the tar path, in a worker
 *
 * Prints one JSON line of what it did.
 */
import { open } from 'node:fs/promises'
import { materialize, serveMaterializeWorker } from '../src/archive/materialize.js'
import {
  isMaterializeWorker,
  MaterializeWorker,
  useWorkerEntry
} from '../src/archive/materialize-worker.js'
import { Download } from '../src/download/download.js'
import { HttpTransport } from '../src/download/http.js'
import { Spool } from '../src/download/spool.js'

const MIB = 1024 * 1024

async function download(url: string, file: string, concurrency: number, chunkMb: number) {
  const transport = new HttpTransport(undefined, concurrency + 2)
  const spool = await Spool.create(file)
  const controller = new AbortController()
  try {
    const started = performance.now()
    const job = await Download.start(url, spool, {
      transport,
      concurrency,
      chunkSize: chunkMb * MIB,
      stallTimeoutMs: 30_000,
      signal: controller.signal
    })
    await job.completion
    const { bytes, requests, retries, mode } = job.stats
    return { seconds: (performance.now() - started) / 1000, bytes, requests, retries, mode }
  } finally {
    await spool.close()
    transport.close()
  }
}

async function extract(file: string, directory: string) {
  const started = performance.now()
  const handle = await open(file)
  const spool = Spool.complete(file, handle, (await handle.stat()).size)
  try {
    // In a worker, as the action extracts.
    const result = await materialize({ source: spool, complete: Promise.resolve() }, directory, {
      controller: new AbortController(),
      worker: new MaterializeWorker()
    })
    return { seconds: (performance.now() - started) / 1000, entries: result.entries }
  } finally {
    await spool.close()
  }
}

async function main(args: string[]): Promise<unknown> {
  const [mode, ...rest] = args
  if (mode === 'download' && rest.length === 4) {
    return download(rest[0], rest[1], Number(rest[2]), Number(rest[3]))
  }
  if (mode === 'extract' && rest.length === 2) return extract(rest[0], rest[1])
  throw new Error('usage: engine.js download URL FILE CONCURRENCY CHUNK_MB | extract FILE DIR')
}

// The extraction's worker runs this bundle too, as it runs the action's (src/index.ts).
if (isMaterializeWorker()) {
  serveMaterializeWorker()
} else {
  useWorkerEntry(new URL(import.meta.url))
  main(process.argv.slice(2)).then(
    result => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
      process.exitCode = 1
    }
  )
}
