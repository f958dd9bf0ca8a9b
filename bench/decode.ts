/**
 * Times zstd decoding of one file: `zstd -dc > /dev/null`, then each in-process backend through
 * createZstdDecoder (fed from memory) into a sink that drops the bytes. Prints decompressed MB/s
 * (best of N runs).
 *
 *   npx tsx bench/decode.ts FILE.zst [--runs N] [--backend node-zlib|js] [--chunk BYTES]
 *
 * --chunk sets the size of the input reads (default 64 KiB, what fs and http streams deliver).
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { createZstdDecoder, type ZstdBackend } from '../src/archive/zstd.js'

/** Lets the CLI accept `--long=31` frames, as the in-process decoder does. */
const ZSTD_MEMORY = '--memory=2048MB'

interface Run {
  seconds: number
  bytesOut: number
}

async function timeCli(file: string): Promise<Run> {
  const input = openSync(file, 'r')
  const started = process.hrtime.bigint()
  try {
    const bytesOut = await new Promise<number>((resolve, reject) => {
      const child = spawn('zstd', ['-dc', ZSTD_MEMORY], { stdio: [input, 'pipe', 'inherit'] })
      let count = 0
      if (child.stdout === null) throw new Error('zstd: no stdout pipe')
      child.stdout.on('data', (chunk: Buffer) => (count += chunk.length))
      child.on('error', reject)
      child.on('close', code =>
        code === 0 ? resolve(count) : reject(new Error(`zstd exit ${code}`))
      )
    })
    return { seconds: elapsed(started), bytesOut }
  } finally {
    closeSync(input)
  }
}

/** `zstd -dc > /dev/null`: the CLI alone, without a pipe to read. */
async function timeCliToDevNull(file: string): Promise<Run> {
  const started = process.hrtime.bigint()
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', `zstd -dc ${ZSTD_MEMORY} "$1" > /dev/null`, 'sh', file], {
      stdio: 'inherit'
    })
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`zstd exit ${code}`))))
  })
  return { seconds: elapsed(started), bytesOut: NaN }
}

function* slices(input: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < input.length; at += size) yield input.subarray(at, at + size)
}

/** The input comes from memory, so only decoding is timed, not the file system. */
async function timeBackend(input: Buffer, backend: ZstdBackend, chunkSize: number): Promise<Run> {
  let bytesOut = 0
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytesOut += chunk.length
      callback()
    }
  })
  const started = process.hrtime.bigint()
  await pipeline(
    Readable.from(slices(input, chunkSize), { objectMode: false }),
    createZstdDecoder({ backend }),
    sink
  )
  return { seconds: elapsed(started), bytesOut }
}

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9
}

async function best(runs: number, once: () => Promise<Run>): Promise<Run> {
  let fastest: Run | undefined
  for (let i = 0; i < runs; i++) {
    const run = await once()
    if (fastest === undefined || run.seconds < fastest.seconds) fastest = run
  }
  return fastest as Run
}

function report(label: string, run: Run, bytesOut: number): void {
  const mbPerSecond = bytesOut / 1e6 / run.seconds
  console.log(
    `${label.padEnd(26)} ${run.seconds.toFixed(3).padStart(8)} s  ${mbPerSecond.toFixed(0).padStart(6)} MB/s`
  )
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '3' },
      backend: { type: 'string', multiple: true },
      chunk: { type: 'string', default: String(64 * 1024) }
    }
  })
  const file = positionals[0]
  if (!file) {
    throw new Error('usage: npx tsx bench/decode.ts FILE.zst [--runs N] [--backend B] [--chunk N]')
  }
  const runs = Number(values.runs)
  const chunkSize = Number(values.chunk)
  const backends = (values.backend ?? ['node-zlib', 'js']) as ZstdBackend[]
  const input = await readFile(file)
  const reference = await timeCli(file)
  const bytesOut = reference.bytesOut
  console.log(
    `${file}: ${(input.length / 1e6).toFixed(1)} MB compressed, ` +
      `${(bytesOut / 1e6).toFixed(1)} MB decompressed; input read in ${chunkSize}-byte ` +
      `chunks; best of ${runs}, MB/s of output`
  )
  report('zstd -dc > /dev/null', await best(runs, () => timeCliToDevNull(file)), bytesOut)
  report('zstd -dc | node (pipe)', await best(runs, () => timeCli(file)), bytesOut)
  for (const backend of backends) {
    let run: Run
    try {
      run = await best(runs, () => timeBackend(input, backend, chunkSize))
    } catch (error) {
      console.log(`createZstdDecoder ${backend}: ${(error as Error).message}`)
      continue
    }
    if (run.bytesOut !== bytesOut) {
      throw new Error(`${backend} produced ${run.bytesOut} bytes, zstd -dc ${bytesOut}`)
    }
    report(`createZstdDecoder ${backend}`, run, bytesOut)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
