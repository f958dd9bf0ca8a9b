/**
 * Everything the benchmark times. Each contender runs one sample into a fresh, empty
 * directory, as a measured process tree, and then checks its own result; a sample that
 * fails or produces the wrong tree throws and counts as a failure, never as a time.
 *
 * Ids are REPOSITORY/SCENARIO/NAME. Repositories: see repositories.ts. Scenarios: `fast` is
 * nginx on 127.0.0.1 as fast as loopback goes; `throttled` is the same nginx with a
 * per-connection `limit_rate`, as cloud object stores cap single streams; `pinned` is `fast`
 * with the contender (and every process it starts) on one core (`taskset -c 0`), which
 * shows how much of a contender's speed comes from the second core.
 */
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import { parse } from 'yaml'
import { parseCommandFile } from '../__tests__/support/run-action.js'
import {
  AHEAD_COMMITS,
  lastJobsCheckout,
  unrelatedCheckout,
  type InPlaceServer
} from './in-place.js'
import { measure, measureSteps, type Measured, type MeasureOptions } from './measure.js'
import { BENCH_DIR } from './options.js'
import type { BenchRepository, RepositoryId } from './repositories.js'
import { repositorySlug, snapshotPath, upstreamUrl, type Format } from './snapshots.js'
import {
  sparseManifest,
  verifyFile,
  verifyPartialClone,
  verifyTree,
  type TreeExpectation
} from './verify.js'

export type Scenario = 'fast' | 'throttled' | 'pinned'
/** The two nginx servers; `pinned` contenders use the fast one. */
export type Server = 'fast' | 'throttled'
export type Kind = 'restore' | 'download' | 'extract' | 'clone'

/** The CPU list `pinned` contenders run on. */
export const PINNED_CPUS = '0'

export interface Engine {
  /** argv prefix that runs bench/engine.ts: [node, bundle] or [node, --import, tsx, file]. */
  command: string[]
  /** How it was built, for the results ("ncc bundle", or why it runs through tsx). */
  how: string
}

/** One repository as the contenders find it: its snapshots served, its mirror cloneable. */
export interface RepositoryEnvironment {
  repository: BenchRepository
  /** nginx base URLs serving its snapshots (only those some selected contender uses). */
  servers: Partial<Record<Server, string>>
  /** `git clone` URL of its mirror through git http-backend. */
  gitUrl?: string
  /** The commit's paths, sizes and kinds, to check restored trees against. */
  manifest: TreeExpectation['manifest']
  /** The cachew-compatible server of the update-existing contenders, when any runs. */
  inPlace?: InPlaceServer
}

export interface Environment {
  node: string
  actionEntry: string
  engine: Engine
  timeoutMs: number
  repositories: Partial<Record<RepositoryId, RepositoryEnvironment>>
}

/** Which sample this is: baselines take the expensive content check on the first only. */
export interface SampleContext {
  repetition: number
}

export interface SampleOutcome {
  seconds: number
  /** Seconds of each step, for contenders made of steps (aria2c, then tar). */
  phases?: Record<string, number>
  peakTreeRssBytes: number
  maxProcessRssBytes?: number
  /** CPU seconds of the whole process tree (GNU time: rusage of every waited-for descendant). */
  userSeconds?: number
  systemSeconds?: number
  /** Page faults of the whole process tree (GNU time). */
  minorFaults?: number
  majorFaults?: number
  /** What the contender reported about itself (the action's outputs, the engine's JSON). */
  details?: Record<string, string | number>
}

export interface Contender {
  /** `${repository}/${scenario}/${name}` */
  id: string
  repository: RepositoryId
  scenario: Scenario
  /** The same name in another scenario is the same contender (pinned against fast). */
  name: string
  kind: Kind
  label: string
  /** The snapshot it downloads or reads, when it uses one. */
  format?: Format
  /** Compressed bytes this contender moves over HTTP (for throughput figures). */
  bytes: number
  run(env: Environment, dir: string, sample: SampleContext): Promise<SampleOutcome>
  /** The label once its repository is served, for labels that name something of it. */
  relabel?(r: RepositoryEnvironment): string
}

