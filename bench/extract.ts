/**
 * What the TarGate costs: extraction of one large uncompressed tar by GNU tar alone, by
 * tar fed from Node without the gate, and through extractTar (Node → TarGate → tar), plus
 * the gate alone into a sink and the `tar -cf - | tar -x` pipeline with and without the gate.
 * Each sample extracts into a fresh directory; deleting it is not timed. Prints the median
 * and best of N runs: wall seconds (archive MB/s), and CPU seconds of Node (where the gate
 * runs) and of the tar processes, from /proc/self/stat (so Linux only). Node's CPU time is
 * the gate's cost that stays meaningful when other work shares the machine.
 *
 *   npx tsx bench/extract.ts [--files 20000] [--mb 330] [--runs 5] [--keep DIR]
 *
 * The tree is generated (deterministic names and sizes, random bytes): many small files in
 * nested directories, a few large ones, like a source checkout with its .git pack.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs, promisify } from 'node:util'
import { detectTar, extractTarWith, type TarProgram } from '../src/archive/extract.js'
import { TarGate } from '../src/archive/tar-gate.js'

const run = promisify(execFile)

interface Options {
  files: number
  megabytes: number
  runs: number
  keep?: string
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '20000' },
      mb: { type: 'string', default: '330' },
      runs: { type: 'string', default: '5' },
      keep: { type: 'string' }
    }
  })
  return {
    files: Number(values.files),
    megabytes: Number(values.mb),
    runs: Number(values.runs),
    keep: values.keep
  }
}

/** A small deterministic generator, so every run builds the same shape of tree. */
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
}

/**
 * Sizes: 97% small (log-uniform 100 B – 64 KiB), 3% large, the large ones scaled so the
 * total comes to the requested size.
 */
function fileSizes(files: number, totalBytes: number, random: () => number): number[] {
  const small = Array.from({ length: files }, () => Math.round(100 * 655 ** random()))
  const largeIndexes = new Set(small.map((_, i) => i).filter(() => random() < 0.03))
  const smallTotal = small.reduce((sum, size, i) => (largeIndexes.has(i) ? sum : sum + size), 0)
  const perLarge = Math.max(
    0,
    Math.floor((totalBytes - smallTotal) / Math.max(1, largeIndexes.size))
  )
  for (const i of largeIndexes) small[i] = Math.round(perLarge * (0.5 + random()))
  return small
}

async function buildTree(root: string, options: Options): Promise<void> {
  const random = generator(20240601)
  const sizes = fileSizes(options.files, options.megabytes * 1e6, random)
  const pool = randomBytes(8 << 20)
  for (let i = 0; i < sizes.length; i++) {
    const depth = 1 + Math.floor(random() * 4)
    const parts = Array.from({ length: depth }, (_, d) => `dir${d}-${Math.floor(random() * 12)}`)
    const directory = path.join(root, ...parts)
    await fs.mkdir(directory, { recursive: true })
    const mode = random() < 0.05 ? 0o755 : 0o644
    await fs.writeFile(path.join(directory, `file-${i}.dat`), slice(pool, sizes[i], random), {
      mode
    })
  }
}

/** Bytes for one file: repeated slices of a random pool (generating fresh bytes is slower). */
function slice(pool: Buffer, size: number, random: () => number): Buffer {
  if (size <= pool.length) {
    const start = Math.floor(random() * (pool.length - size))
    return pool.subarray(start, start + size)
  }
  const parts: Buffer[] = []
  for (let left = size; left > 0; left -= pool.length)
    parts.push(pool.subarray(0, Math.min(left, pool.length)))
  return Buffer.concat(parts)
}

interface Sample {
  wall: number
  /** CPU seconds of Node itself (where the gate runs). */
  node: number
  /** CPU seconds of the tar processes (mostly the kernel creating files). */
  tar: number
}

/** CPU seconds of this process and of its reaped children, from /proc/self/stat. */
async function cpuSeconds(): Promise<{ node: number; tar: number }> {
  const stat = await fs.readFile('/proc/self/stat', 'utf8')
  // utime, stime, cutime, cstime are fields 14-17; this split starts at field 3.
  const [utime, stime, cutime, cstime] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .map(Number)
  return { node: (utime + stime) / 100, tar: (cutime + cstime) / 100 }
}

async function timed(action: () => Promise<void>): Promise<Sample> {
  const before = await cpuSeconds()
  const started = process.hrtime.bigint()
  await action()
  const wall = Number(process.hrtime.bigint() - started) / 1e9
  const after = await cpuSeconds()
  return { wall, node: after.node - before.node, tar: after.tar - before.tar }
}

function waitForExit(
  command: string,
  args: string[],
  stdinFrom?: 'pipe'
): {
  child: ReturnType<typeof spawn>
  done: Promise<void>
} {
  const child = spawn(command, args, { stdio: [stdinFrom ?? 'ignore', 'pipe', 'inherit'] })
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))
    )
  })
  return { child, done }
}

interface Contender {
  name: string
  /** Extracts (or reads) the archive; `out` is a fresh empty directory. */
  sample: (out: string) => Promise<void>
}

