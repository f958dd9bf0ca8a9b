/**
 * Times zstd decoding of one file: `zstd -dc FILE > /dev/null` against decodeZstd at each
 * parallelism, into a sink that drops the bytes and one that takes a CRC-32 of them (sha1,
 * the cost of hashing git blobs, on request), and decodeZstd on the public zlib stream engine. Contenders alternate, round after round, each in a process of its own; the table
 * shows medians of wall time, CPU seconds (user + sys, every thread), minor page faults and
 * peak RSS, for the whole process (GNU time, /usr/bin/time) and, for decodeZstd, for the
 * decode alone (process.resourceUsage() around it, so tsx's start-up is left out).
 *
 *   npx tsx bench/decode.ts FILE.zst [--rounds N] [--parallelism 1,2,3]
 *                           [--sinks discard,crc32,sha1] [--quick]
 *
 * --quick runs only the default parallelism.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as zlib from 'node:zlib'
import type { ByteSink } from '../src/archive/byte-sink.js'
import { decodeZstd, defaultZstdParallelism, fileSource } from '../src/archive/zstd.js'
import type { ZstdEngineKind } from '../src/archive/zstd-engines.js'

/** Lets the CLI accept `--long=31` frames, as the in-process decoder does. */
const ZSTD_MEMORY = '--memory=2048MB'

interface Sample {
  seconds: number
  cpuSeconds: number
  minorFaults: number
  maxRssMiB: number
  bytesOut: number
}

const SINKS = ['discard', 'crc32', 'sha1'] as const
type SinkKind = (typeof SINKS)[number]

/**
 * discard drops the bytes; crc32 is the cheap checksum (zlib's, native); sha1 keeps the main
 * thread about as busy as hashing git blobs does.
 */
function sinkOf(kind: SinkKind): ByteSink & { result(): string } {
  let crc = 0
  const sha1 = createHash('sha1')
  return {
    write(bytes) {
      if (kind === 'crc32') crc = zlib.crc32(bytes, crc)
      else if (kind === 'sha1') sha1.update(bytes)
    },
    end() {},
    result: () => (kind === 'crc32' ? crc.toString(16) : kind === 'sha1' ? sha1.digest('hex') : '')
  }
}

/** Child mode: one decode in this process, measured from the inside, as one JSON line. */
async function child(file: string, engine: ZstdEngineKind, parallelism: number, sink: SinkKind) {
  const handle = await open(file)
  try {
    const target = sinkOf(sink)
    const before = process.resourceUsage()
    const started = process.hrtime.bigint()
    const { decodedBytes } = await decodeZstd(fileSource(handle), target, { engine, parallelism })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const after = process.resourceUsage()
    const cpu = (u: NodeJS.ResourceUsage): number => (u.userCPUTime + u.systemCPUTime) / 1e6
    const sample: Sample = {
      seconds,
      cpuSeconds: cpu(after) - cpu(before),
      minorFaults: after.minorPageFault - before.minorPageFault,
      maxRssMiB: after.maxRSS / 1024,
      bytesOut: decodedBytes
    }
    console.log(JSON.stringify({ ...sample, checksum: target.result() }))
  } finally {
    await handle.close()
  }
}

