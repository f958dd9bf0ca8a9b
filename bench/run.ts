/**
 * The benchmark: `npm run bench` (see bench/README.md). Builds or reuses each repository's
 * mirror and snapshots (generated, small, and a real one with --mirror), serves the snapshots
 * from nginx (unthrottled and with a per-connection rate limit) and the mirrors from git
 * http-backend, then times every contender in turn, several repetitions, each into a fresh
 * directory, and writes bench/results.json and bench/results.md.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as prettier from 'prettier'
import { startNginx } from '../__tests__/support/nginx.js'
import {
  allContenders,
  selectContenders,
  type Contender,
  type Environment,
  type RepositoryEnvironment
} from './contenders.js'
import { prepareEngine } from './engine-bundle.js'
import { prepareFilesystem } from './filesystem.js'
import { ensureAheadMirror, startInPlaceServer } from './in-place.js'
import { startGitServer } from './git-server.js'
import { BENCH_DIR, parseOptions, USAGE, type BenchOptions } from './options.js'
import {
  finalize,
  writeResults,
  type RepositoryRecord,
  type RunRecord,
  type Sample
} from './report.js'
import { killRunning } from './measure.js'
import {
  prepareRepository,
  repositoriesOf,
  type BenchRepository,
  type RepositoryId
} from './repositories.js'
import { upstreamUrl } from './snapshots.js'
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
    aria2c: toolVersion('aria2c'),
    taskset: toolVersion('taskset')
  }
}

/** What `git clone --mirror URL` names the mirror: the name a rerun command shows. */
function mirrorPlaceholder(repositories: BenchRepository[]): string {
  const real = repositories.find(r => r.id === 'real')
  return real ? `${real.mirror.upstream.name}.git` : 'MIRROR.git'
}

/** One repository as the results record it: facts, no paths outside the repository. */
function repositoryRecord(repository: BenchRepository): RepositoryRecord {
  const { mirror } = repository
  return {
    id: repository.id,
    title: repository.title,
    source: mirror.source,
    upstreamUrl: upstreamUrl(mirror.upstream, 'pzstd'),
    branch: mirror.branch,
    commit: mirror.commit,
    commits: mirror.commits,
    trackedFiles: mirror.trackedFiles,
    packBytes: mirror.packBytes,
    fullClone: mirror.fullClone,
    shape: mirror.shape,
    snapshots: repository.snapshots
  }
}

/** A full-history clone cannot run on a mirror that lacks objects it needs: leave it out. */
function skipReason(contender: Contender, repository: BenchRepository): string | undefined {
  const { fullClone } = repository.mirror
  return contender.name === 'git-clone' && 'skipped' in fullClone ? fullClone.skipped : undefined
}

