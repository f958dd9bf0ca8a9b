/**
 * The benchmark: `npm run bench` (see bench/README.md). Builds or reuses the snapshots,
 * serves them from nginx (unthrottled and with a per-connection rate limit) and the mirror
 * from git http-backend, then times every contender in turn, several repetitions, each into
 * a fresh directory, and writes bench/results.json and bench/results.md.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as prettier from 'prettier'
import { startNginx } from '../__tests__/support/nginx.js'
import { allContenders, selectContenders, type Contender, type Environment } from './contenders.js'
import { prepareEngine } from './engine-bundle.js'
import { prepareFilesystem } from './filesystem.js'
import { ensureAheadMirror, startInPlaceServer } from './in-place.js'
import { startGitServer } from './git-server.js'
import { BENCH_DIR, parseOptions, USAGE, type BenchOptions } from './options.js'
import { finalize, writeResults, type RunRecord, type Sample } from './report.js'
import { killRunning } from './measure.js'
import { ensureMirror, ensureSnapshots } from './snapshots.js'
import { missingTools, toolVersion } from './tools.js'
import { readManifest } from './verify.js'

const REPO_DIR = path.join(BENCH_DIR, '..')

function log(line: string): void {
  console.log(`[bench] ${line}`)
}

/** Cleanups run in reverse order at the end, on failure, and on Ctrl-C. */
class Cleanups {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = []
  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run })
  }
  async runAll(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!
      await step
        .run()
        .catch((error: Error) => log(`cleanup '${step.name}' failed: ${error.message}`))
    }
  }
}

function requireNode24(): void {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 24) {
    throw new Error(
      `the action runs on Node 24 and so must the harness (this is ${process.version}): ` +
        'run it with `npm run bench`, which puts node_modules/.bin/node first on PATH'
    )
  }
}

/** Reads a file once so every contender finds it in the page cache, as a server would. */
async function warm(file: string): Promise<void> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) void chunk
}

/** Writeback of the previous sample must not slow the next one. */
function flush(): void {
  spawnSync('sync')
}

function rotate<T>(items: T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

async function runSamples(
  contenders: Contender[],
  env: Environment,
  fsRoot: string,
  repetitions: number,
  stopped: () => boolean
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(contenders.map(c => [c.id, []]))
  let sequence = 0
  const total = contenders.length * repetitions
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    // Each repetition starts at a different contender, so none always follows the same one.
    const shift = Math.round(((repetition - 1) * contenders.length) / repetitions)
    for (const contender of rotate(contenders, shift)) {
      if (stopped()) throw new Error('interrupted')
      sequence++
      const dir = path.join(fsRoot, `sample-${sequence}`)
      await fsp.mkdir(dir)
      const clock = performance.now()
      flush()
      const synced = performance.now()
      const sample: Sample = { repetition, sequence, ok: false }
      try {
        Object.assign(sample, await contender.run(env, dir, { repetition }), { ok: true })
        log(
          `${sequence}/${total} ${contender.id}: ${sample.seconds!.toFixed(2)} s, ` +
            `peak ${Math.round((sample.peakTreeRssBytes ?? 0) / 1e6)} MB`
        )
      } catch (error) {
        if (stopped()) throw new Error('interrupted', { cause: error })
        sample.error = (error as Error).message
        log(`${sequence}/${total} ${contender.id}: FAILED: ${sample.error}`)
      }
      samples.get(contender.id)!.push(sample)
      const ran = performance.now()
      await fsp.rm(dir, { recursive: true, force: true })
      const untimed = (synced - clock + performance.now() - ran) / 1000
      const checks = (ran - synced) / 1000 - (sample.seconds ?? 0)
      log(
        `  outside the clock: sync and delete ${untimed.toFixed(1)} s, setup and checks ${checks.toFixed(1)} s`
      )
    }
  }
  return samples
}

function machine(): RunRecord['machine'] {
  const release = fs.existsSync('/etc/os-release')
    ? /PRETTY_NAME="?([^"\n]*)"?/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1]
    : undefined
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: release ?? os.type()
  }
}

function tools(): Record<string, string> {
  return {
    git: toolVersion('git'),
    tar: toolVersion('tar'),
    zstd: toolVersion('zstd', '-V'),
    nginx: toolVersion('nginx', '-v'),
    curl: toolVersion('curl'),
    aria2c: toolVersion('aria2c')
  }
}

function rerunCommand(options: BenchOptions): string {
  const args: string[] = []
  if (options.scale !== 'default') args.push('--scale', options.scale)
  if (options.repetitions !== 3) args.push('--reps', String(options.repetitions))
  if (options.only.length > 0) args.push('--only', options.only.join(','))
  if (options.rateMBps !== 25) args.push('--rate', String(options.rateMBps))
  if (options.filesystem === 'tmpfs') args.push('--fs', 'tmpfs')
  if (options.filesystem === 'dir' && options.dir) args.push('--dir', options.dir)
  const dist = path.join(REPO_DIR, 'dist', 'index.js')
  if (options.action !== dist) args.push('--action', path.relative(REPO_DIR, options.action))
  return `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`
}