function collect(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolve(stdout + stderr)
        : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`))
    )
  })
}

/** Runs a command under GNU time (`%e %U %S %R %M`: wall, user, sys, minor faults, RSS). */
async function timed(command: string[]): Promise<{ process: Sample; output: string }> {
  const output = await collect('/usr/bin/time', ['-f', 'TIME %e %U %S %R %M', ...command])
  const line = output.split('\n').find(l => l.startsWith('TIME ')) ?? ''
  const [wall, user, sys, faults, rssKiB] = line.split(' ').slice(1).map(Number)
  const process: Sample = {
    seconds: wall,
    cpuSeconds: user + sys,
    minorFaults: faults,
    maxRssMiB: rssKiB / 1024,
    bytesOut: NaN
  }
  return { process, output }
}

interface Measured {
  /** The whole process, as GNU time saw it. */
  process: Sample
  /** The decode alone, from inside the process (undefined for the CLI). */
  decode?: Sample & { checksum: string; sink: SinkKind }
}

interface Contender {
  label: string
  run(file: string): Promise<Measured>
}

function inProcess(engine: ZstdEngineKind, parallelism: number, sink: SinkKind): Contender {
  const script = fileURLToPath(import.meta.url)
  return {
    label: `decodeZstd ${engine} p${parallelism}, ${sink} sink`,
    async run(file) {
      const args = [...process.execArgv, script, '--child', engine, String(parallelism), sink, file]
      const { process: whole, output } = await timed([process.execPath, ...args])
      const line = output.split('\n').find(l => l.startsWith('{')) ?? ''
      const decode = JSON.parse(line) as Sample & { checksum: string }
      return { process: whole, decode: { ...decode, sink } }
    }
  }
}

const cli: Contender = {
  label: 'zstd -dc > /dev/null',
  async run(file) {
    const script = `zstd -dc ${ZSTD_MEMORY} "$1" > /dev/null`
    return { process: (await timed(['sh', '-c', script, 'sh', file])).process }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '3' },
      parallelism: { type: 'string', default: '1,2,3' },
      sinks: { type: 'string', default: 'discard,crc32' },
      quick: { type: 'boolean', default: false },
      child: { type: 'boolean', default: false }
    }
  })
  if (values.child) {
    const [engine, parallelism, sink, file] = positionals
    return child(file, engine as ZstdEngineKind, Number(parallelism), sink as SinkKind)
  }
  const file = positionals[0]
  if (!file) {
    throw new Error('usage: npx tsx bench/decode.ts FILE.zst [--rounds N] [--parallelism 1,2,3]')
  }
  const levels = values.quick
    ? [defaultZstdParallelism()]
    : values.parallelism.split(',').map(Number)
  const contenders: Contender[] = [cli]
  const sinks = values.sinks.split(',') as SinkKind[]
  for (const sink of sinks) {
    if (!SINKS.includes(sink)) throw new Error(`--sinks: ${sink} is not one of ${SINKS.join(', ')}`)
  }
  for (const p of levels) {
    for (const sink of sinks) contenders.push(inProcess('zlib-handle', p, sink))
  }
  contenders.push(inProcess('zlib-stream', Math.max(...levels), 'discard'))
  const samples = new Map<Contender, Measured[]>(contenders.map(c => [c, []]))
  const rounds = Number(values.rounds)
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) samples.get(contender)?.push(await contender.run(file))
  }
  const decodes = [...samples.values()].flat().flatMap(m => (m.decode ? [m.decode] : []))
  const lengths = new Set(decodes.map(d => d.bytesOut))
  if (lengths.size !== 1) throw new Error(`contenders decoded different lengths: ${[...lengths]}`)
  for (const sink of sinks) {
    const checksums = new Set(decodes.filter(d => d.sink === sink).map(d => d.checksum))
    if (checksums.size > 1) throw new Error(`${sink} checksums disagree: ${[...checksums]}`)
  }
  console.log(
    `${file}: ${[...lengths][0] / 1e6} MB decoded; medians of ${rounds} alternating rounds; ` +
      `default parallelism here ${defaultZstdParallelism()}. "process": the whole process ` +
      `(GNU time, module loading included); "decode": decodeZstd alone, from inside.`
  )
  const columns = (label: string): string =>
    `${label} wall s`.padStart(16) + `CPU s`.padStart(7) + `faults`.padStart(8)
  console.log(
    `${'contender'.padEnd(40)}${columns('process')} ${'RSS MiB'.padStart(8)} ${columns('decode')}`
  )
  const figures = (runs: Sample[]): string => {
    const m = (pick: (s: Sample) => number): number => median(runs.map(pick))
    return (
      m(s => s.seconds)
        .toFixed(3)
        .padStart(16) +
      m(s => s.cpuSeconds)
        .toFixed(2)
        .padStart(7) +
      m(s => s.minorFaults)
        .toFixed(0)
        .padStart(8)
    )
  }
  for (const [contender, runs] of samples) {
    const whole = runs.map(r => r.process)
    const inside = runs.flatMap(r => (r.decode ? [r.decode] : []))
    const rss = median(whole.map(s => s.maxRssMiB))
      .toFixed(0)
      .padStart(8)
    const decodeFigures = inside.length ? figures(inside) : ''
    console.log(`${contender.label.padEnd(40)}${figures(whole)} ${rss} ${decodeFigures}`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