function rerunCommand(options: BenchOptions, mirror: string): string {
  const args: string[] = []
  if (options.scale !== 'default') args.push('--scale', options.scale)
  if (options.mirror) args.push('--mirror', mirror)
  if (options.mirrorUrl) args.push('--mirror-url', options.mirrorUrl)
  if (options.cloneSince) args.push('--clone-since', options.cloneSince)
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
  const repositoryIds = repositoriesOf(options)
  if (options.list) {
    for (const c of allContenders(repositoryIds)) console.log(`${c.id.padEnd(44)} ${c.label}`)
    return 0
  }
  if (!fs.existsSync(options.action)) {
    throw new Error(`${options.action} is missing: run npm run build`)
  }
  const selected = selectContenders(allContenders(repositoryIds), options.only)
  if (selected.length === 0)
    throw new Error(`no contender matches --only ${options.only.join(',')}`)

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

    // Only the repositories some selected contender restores are built and served.
    const scratch = path.join(fsys.root, 'scratch')
    await fsp.mkdir(scratch)
    const repositories: BenchRepository[] = []
    for (const id of repositoryIds) {
      if (selected.some(c => c.repository === id)) {
        repositories.push(await prepareRepository(id, options, scratch, log))
      }
    }
    await fsp.rm(scratch, { recursive: true, force: true })
    const byId = new Map(repositories.map(r => [r.id, r]))
    const contenders = selected.filter(c => {
      const skipped = skipReason(c, byId.get(c.repository)!)
      if (skipped) log(`${c.id}: skipped: ${skipped}`)
      return !skipped
    })
    if (contenders.length === 0) throw new Error('every selected contender was skipped')
    for (const c of contenders) {
      const repository = byId.get(c.repository)!
      if (c.format && (c.kind === 'restore' || c.kind === 'download')) {
        c.bytes = repository.snapshots.files[c.format].bytes
      }
      // A full clone cut at a date says so wherever it is shown.
      const { fullClone } = repository.mirror
      if (c.name === 'git-clone' && 'args' in fullClone && fullClone.args.length > 0) {
        c.label = `git clone ${fullClone.args.join(' ')} (http-backend)`
      }
    }
    const engine = contenders.some(c => c.name.includes('engine'))
      ? await prepareEngine(process.execPath, log)
      : { command: [], how: 'not run' }

    const environments: Partial<Record<RepositoryId, RepositoryEnvironment>> = {}
    for (const repository of repositories) {
      environments[repository.id] = await serveRepository(
        repository,
        contenders.filter(c => c.repository === repository.id),
        options,
        cleanups
      )
    }
    cleanups.add('running samples', async () => killRunning())
    for (const c of contenders) {
      const served = environments[c.repository]
      if (c.relabel && served) c.label = c.relabel(served)
    }

    const env: Environment = {
      node: process.execPath,
      actionEntry: options.action,
      engine,
      timeoutMs: options.timeoutSeconds * 1000,
      repositories: environments
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

    const mirror = mirrorPlaceholder(repositories)
    const record = finalize({
      generatedAt: new Date().toISOString(),
      command: rerunCommand(options, mirror),
      durationSeconds: seconds,
      machine: machine(),
      loadAverage: load,
      filesystem: { choice: fsys.choice, ...fsys.description },
      node: process.version,
      tools: tools(),
      // The mirror's path is this machine's: the record names it as a rerun would.
      options: { ...options, mirror: options.mirror ? mirror : undefined },
      engine: engine.how,
      repositories: repositories.map(repositoryRecord),
      contenders: contenders.map(c => ({
        id: c.id,
        repository: c.repository,
        scenario: c.scenario,
        name: c.name,
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

/**
 * Starts what one repository's contenders use: nginx serving its snapshots (unthrottled for
 * the fast and pinned ones, rate-limited for the throttled ones), git http-backend serving
 * its mirror for the clones, the cachew-compatible server for the update-existing ones; and
 * reads its snapshots and packs once, so every contender finds them in the page cache, as a
 * server would.
 */
async function serveRepository(
  repository: BenchRepository,
  contenders: Contender[],
  options: BenchOptions,
  cleanups: Cleanups
): Promise<RepositoryEnvironment> {
  const { mirror, snapshots } = repository
  const servers: RepositoryEnvironment['servers'] = {}
  const site = { root: snapshots.wwwRoot, commit: snapshots.commit }
  if (contenders.some(c => c.scenario !== 'throttled' && c.kind !== 'clone')) {
    const fast = await startNginx(site)
    cleanups.add(`nginx (${repository.id})`, fast.stop)
    servers.fast = fast.url
  }
  if (contenders.some(c => c.scenario === 'throttled')) {
    const throttled = await startNginx({ ...site, limitRate: `${options.rateMBps}m` })
    cleanups.add(`nginx (${repository.id}, throttled)`, throttled.stop)
    servers.throttled = throttled.url
  }
  let gitUrl: string | undefined
  if (contenders.some(c => c.kind === 'clone')) {
    // http-backend serves the mirror's directory under its parent, as it is named there.
    const gitServer = await startGitServer(path.dirname(mirror.bareDir))
    cleanups.add(`git server (${repository.id})`, gitServer.stop)
    gitUrl = `${gitServer.url}/${encodeURIComponent(path.basename(mirror.bareDir))}`
    const packs = path.join(mirror.bareDir, 'objects', 'pack')
    for (const name of fs.readdirSync(packs)) await warm(path.join(packs, name))
  }
  let inPlace: RepositoryEnvironment['inPlace']
  if (contenders.some(c => c.name.startsWith('update-'))) {
    const ahead = await ensureAheadMirror(mirror, log)
    inPlace = await startInPlaceServer(mirror, snapshots, ahead)
    cleanups.add(`cachew-compatible server (${repository.id})`, inPlace.stop)
  }
  for (const file of Object.values(snapshots.files)) await warm(file.file)
  return {
    repository,
    servers,
    gitUrl,
    manifest: await readManifest(mirror.bareDir, mirror.commit),
    inPlace
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