async function main(): Promise<number> {
  const isRoot = process.getuid?.() === 0
  const options = parseOptions(process.argv.slice(2), isRoot)
  if (options.help) {
    console.log(USAGE)
    return 0
  }
  if (options.render) {
    const record = finalize(JSON.parse(await fsp.readFile(options.render, 'utf8')) as RunRecord)
    const out = options.render.replace(/\.json$/, '')
    console.log(await writeResults(out, record, REPO_DIR, formatMarkdown))
    log(`rewrote ${out}.json and ${out}.md from its samples`)
    return 0
  }
  requireNode24()
  const missing = missingTools(options.filesystem)
  if (missing) {
    console.error(missing)
    return 2
  }
  if (options.list) {
    for (const c of allContenders()) console.log(`${c.id.padEnd(32)} ${c.label}`)
    return 0
  }
  if (!fs.existsSync(options.action)) {
    throw new Error(`${options.action} is missing: run npm run build`)
  }

  const started = performance.now()
  const load = { start: os.loadavg(), end: [] as number[] }
  if (load.start[0] > os.availableParallelism() / 2) {
    log(
      `warning: load average ${load.start[0].toFixed(1)} on ${os.availableParallelism()} cores; times will be inflated`
    )
  }
  const cleanups = new Cleanups()
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true
    log(`${signal}: stopping servers and cleaning up`)
    void cleanups.runAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const fsys = await prepareFilesystem(options.filesystem, options.dir)
    cleanups.add('filesystem', fsys.release)
    log(`restoring on ${fsys.description.fstype} (${fsys.description.note}) at ${fsys.root}`)

    const mirror = await ensureMirror(options.scale, log)
    const scratch = path.join(fsys.root, 'scratch')
    await fsp.mkdir(scratch)
    const snapshots = await ensureSnapshots(mirror, scratch, log)
    await fsp.rm(scratch, { recursive: true, force: true })
    const contenders = selectContenders(allContenders(snapshots), options.only)
    if (contenders.length === 0)
      throw new Error(`no contender matches --only ${options.only.join(',')}`)
    const engine = contenders.some(c => c.id.includes('engine'))
      ? await prepareEngine(process.execPath, log)
      : { command: [], how: 'not run' }

    const fast = await startNginx({ root: snapshots.wwwRoot, commit: snapshots.commit })
    cleanups.add('nginx', fast.stop)
    const throttled = await startNginx({
      root: snapshots.wwwRoot,
      commit: snapshots.commit,
      limitRate: `${options.rateMBps}m`
    })
    cleanups.add('nginx (throttled)', throttled.stop)
    const gitServer = await startGitServer(mirror.root)
    cleanups.add('git server', gitServer.stop)
    let inPlace: Environment['inPlace']
    if (contenders.some(c => c.id.includes('/update-'))) {
      inPlace = await startInPlaceServer(snapshots, await ensureAheadMirror(mirror, log))
      cleanups.add('cachew-compatible server', inPlace.stop)
    }
    for (const file of Object.values(snapshots.files)) await warm(file.file)
    cleanups.add('running samples', async () => killRunning())

    const env: Environment = {
      node: process.execPath,
      actionEntry: options.action,
      engine,
      servers: { fast: fast.url, throttled: throttled.url },
      gitUrl: gitServer.url,
      mirror,
      snapshots,
      manifest: await readManifest(mirror.bareDir, mirror.commit),
      timeoutMs: options.timeoutSeconds * 1000,
      inPlace
    }
    log(`${contenders.length} contenders × ${options.repetitions} repetitions`)
    const samples = await runSamples(
      contenders,
      env,
      fsys.root,
      options.repetitions,
      () => interrupted
    )
    const seconds = (performance.now() - started) / 1000
    load.end = os.loadavg()

    const record = finalize({
      generatedAt: new Date().toISOString(),
      command: rerunCommand(options),
      durationSeconds: seconds,
      machine: machine(),
      loadAverage: load,
      filesystem: { choice: fsys.choice, ...fsys.description },
      node: process.version,
      tools: tools(),
      options,
      engine: engine.how,
      repository: mirror,
      snapshots,
      contenders: contenders.map(c => ({
        id: c.id,
        scenario: c.scenario,
        kind: c.kind,
        label: c.label,
        bytes: c.bytes,
        summary: { samples: 0, failures: 0 },
        samples: samples.get(c.id)!
      })),
      targets: []
    })
    console.log(`\n${await writeResults(options.out, record, REPO_DIR, formatMarkdown)}`)
    log(`wrote ${options.out}.json and ${options.out}.md in ${(seconds / 60).toFixed(1)} min`)
    const results = record.contenders
    return results.some(r => r.summary.failures > 0) ? 1 : 0
  } finally {
    if (!interrupted) await cleanups.runAll()
  }
}

/** results.md is checked by `prettier --check` like every file of the repository. */
async function formatMarkdown(markdown: string): Promise<string> {
  const config = (await prettier.resolveConfig(path.join(REPO_DIR, 'README.md'))) ?? {}
  return prettier.format(markdown, { ...config, parser: 'markdown' })
}

main().then(
  code => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(`[bench] ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
)
