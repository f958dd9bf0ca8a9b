/**
 * The in-process extractor against GNU tar on one large uncompressed tar (a real
 * repository's snapshot, decoded), each run onto a fresh tmpfs, contenders alternating:
 *
 *   extractor   node bench/extract-sample.js extract TAR DIR (blob ids included, as always)
 *   tar -xpf    GNU tar -x -p -f TAR -C DIR
 *   gate alone, and gate + blob hashing: the tar read and judged, with and without hashing,
 *               nothing written; their difference is what the blob ids cost
 *
 * Wall, CPU (user + sys), minor page faults and peak RSS come from `/usr/bin/time -v` (the
 * whole process, Node's start included); the extractor's own figures (the work alone) beside.
 * Needs root (it mounts the tmpfs).
 *
 *   sudo npx tsx bench/extract.ts --tar FILE [--runs 3]
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { BENCH_DIR, CACHE_DIR } from './options.js'

const run = promisify(execFile)
const REPO_DIR = path.join(BENCH_DIR, '..')

interface Measure {
  wall: number
  cpu: number
  minorFaults: number
  /** Peak resident set size, MB (whole process). */
  maxRss?: number
  /** The extractor's own figures, without Node's start (sample processes only). */
  inside?: { wall: number; cpu: number; minorFaults: number }
}

interface Contender {
  name: string
  /** The command, given a fresh empty directory on a fresh tmpfs. */
  command: (directory: string) => string[]
}

/**
 * Compiles the sample and what it imports with tsc into the cache (keyed by their content),
 * so the measured process runs plain JavaScript, as the bundled action does.
 */
async function compileSample(): Promise<string> {
  const inputs = [
    ...fs
      .readdirSync(path.join(REPO_DIR, 'src', 'archive'))
      .map(f => path.join('src', 'archive', f)),
    path.join('src', 'errors.ts'),
    path.join('src', 'report', 'log.ts'),
    path.join('bench', 'extract-sample.ts')
  ]
  const hash = createHash('sha256')
  for (const file of inputs) hash.update(file).update(fs.readFileSync(path.join(REPO_DIR, file)))
  const out = path.join(CACHE_DIR, `extract-sample-${hash.digest('hex').slice(0, 16)}`)
  const sample = path.join(out, 'bench', 'extract-sample.js')
  if (fs.existsSync(sample)) return sample
  fs.mkdirSync(out, { recursive: true })
  const tsconfig = {
    extends: path.join(REPO_DIR, 'tsconfig.json'),
    compilerOptions: { noEmit: false, outDir: out, rootDir: REPO_DIR, types: ['node'] },
    include: [path.join(BENCH_DIR, 'extract-sample.ts')]
  }
  const config = path.join(out, 'tsconfig.json')
  fs.writeFileSync(config, JSON.stringify(tsconfig))
  await run(path.join(REPO_DIR, 'node_modules', '.bin', 'tsc'), ['-p', config], { cwd: REPO_DIR })
  fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n')
  return sample
}

/** Runs a command under /usr/bin/time -v; returns its figures and its stdout. */
async function timed(command: string[]): Promise<{ measure: Measure; stdout: string }> {
  const child = spawn('/usr/bin/time', ['-v', ...command], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`${command.join(' ')} failed (${code}):\n${stderr}`)
  const field = (label: string) => {
    const line = stderr.split('\n').find(candidate => candidate.trim().startsWith(label))
    if (line === undefined) throw new Error(`no '${label}' in /usr/bin/time output`)
    return line.slice(line.lastIndexOf(': ') + 2).trim()
  }
  const clock = field('Elapsed (wall clock)').split(':').map(Number)
  const wall = clock.reduce((total, part) => total * 60 + part, 0)
  const cpu = Number(field('User time')) + Number(field('System time'))
  const minorFaults = Number(field('Minor (reclaiming a frame) page faults'))
  const maxRss = Number(field('Maximum resident set size')) / 1024
  return { measure: { wall, cpu, minorFaults, maxRss }, stdout }
}