function contenders(archive: string, tree: string, gnu: TarProgram, bsd?: TarProgram): Contender[] {
  const list: Contender[] = [
    {
      name: 'GNU tar -x -f FILE (no Node)',
      sample: async out => void (await run('tar', ['-x', '-f', archive, '-C', out]))
    },
    {
      name: 'Node file -> GNU tar -x (no gate)',
      sample: async out => {
        const tar = waitForExit('tar', ['-x', '-f', '-', '-C', out], 'pipe')
        await pipeline(createReadStream(archive), tar.child.stdin!)
        await tar.done
      }
    },
    {
      name: 'Node file -> TarGate -> GNU tar (extractTar)',
      sample: async out => void (await extractTarWith(gnu, createReadStream(archive), out))
    },
    {
      name: 'Node file -> TarGate -> /dev/null (gate alone)',
      sample: async () => {
        const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
        await pipeline(createReadStream(archive), new TarGate(), sink)
      }
    },
    {
      name: 'tar -cf - DIR | tar -x (shell pipe)',
      sample: async out => {
        await run('bash', ['-c', 'tar -cf - -C "$1" . | tar -x -f - -C "$2"', '_', tree, out])
      }
    },
    {
      name: 'tar -cf - DIR -> TarGate -> GNU tar',
      sample: async out => {
        const create = waitForExit('tar', ['-cf', '-', '-C', tree, '.'])
        await extractTarWith(gnu, create.child.stdout!, out)
        await create.done
      }
    }
  ]
  if (bsd) {
    list.push(
      {
        name: 'bsdtar -x -f FILE (no Node)',
        sample: async out => void (await run(bsd.command, ['-x', '-f', archive, '-C', out]))
      },
      {
        name: 'Node file -> TarGate -> bsdtar',
        sample: async out => void (await extractTarWith(bsd, createReadStream(archive), out))
      }
    )
  }
  return list
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

async function main(): Promise<void> {
  const options = readOptions()
  const work = options.keep ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'bench-extract-')))
  const tree = path.join(work, 'tree')
  const archive = path.join(work, 'tree.tar')
  try {
    if (!(await fs.stat(archive).catch(() => null))) {
      console.log(`Generating ${options.files} files, ~${options.megabytes} MB in ${tree} ...`)
      await fs.rm(tree, { recursive: true, force: true })
      await buildTree(tree, options)
      await run('tar', ['-cf', archive, '-C', tree, '.'])
    }
    const size = (await fs.stat(archive)).size
    const entries =
      (await run('tar', ['-tf', archive], { maxBuffer: 1 << 30 })).stdout.split('\n').length - 1
    const gnu = await detectTar('tar')
    const bsd = await detectTar('bsdtar').catch(() => undefined)
    console.log(
      `Archive: ${(size / 1e6).toFixed(1)} MB, ${entries} entries; ${options.runs} runs each; ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`
    )
    await fs.readFile(archive) // into the page cache, so no sample pays for the first read
    const results: Result[] = []
    for (const contender of contenders(archive, tree, gnu, bsd)) {
      const samples: Sample[] = []
      for (let i = 0; i < options.runs; i++) {
        const out = await fs.mkdtemp(path.join(work, 'out-'))
        await run('sync')
        samples.push(await timed(() => contender.sample(out)))
        await fs.rm(out, { recursive: true, force: true })
      }
      const result = { name: contender.name, samples }
      results.push(result)
      report(result, size)
    }
    summarise(results)
  } finally {
    if (!options.keep) await fs.rm(work, { recursive: true, force: true })
  }
}

interface Result {
  name: string
  samples: Sample[]
}

function report({ name, samples }: Result, size: number): void {
  const of = (measure: keyof Sample) => median(samples.map(sample => sample[measure]))
  const best = Math.min(...samples.map(sample => sample.wall))
  const rate = (seconds: number) => (size / 1e6 / seconds).toFixed(0)
  console.log(
    `${name.padEnd(48)} wall median ${of('wall').toFixed(2)} s (${rate(of('wall'))} MB/s), ` +
      `best ${best.toFixed(2)} s (${rate(best)} MB/s); CPU median: Node ${of('node').toFixed(2)} s, ` +
      `tar ${of('tar').toFixed(2)} s`
  )
}

function summarise(results: Result[]): void {
  const of = (prefix: string, measure: keyof Sample) =>
    median(results.find(result => result.name.startsWith(prefix))!.samples.map(s => s[measure]))
  const gated = 'Node file -> TarGate -> GNU'
  const piped = 'Node file -> GNU'
  const percent = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)}%`
  console.log('')
  console.log(
    `Gate cost: Node CPU ${of(gated, 'node').toFixed(2)} s with the gate vs ` +
      `${of(piped, 'node').toFixed(2)} s piping without it; gate alone ` +
      `${of('Node file -> TarGate -> /dev/null', 'node').toFixed(2)} s`
  )
  console.log(
    `Wall, gate path vs Node piping into tar: ${percent(of(gated, 'wall'), of(piped, 'wall'))}; ` +
      `vs tar -x -f FILE: ${percent(of(gated, 'wall'), of('GNU tar -x -f', 'wall'))}; ` +
      `tar -c | gate | tar -x vs tar -c | tar -x: ` +
      `${percent(of('tar -cf - DIR -> TarGate', 'wall'), of('tar -cf - DIR | tar', 'wall'))}`
  )
}

await main()