export class SampleError extends Error {}

/** The action's defaults as the runner would fill them in from action.yml. */
export function actionDefaults(): Record<string, string> {
  const actionYml = parse(fs.readFileSync(path.join(BENCH_DIR, '..', 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  const defaults: Record<string, string> = {}
  for (const [name, spec] of Object.entries(actionYml.inputs)) {
    // ${{ github.* }} expressions have no value outside a workflow
    if (spec.default !== undefined && !spec.default.includes('${{')) defaults[name] = spec.default
  }
  return defaults
}

/** action.yml's download-concurrency: the action contender at it runs at default inputs. */
export const DEFAULT_CONCURRENCY = Number(actionDefaults()['download-concurrency'])
/** The concurrency of the memory target (32 requests of the default 16 MiB chunks). */
export const MEMORY_TARGET_CONCURRENCY = 32

/** The contender's repository, which must have been prepared. */
function on(env: Environment, id: RepositoryId): RepositoryEnvironment {
  const repository = env.repositories[id]
  if (!repository) throw new SampleError(`the ${id} repository is not prepared`)
  return repository
}

function serverOf(scenario: Scenario): Server {
  return scenario === 'throttled' ? 'throttled' : 'fast'
}

function snapshotUrl(r: RepositoryEnvironment, scenario: Scenario, format: Format): string {
  const server = r.servers[serverOf(scenario)]
  if (!server) throw new SampleError(`the ${serverOf(scenario)} server is not running`)
  return `${server}/${snapshotPath(r.repository.mirror.upstream, format)}`
}

function cloneUrl(r: RepositoryEnvironment): string {
  if (!r.gitUrl) throw new SampleError('the git server is not running')
  return r.gitUrl
}

/** How a scenario runs its processes: pinned ones on one core. */
function measureOptions(env: Environment, scenario: Scenario): MeasureOptions {
  return { timeoutMs: env.timeoutMs, cpus: scenario === 'pinned' ? PINNED_CPUS : undefined }
}

function fullTree(r: RepositoryEnvironment): TreeExpectation {
  const { mirror } = r.repository
  return { commit: mirror.commit, commits: mirror.commits, manifest: r.manifest }
}

/** Checks on the product's own code are always deep; on standard tools, once per contender. */
function baselineCheck(sample: SampleContext): { deep: boolean } {
  return { deep: sample.repetition === 1 }
}

const ALWAYS_DEEP = { deep: true }

/** A non-zero exit, a kill or a timeout fails the sample with the tool's own words. */
function requireSuccess(what: string, result: Measured): void {
  if (result.exitCode === 0 && !result.timedOut) return
  const why = result.timedOut
    ? 'timed out'
    : result.signal
      ? `killed by ${result.signal}`
      : `exited with ${result.exitCode}`
  const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-8).join('\n')
  throw new SampleError(`${what} ${why}: ${tail}`)
}

function outcome(result: Measured, extra: Partial<SampleOutcome> = {}): SampleOutcome {
  return {
    seconds: result.seconds,
    peakTreeRssBytes: result.peakTreeRssBytes,
    maxProcessRssBytes: result.maxProcessRssBytes,
    userSeconds: result.userSeconds,
    systemSeconds: result.systemSeconds,
    minorFaults: result.minorFaults,
    majorFaults: result.majorFaults,
    ...extra
  }
}

/** A clean environment for the git a shell contender runs: no user config, no prompts. */
async function toolEnvironment(dir: string): Promise<NodeJS.ProcessEnv> {
  const home = path.join(dir, 'home')
  await fsp.mkdir(home, { recursive: true })
  return { PATH: process.env.PATH ?? '', HOME: home, GIT_TERMINAL_PROMPT: '0' }
}

/** The environment a GitHub runner gives the action's main step (see run-action.ts). */
async function runnerEnvironment(
  dir: string,
  inputs: Record<string, string>,
  context: { commit: string; repository: string; branch: string }
): Promise<{ env: NodeJS.ProcessEnv; workspace: string; outputFile: string }> {
  const workspace = path.join(dir, 'workspace')
  const runnerTemp = path.join(dir, 'runner-temp')
  const files = path.join(dir, 'runner-files')
  const home = path.join(dir, 'home')
  await Promise.all([workspace, runnerTemp, files, home].map(d => fsp.mkdir(d)))
  const outputFile = path.join(files, 'output')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: path.join(files, 'state'),
    GITHUB_STEP_SUMMARY: path.join(files, 'summary'),
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: context.repository,
    GITHUB_SHA: context.commit,
    GITHUB_REF: `refs/heads/${context.branch}`,
    GITHUB_EVENT_NAME: 'push'
  }
  for (const name of ['output', 'state', 'summary']) await fsp.writeFile(path.join(files, name), '')
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  return { env, workspace, outputFile }
}

/** Runs the action once, as a runner runs it, and checks its outputs and the tree. */
async function runActionSample(
  env: Environment,
  r: RepositoryEnvironment,
  dir: string,
  scenario: Scenario,
  format: Format,
  inputs: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {},
  expect: TreeExpectation = fullTree(r)
): Promise<{ result: Measured; outputs: Record<string, string> }> {
  const { mirror } = r.repository
  const serverUrl = r.servers[serverOf(scenario)]
  if (!serverUrl) throw new SampleError(`the ${serverOf(scenario)} server is not running`)
  const allInputs = {
    ...actionDefaults(),
    'server-url': serverUrl,
    repository: upstreamUrl(mirror.upstream, format),
    'fail-on-cache-miss': 'true',
    token: '',
    ...inputs
  }
  await fsp.mkdir(dir, { recursive: true })
  const runner = await runnerEnvironment(dir, allInputs, {
    commit: mirror.commit,
    repository: repositorySlug(mirror.upstream, format),
    branch: mirror.branch
  })
  const result = await measure([env.node, env.actionEntry], {
    ...measureOptions(env, scenario),
    env: { ...runner.env, ...extraEnv },
    cwd: runner.workspace
  })
  requireSuccess('the action', result)
  const outputs = parseCommandFile(await fsp.readFile(runner.outputFile, 'utf8'))
  if (outputs['cache-hit'] !== 'true')
    throw new SampleError(`cache-hit is '${outputs['cache-hit']}'`)
  if (outputs['snapshot-commit'] !== mirror.commit) {
    throw new SampleError(`snapshot-commit output is '${outputs['snapshot-commit']}'`)
  }
  await verifyTree(runner.workspace, expect, ALWAYS_DEEP)
  return { result, outputs }
}

function actionDetails(outputs: Record<string, string>): Record<string, string | number> {
  const details: Record<string, string | number> = {}
  for (const name of ['seconds', 'download-seconds', 'download-bytes']) {
    if (outputs[name] !== undefined) details[name] = Number(outputs[name])
  }
  return details
}

/** The parts of a contender every factory fills in the same way. */
function base(
  repository: RepositoryId,
  scenario: Scenario,
  name: string,
  kind: Kind,
  label: string,
  format?: Format
): Omit<Contender, 'run'> {
  return {
    id: `${repository}/${scenario}/${name}`,
    repository,
    scenario,
    name,
    kind,
    label,
    format,
    bytes: 0
  }
}

function actionContender(
  repository: RepositoryId,
  scenario: Scenario,
  concurrency: number,
  format: Format
): Contender {
  const suffix = format === 'pzstd' ? '' : `-${format}`
  const defaults = concurrency === DEFAULT_CONCURRENCY && format === 'pzstd'
  const label =
    `action, concurrency ${concurrency}` +
    (defaults ? ' (default inputs)' : '') +
    (format === 'pzstd' ? '' : ', one-frame zstd snapshot')
  return {
    ...base(repository, scenario, `action-c${concurrency}${suffix}`, 'restore', label, format),
    async run(env, dir) {
      const r = on(env, repository)
      const { result, outputs } = await runActionSample(env, r, dir, scenario, format, {
        'download-concurrency': String(concurrency)
      })
      return outcome(result, { details: actionDetails(outputs) })
    }
  }
}

/**
 * A self-hosted runner's second job: an untimed first run fills the runner cache, then the
 * timed run revalidates the kept snapshot (HEAD, 304) and extracts it without downloading.
 */
function actionRunnerCacheContender(repository: RepositoryId, scenario: Scenario): Contender {
  return {
    ...base(
      repository,
      scenario,
      'action-runner-cache',
      'restore',
      'action on a self-hosted runner, snapshot kept from the last job (runner cache)',
      'pzstd'
    ),
    async run(env, dir) {
      const r = on(env, repository)
      const selfHosted = {
        RUNNER_ENVIRONMENT: 'self-hosted',
        RUNNER_TOOL_CACHE: path.join(dir, 'tool-cache')
      }
      const first = path.join(dir, 'first-job')
      await runActionSample(env, r, first, scenario, 'pzstd', {}, selfHosted)
      const { result, outputs } = await runActionSample(
        env,
        r,
        path.join(dir, 'second-job'),
        scenario,
        'pzstd',
        {},
        selfHosted
      )
      if (outputs['snapshot-source'] !== 'runner-cache') {
        throw new SampleError(`snapshot-source is '${outputs['snapshot-source']}'`)
      }
      return outcome(result, { details: actionDetails(outputs) })
    }
  }
}

/**
 * `curl | zstd -dc | tar -x`, what a user would write; with `status`, then the first
 * `git status`, which rehashes every file (the extracted index's stat data is the snapshot
 * machine's) and writes the index back clean: the state the action delivers.
 */
function curlPipelineContender(
  repository: RepositoryId,
  scenario: Scenario,
  status: boolean
): Contender {
  const then = status ? ' && git -C "$2" status > /dev/null' : ''
  const label = status ? 'curl | zstd -dc | tar -x && git status' : 'curl | zstd -dc | tar -x'
  return {
    ...base(
      repository,
      scenario,
      status ? 'curl-zstd-tar-status' : 'curl-zstd-tar',
      'restore',
      label,
      'pzstd'
    ),
    async run(env, dir, sample) {
      const r = on(env, repository)
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const script = `set -o pipefail; curl -sSf "$1" | zstd -dc | tar -x -C "$2"${then}`
      const url = snapshotUrl(r, scenario, 'pzstd')
      const result = await measure(['bash', '-c', script, 'bash', url, target], {
        ...measureOptions(env, scenario),
        env: await toolEnvironment(dir)
      })
      requireSuccess(label, result)
      // After git status the index is clean, so the deep check is cheap: always take it.
      await verifyTree(target, fullTree(r), status ? ALWAYS_DEEP : baselineCheck(sample))
      return outcome(result)
    }
  }
}

function aria2Contender(repository: RepositoryId, scenario: Scenario): Contender {
  return {
    ...base(
      repository,
      scenario,
      'aria2c-then-tar',
      'restore',
      'aria2c -x8 -s8, then tar -I zstd -x',
      'pzstd'
    ),
    async run(env, dir, sample) {
      const r = on(env, repository)
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const file = path.join(dir, 'snapshot.tar.zst')
      const { total, phases } = await measureSteps(
        [
          {
            name: 'download',
            command: [
              'aria2c',
              '-x8',
              '-s8',
              '--quiet=true',
              '--allow-overwrite=true',
              '--auto-file-renaming=false',
              '-d',
              dir,
              '-o',
              path.basename(file),
              snapshotUrl(r, scenario, 'pzstd')
            ]
          },
          { name: 'extract', command: ['tar', '-I', 'zstd', '-xf', file, '-C', target] }
        ],
        measureOptions(env, scenario)
      )
      requireSuccess('aria2c, then tar', total)
      const snapshot = r.repository.snapshots.files.pzstd
      await verifyFile(file, snapshot.bytes, snapshot.sha256)
      await verifyTree(target, fullTree(r), baselineCheck(sample))
      return outcome(total, { phases })
    }
  }
}

type CloneDepth = 'full' | 'depth1'

/**
 * `git clone` of the mirror from the local http-backend: full history (or the history since a
 * date, for a mirror that lacks older objects) or `--depth=1` (actions/checkout's default);
 * with `status`, then the first `git status`.
 */
function gitCloneContender(
  repository: RepositoryId,
  scenario: Scenario,
  depth: CloneDepth,
  status: boolean
): Contender {
  const name = `git-clone${depth === 'depth1' ? '-depth1' : ''}${status ? '-status' : ''}`
  const what = depth === 'depth1' ? 'git clone --depth=1' : 'git clone'
  const label = `${what}${status ? ' && git status' : ''} (http-backend)`
  return {
    ...base(repository, scenario, name, 'clone', label),
    async run(env, dir) {
      const r = on(env, repository)
      const target = path.join(dir, 'clone')
      const { fullClone } = r.repository.mirror
      if ('skipped' in fullClone && depth === 'full') throw new SampleError(fullClone.skipped)
      const history = depth === 'depth1' ? ['--depth=1'] : 'args' in fullClone ? fullClone.args : []
      const then = status ? ' && git -C "$2" status > /dev/null' : ''
      // The history options go in as arguments, never into the script's text.
      const script = `git clone --quiet "\${@:3}" "$1" "$2"${then}`
      const argv = ['bash', '-c', script, 'bash', cloneUrl(r), target, ...history]
      const result = await measure(argv, {
        ...measureOptions(env, scenario),
        env: await toolEnvironment(dir)
      })
      requireSuccess(what, result)
      const commits =
        depth === 'depth1' ? 1 : 'commits' in fullClone ? fullClone.commits : undefined
      // git wrote the index itself, so its status check is cheap: always deep
      const expect = { ...fullTree(r), commits: commits ?? r.repository.mirror.commits }
      await verifyTree(target, expect, ALWAYS_DEEP)
      return outcome(result)
    }
  }
}

function downloadCurlContender(repository: RepositoryId, scenario: Scenario): Contender {
  return {
    ...base(
      repository,
      scenario,
      'download-curl',
      'download',
      'download only: curl -o FILE',
      'pzstd'
    ),
    async run(env, dir) {
      const r = on(env, repository)
      const file = path.join(dir, 'snapshot.tar.zst')
      const url = snapshotUrl(r, scenario, 'pzstd')
      const result = await measure(['curl', '-sSf', '-o', file, url], measureOptions(env, scenario))
      requireSuccess('curl', result)
      const snapshot = r.repository.snapshots.files.pzstd
      await verifyFile(file, snapshot.bytes, snapshot.sha256)
      return outcome(result)
    }
  }
}

function parseEngineOutput(stdout: string): Record<string, string | number> {
  const line = stdout.trim().split('\n').pop() ?? '{}'
  try {
    return JSON.parse(line) as Record<string, string | number>
  } catch {
    throw new SampleError(`the engine printed no result: ${stdout.slice(-500)}`)
  }
}

function downloadEngineContender(
  repository: RepositoryId,
  scenario: Scenario,
  concurrency: number
): Contender {
  return {
    ...base(
      repository,
      scenario,
      `download-engine-c${concurrency}`,
      'download',
      `download only: the action's engine, concurrency ${concurrency}`,
      'pzstd'
    ),
    async run(env, dir) {
      const r = on(env, repository)
      const file = path.join(dir, 'snapshot.tar.zst')
      const url = snapshotUrl(r, scenario, 'pzstd')
      const args = ['download', url, file, String(concurrency), '16']
      const result = await measure([...env.engine.command, ...args], measureOptions(env, scenario))
      requireSuccess('the download engine', result)
      const snapshot = r.repository.snapshots.files.pzstd
      await verifyFile(file, snapshot.bytes, snapshot.sha256)
      return outcome(result, { details: parseEngineOutput(result.stdout) })
    }
  }
}

function extractCliContender(repository: RepositoryId, scenario: Scenario): Contender {
  return {
    ...base(
      repository,
      scenario,
      'extract-cli',
      'extract',
      'decode+extract only: zstd -dc FILE | tar -x',
      'pzstd'
    ),
    async run(env, dir, sample) {
      const r = on(env, repository)
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const script = 'set -o pipefail; zstd -dc "$1" | tar -x -C "$2"'
      const file = r.repository.snapshots.files.pzstd.file
      const result = await measure(
        ['bash', '-c', script, 'bash', file, target],
        measureOptions(env, scenario)
      )
      requireSuccess('zstd | tar', result)
      await verifyTree(target, fullTree(r), baselineCheck(sample))
      return outcome(result)
    }
  }
}

function extractEngineContender(repository: RepositoryId, scenario: Scenario): Contender {
  return {
    ...base(
      repository,
      scenario,
      'extract-engine',
      'extract',
      "decode+extract only: the action's in-process path",
      'pzstd'
    ),
    async run(env, dir) {
      const r = on(env, repository)
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const args = ['extract', r.repository.snapshots.files.pzstd.file, target]
      const result = await measure([...env.engine.command, ...args], measureOptions(env, scenario))
      requireSuccess('the in-process decode+extract', result)
      await verifyTree(target, fullTree(r), ALWAYS_DEEP)
      return outcome(result, { details: parseEngineOutput(result.stdout) })
    }
  }
}

/** babel/babel's package, the sparse checkout the issue asks to measure. */
export const SPARSE_PACKAGE = 'packages/babel-core'
/** Its share of babel/babel's files: 437 of 27,674 (at the commit the benchmark first ran). */
const SPARSE_SHARE = 437 / 27_674

const sparseCones = new WeakMap<RepositoryEnvironment['manifest'], string>()

/**
 * The directory the sparse contenders check out: packages/babel-core when the repository has
 * it (babel/babel, the case); otherwise the directory two levels down (as
 * packages/NAME) whose files are closest to the same share of the tree, the first by name on
 * a tie, so a generated repository gets one package-sized directory of its own.
 */
export function sparseConeOf(manifest: RepositoryEnvironment['manifest']): string {
  const known = sparseCones.get(manifest)
  if (known) return known
  const counts = new Map<string, number>()
  for (const name of manifest.keys()) {
    const parts = name.split('/')
    if (parts.length < 3) continue
    const dir = `${parts[0]}/${parts[1]}`
    counts.set(dir, (counts.get(dir) ?? 0) + 1)
  }
  let cone = counts.has(SPARSE_PACKAGE) ? SPARSE_PACKAGE : undefined
  if (!cone) {
    const want = SPARSE_SHARE * manifest.size
    const ranked = [...counts].sort(
      ([a, m], [b, n]) => Math.abs(m - want) - Math.abs(n - want) || (a < b ? -1 : 1)
    )
    cone = ranked[0]?.[0]
  }
  if (!cone) throw new SampleError('the repository has no directory two levels down to check out')
  sparseCones.set(manifest, cone)
  return cone
}

function sparseTree(r: RepositoryEnvironment): TreeExpectation {
  return { ...fullTree(r), sparse: [sparseConeOf(r.manifest)] }
}

/**
 * The action with `sparse-checkout: DIR` (cone mode, the default): files outside the cone are
 * never written, .git comes whole, and git marks the rest skip-worktree.
 */
function actionSparseContender(repository: RepositoryId, scenario: Scenario): Contender {
  const label = (cone: string) => `action, sparse-checkout: ${cone} (cone mode)`
  return {
    ...base(repository, scenario, 'action-sparse', 'restore', label('DIR'), 'pzstd'),
    relabel: r => label(sparseConeOf(r.manifest)),
    async run(env, dir) {
      const r = on(env, repository)
      const cone = sparseConeOf(r.manifest)
      const { result, outputs } = await runActionSample(
        env,
        r,
        dir,
        scenario,
        'pzstd',
        { 'sparse-checkout': cone },
        {},
        sparseTree(r)
      )
      return outcome(result, { details: actionDetails(outputs) })
    }
  }
}

/**
 * What a monorepo job writes by hand for one package: a blobless partial clone with only the
 * top-level files checked out (`--sparse`), then `git sparse-checkout set DIR`, which fetches
 * the package's blobs from the server (a second request); with `status`, then `git status`.
 * The clone must really be partial: it must hold the blobs of the files it checked out and no
 * others.
 */
function gitCloneSparseContender(
  repository: RepositoryId,
  scenario: Scenario,
  status: boolean
): Contender {
  const label = (cone: string) =>
    `git clone --filter=blob:none --sparse && git sparse-checkout set ${cone}` +
    `${status ? ' && git status' : ''} (http-backend)`
  const name = `git-clone-sparse${status ? '-status' : ''}`
  return {
    ...base(repository, scenario, name, 'clone', label('DIR')),
    relabel: r => label(sparseConeOf(r.manifest)),
    async run(env, dir) {
      const r = on(env, repository)
      const target = path.join(dir, 'clone')
      const then = status ? ' && git -C "$2" status > /dev/null' : ''
      const script =
        'git clone --quiet --filter=blob:none --sparse "$1" "$2" && ' +
        `git -C "$2" sparse-checkout set "$3"${then}`
      const argv = ['bash', '-c', script, 'bash', cloneUrl(r), target, sparseConeOf(r.manifest)]
      const result = await measure(argv, {
        ...measureOptions(env, scenario),
        env: await toolEnvironment(dir)
      })
      requireSuccess('git clone --filter=blob:none --sparse', result)
      const expect = sparseTree(r)
      await verifyTree(target, expect, ALWAYS_DEEP)
      const held = await verifyPartialClone(target, sparseManifest(r.manifest, expect.sparse!))
      return outcome(result, {
        details: { blobs: held.blobs, objects: held.objects, 'pack-bytes': held.packBytes }
      })
    }
  }
}

/** The sparse checkout of one package against the partial clone a user would write for it. */
function sparseContenders(repository: RepositoryId): Contender[] {
  return [
    actionSparseContender(repository, 'fast'),
    gitCloneSparseContender(repository, 'fast', false),
    gitCloneSparseContender(repository, 'fast', true)
  ]
}

/** Where last job's checkout is when the update-existing contenders start. */
type Start = 'behind' | 'unrelated'

/**
 * The action on a workspace that still holds last job's checkout, as on a self-hosted runner,
 * while the repository has moved on: updated in place (update-existing: auto), or the snapshot
 * plus its delta bundle replacing it (false). Served by the cachew-compatible test server.
 */
function updateExistingContender(
  repository: RepositoryId,
  updateExisting: 'auto' | 'false',
  start: Start,
  mode: 'in-place' | 'snapshot',
  label: string
): Contender {
  const how = updateExisting === 'auto' ? 'in-place' : 'snapshot'
  const from = start === 'behind' ? `${AHEAD_COMMITS}-behind` : 'unrelated'
  return {
    ...base(repository, 'fast', `update-${how}-${from}`, 'restore', label, 'pzstd'),
    async run(env, dir) {
      const r = on(env, repository)
      const server = r.inPlace
      if (!server) throw new SampleError('the cachew-compatible server is not running')
      const { mirror } = r.repository
      const inputs = {
        ...actionDefaults(),
        'server-url': server.url,
        repository: upstreamUrl(mirror.upstream, 'pzstd'),
        'update-existing': updateExisting,
        'fail-on-cache-miss': 'true',
        token: ''
      }
      const runner = await runnerEnvironment(dir, inputs, {
        commit: server.expected.commit,
        repository: repositorySlug(mirror.upstream, 'pzstd'),
        branch: mirror.branch
      })
      if (start === 'behind') {
        await lastJobsCheckout(runner.workspace, r.repository.snapshots.files.pzstd.file)
      } else {
        await unrelatedCheckout(runner.workspace, upstreamUrl(mirror.upstream, 'pzstd'))
      }
      const result = await measure([env.node, env.actionEntry], {
        env: runner.env,
        cwd: runner.workspace,
        timeoutMs: env.timeoutMs
      })
      requireSuccess('the action', result)
      const outputs = parseCommandFile(await fsp.readFile(runner.outputFile, 'utf8'))
      if (outputs['cache-hit'] !== 'true' || outputs['mode'] !== mode) {
        throw new SampleError(`cache-hit '${outputs['cache-hit']}', mode '${outputs['mode']}'`)
      }
      await verifyTree(runner.workspace, server.expected, ALWAYS_DEEP)
      return outcome(result, { details: actionDetails(outputs) })
    }
  }
}

export const ACTION_CONCURRENCIES = [1, 4, 8, 16, MEMORY_TARGET_CONCURRENCY]

/** The contenders every repository runs: the targets' numerators and denominators. */
function targetContenders(repository: RepositoryId, scenario: Scenario): Contender[] {
  return [
    actionContender(repository, scenario, DEFAULT_CONCURRENCY, 'pzstd'),
    curlPipelineContender(repository, scenario, false),
    curlPipelineContender(repository, scenario, true),
    gitCloneContender(repository, scenario, 'depth1', false),
    gitCloneContender(repository, scenario, 'depth1', true)
  ]
}

/** The generated repository: everything, as every earlier run measured it, and the rest. */
function generatedContenders(): Contender[] {
  const repo: RepositoryId = 'generated'
  const list: Contender[] = []
  for (const scenario of ['fast', 'throttled'] as Scenario[]) {
    for (const c of ACTION_CONCURRENCIES) list.push(actionContender(repo, scenario, c, 'pzstd'))
    list.push(actionRunnerCacheContender(repo, scenario))
    if (scenario === 'fast') list.push(actionContender(repo, scenario, 8, 'zstd'))
    list.push(curlPipelineContender(repo, scenario, false))
    if (scenario === 'fast') list.push(curlPipelineContender(repo, scenario, true))
    list.push(aria2Contender(repo, scenario), downloadEngineContender(repo, scenario, 8))
    if (scenario === 'fast') {
      list.push(downloadCurlContender(repo, scenario), extractCliContender(repo, scenario))
      list.push(extractEngineContender(repo, scenario))
      list.push(gitCloneContender(repo, scenario, 'full', false))
      list.push(gitCloneContender(repo, scenario, 'depth1', false))
      list.push(gitCloneContender(repo, scenario, 'depth1', true))
    }
  }
  list.push(...sparseContenders(repo))
  list.push(...targetContenders(repo, 'pinned'))
  const behind = `last job's checkout ${AHEAD_COMMITS} commits behind`
  list.push(
    updateExistingContender(
      repo,
      'auto',
      'behind',
      'in-place',
      `action, update-existing: auto, ${behind}`
    ),
    updateExistingContender(
      repo,
      'false',
      'behind',
      'snapshot',
      `action, update-existing: false, ${behind}`
    ),
    updateExistingContender(
      repo,
      'auto',
      'unrelated',
      'snapshot',
      'action, update-existing: auto, unrelated history (fetch cut off, then the snapshot)'
    )
  )
  return list
}

/** The real repository: the targets, the memory case, the one-frame snapshot, a full clone. */
function realContenders(): Contender[] {
  const repo: RepositoryId = 'real'
  return [
    ...targetContenders(repo, 'fast'),
    actionContender(repo, 'fast', MEMORY_TARGET_CONCURRENCY, 'pzstd'),
    actionContender(repo, 'fast', DEFAULT_CONCURRENCY, 'zstd'),
    gitCloneContender(repo, 'fast', 'full', false),
    actionContender(repo, 'throttled', DEFAULT_CONCURRENCY, 'pzstd'),
    actionContender(repo, 'throttled', MEMORY_TARGET_CONCURRENCY, 'pzstd'),
    curlPipelineContender(repo, 'throttled', false),
    ...targetContenders(repo, 'pinned'),
    ...sparseContenders(repo)
  ]
}

/** Every contender of these repositories, in the order one repetition runs them. */
export function allContenders(repositories: RepositoryId[]): Contender[] {
  const list: Contender[] = []
  if (repositories.includes('generated')) list.push(...generatedContenders())
  if (repositories.includes('small')) list.push(...targetContenders('small', 'fast'))
  if (repositories.includes('real')) list.push(...realContenders())
  return list
}

export function selectContenders(list: Contender[], only: string[]): Contender[] {
  if (only.length === 0) return list
  return list.filter(contender => only.some(filter => contender.id.includes(filter)))
}