/** A fresh tmpfs for one sample, unmounted after it. */
async function onFreshTmpfs<T>(
  size: string,
  action: (directory: string) => Promise<T>
): Promise<T> {
  const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-extract-'))
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount])
  try {
    const directory = path.join(mount, 'out')
    fs.mkdirSync(directory)
    return await action(directory)
  } finally {
    await run('umount', [mount])
    fs.rmdirSync(mount)
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function describe(samples: Measure[]): string {
  const list = (pick: (m: Measure) => number, digits: number) =>
    samples.map(m => pick(m).toFixed(digits)).join(' / ')
  const of = (pick: (m: Measure) => number) => median(samples.map(pick))
  let text =
    `wall ${list(m => m.wall, 2)} s (median ${of(m => m.wall).toFixed(2)}), ` +
    `CPU ${list(m => m.cpu, 2)} s (median ${of(m => m.cpu).toFixed(2)}), ` +
    `minor faults ${list(m => m.minorFaults, 0)} (median ${of(m => m.minorFaults).toFixed(0)}), ` +
    `peak RSS ${of(m => m.maxRss ?? 0).toFixed(0)} MB`
  const inside = samples.flatMap(m => (m.inside ? [m.inside] : []))
  if (inside.length === samples.length) {
    text +=
      `\n${''.padEnd(24)}the work alone: wall ${median(inside.map(m => m.wall)).toFixed(2)} s, ` +
      `CPU ${median(inside.map(m => m.cpu)).toFixed(2)} s, ` +
      `minor faults ${median(inside.map(m => m.minorFaults)).toFixed(0)} (medians)`
  }
  return text
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tar: { type: 'string' }, runs: { type: 'string', default: '3' } }
  })
  if (values.tar === undefined) throw new Error('usage: bench/extract.ts --tar FILE [--runs N]')
  const tar = path.resolve(values.tar)
  const runs = Number(values.runs)
  const size = `${Math.ceil((3 * fs.statSync(tar).size) / 2 ** 20) + 256}m`
  const node = process.execPath
  const sample = await compileSample()
  const extracting: Contender[] = [
    { name: 'extractor', command: directory => [node, sample, 'extract', tar, directory] },
    { name: 'tar -xpf', command: directory => ['tar', '-x', '-p', '-f', tar, '-C', directory] }
  ]
  const reading: Contender[] = [
    { name: 'gate alone', command: () => [node, sample, 'parse', tar] },
    { name: 'gate + blob hashing', command: () => [node, sample, 'hash', tar] }
  ]
  // Into the page cache, so no sample pays for the first read.
  await run('sh', ['-c', 'cat "$1" > /dev/null', '_', tar])
  console.log(
    `${tar}: ${(fs.statSync(tar).size / 1e6).toFixed(0)} MB; ${runs} rounds, alternating; ` +
      `${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}; ${process.version}`
  )
  const results = new Map<string, Measure[]>()
  for (let round = 0; round < runs; round++) {
    for (const contender of [...extracting, ...reading]) {
      const { measure, stdout } = await onFreshTmpfs(size, directory =>
        timed(contender.command(directory))
      )
      if (stdout.trim() !== '') measure.inside = JSON.parse(stdout) as Measure
      results.set(contender.name, [...(results.get(contender.name) ?? []), measure])
    }
  }
  for (const [name, samples] of results) console.log(`${name.padEnd(22)}  ${describe(samples)}`)
  const of = (name: string, pick: (m: Measure) => number) => median(results.get(name)!.map(pick))
  const inner = (name: string) => of(name, m => m.inside!.cpu)
  console.log(
    `\nextractor / tar -xpf: wall ${(of('extractor', m => m.wall) / of('tar -xpf', m => m.wall)).toFixed(2)}×, ` +
      `CPU ${(of('extractor', m => m.cpu) / of('tar -xpf', m => m.cpu)).toFixed(2)}×`
  )
  console.log(
    `blob hashing costs ${(inner('gate + blob hashing') - inner('gate alone')).toFixed(2)} s of CPU ` +
      `(gate + hashing ${inner('gate + blob hashing').toFixed(2)} s, gate alone ${inner('gate alone').toFixed(2)} s)`
  )
}

await main()
