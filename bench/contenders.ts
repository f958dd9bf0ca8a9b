/**
 * Everything the benchmark times. Each contender runs one sample into a fresh, empty
 * directory, as a measured process tree, and then checks its own result; a sample that
 * fails or produces the wrong tree throws and counts as a failure, never as a time.
 *
 * Scenarios: `fast` is nginx on 127.0.0.1 as fast as loopback goes; `throttled` is the same
 * nginx with a per-connection `limit_rate`, as cloud object stores cap single streams.
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
import { measure, measureSteps, type Measured } from './measure.js'
import { BENCH_DIR } from './options.js'
import {
  FORMATS,
  snapshotPath,
  upstreamUrl,
  UPSTREAM_OWNER,
  type Format,
  type MirrorInfo,
  type SnapshotSet
} from './snapshots.js'
import { verifyFile, verifyTree, type TreeExpectation } from './verify.js'

export type Scenario = 'fast' | 'throttled'
export type Kind = 'restore' | 'download' | 'extract' | 'clone'

export interface Engine {
  /** argv prefix that runs bench/engine.ts: [node, bundle] or [node, --import, tsx, file]. */
  command: string[]
  /** How it was built, for the results ("ncc bundle", or why it runs through tsx). */
  how: string
}

export interface Environment {
  node: string
  actionEntry: string
  engine: Engine
  servers: Record<Scenario, string>
  gitUrl: string
  mirror: MirrorInfo
  snapshots: SnapshotSet
  /** The commit's paths, sizes and kinds, to check restored trees against. */
  manifest: TreeExpectation['manifest']
  timeoutMs: number
  /** The cachew-compatible server of the update-existing contenders, when any runs. */
  inPlace?: InPlaceServer
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
  /** What the contender reported about itself (the action's outputs, the engine's JSON). */
  details?: Record<string, string | number>
}

export interface Contender {
  id: string
  scenario: Scenario
  kind: Kind
  label: string
  /** Compressed bytes this contender moves over HTTP (for throughput figures). */
  bytes: number
  run(env: Environment, dir: string, sample: SampleContext): Promise<SampleOutcome>
}

export class SampleError extends Error {}

/** The action's defaults as the runner would fill them in from action.yml. */
function actionDefaults(): Record<string, string> {
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

function snapshotUrl(env: Environment, scenario: Scenario, format: Format): string {
  return `${env.servers[scenario]}/${snapshotPath(format)}`
}

function fullTree(env: Environment): TreeExpectation {
  return { commit: env.mirror.commit, commits: env.mirror.commits, manifest: env.manifest }
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
    ...extra
  }
}

/** The environment a GitHub runner gives the action's main step (see run-action.ts). */
async function runnerEnvironment(
  dir: string,
  inputs: Record<string, string>,
  context: { commit: string; repository: string }
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
    GITHUB_REF: 'refs/heads/main',
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
  dir: string,
  scenario: Scenario,
  format: Format,
  inputs: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {}
): Promise<{ result: Measured; outputs: Record<string, string> }> {
  const repository = `${UPSTREAM_OWNER}/${FORMATS[format].repo}`
  const allInputs = {
    ...actionDefaults(),
    'server-url': env.servers[scenario],
    repository: upstreamUrl(format),
    'fail-on-cache-miss': 'true',
    token: '',
    ...inputs
  }
  await fsp.mkdir(dir, { recursive: true })
  const runner = await runnerEnvironment(dir, allInputs, { commit: env.mirror.commit, repository })
  const result = await measure([env.node, env.actionEntry], {
    env: { ...runner.env, ...extraEnv },
    cwd: runner.workspace,
    timeoutMs: env.timeoutMs
  })
  requireSuccess('the action', result)
  const outputs = parseCommandFile(await fsp.readFile(runner.outputFile, 'utf8'))
  if (outputs['cache-hit'] !== 'true')
    throw new SampleError(`cache-hit is '${outputs['cache-hit']}'`)
  if (outputs['snapshot-commit'] !== env.mirror.commit) {
    throw new SampleError(`snapshot-commit output is '${outputs['snapshot-commit']}'`)
  }
  await verifyTree(runner.workspace, fullTree(env), ALWAYS_DEEP)
  return { result, outputs }
}

function actionDetails(outputs: Record<string, string>): Record<string, string | number> {
  const details: Record<string, string | number> = {}
  for (const name of ['seconds', 'download-seconds', 'download-bytes']) {
    if (outputs[name] !== undefined) details[name] = Number(outputs[name])
  }
  return details
}

function actionContender(scenario: Scenario, concurrency: number, format: Format): Contender {
  const suffix = format === 'pzstd' ? '' : `-${format}`
  return {
    id: `${scenario}/action-c${concurrency}${suffix}`,
    scenario,
    kind: 'restore',
    label: `action, concurrency ${concurrency}${format === 'pzstd' ? '' : ', one-frame zstd snapshot'}`,
    bytes: 0,
    async run(env, dir) {
      const { result, outputs } = await runActionSample(env, dir, scenario, format, {
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
function actionRunnerCacheContender(scenario: Scenario): Contender {
  return {
    id: `${scenario}/action-runner-cache`,
    scenario,
    kind: 'restore',
    label: 'action on a self-hosted runner, snapshot kept from the last job (runner cache)',
    bytes: 0,
    async run(env, dir) {
      const selfHosted = {
        RUNNER_ENVIRONMENT: 'self-hosted',
        RUNNER_TOOL_CACHE: path.join(dir, 'tool-cache')
      }
      await runActionSample(env, path.join(dir, 'first-job'), scenario, 'pzstd', {}, selfHosted)
      const { result, outputs } = await runActionSample(
        env,
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

function curlPipelineContender(scenario: Scenario): Contender {
  return {
    id: `${scenario}/curl-zstd-tar`,
    scenario,
    kind: 'restore',
    label: 'curl | zstd -dc | tar -x',
    bytes: 0,
    async run(env, dir, sample) {
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const script = 'set -o pipefail; curl -sSf "$1" | zstd -dc | tar -x -C "$2"'
      const url = snapshotUrl(env, scenario, 'pzstd')
      const result = await measure(['bash', '-c', script, 'bash', url, target], {
        timeoutMs: env.timeoutMs
      })
      requireSuccess('curl | zstd | tar', result)
      await verifyTree(target, fullTree(env), baselineCheck(sample))
      return outcome(result)
    }
  }
}

function aria2Contender(scenario: Scenario): Contender {
  return {
    id: `${scenario}/aria2c-then-tar`,
    scenario,
    kind: 'restore',
    label: 'aria2c -x8 -s8, then tar -I zstd -x',
    bytes: 0,
    async run(env, dir, sample) {
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
              snapshotUrl(env, scenario, 'pzstd')
            ]
          },
          { name: 'extract', command: ['tar', '-I', 'zstd', '-xf', file, '-C', target] }
        ],
        { timeoutMs: env.timeoutMs }
      )
      requireSuccess('aria2c, then tar', total)
      const snapshot = env.snapshots.files.pzstd
      await verifyFile(file, snapshot.bytes, snapshot.sha256)
      await verifyTree(target, fullTree(env), baselineCheck(sample))
      return outcome(total, { phases })
    }
  }
}

function gitCloneContender(shallow: boolean): Contender {
  return {
    id: `fast/git-clone${shallow ? '-depth1' : ''}`,
    scenario: 'fast',
    kind: 'clone',
    label: shallow ? 'git clone --depth=1 (http-backend)' : 'git clone (http-backend)',
    bytes: 0,
    async run(env, dir) {
      const target = path.join(dir, 'clone')
      const home = path.join(dir, 'home')
      await fsp.mkdir(home)
      const args = ['clone', '--quiet', ...(shallow ? ['--depth=1'] : [])]
      const result = await measure(['git', ...args, `${env.gitUrl}/mirror.git`, target], {
        env: { PATH: process.env.PATH ?? '', HOME: home, GIT_TERMINAL_PROMPT: '0' },
        timeoutMs: env.timeoutMs
      })
      requireSuccess('git clone', result)
      // git wrote the index itself, so its status check is cheap: always deep
      const expect = { ...fullTree(env), commits: shallow ? 1 : env.mirror.commits }
      await verifyTree(target, expect, ALWAYS_DEEP)
      return outcome(result)
    }
  }
}

function downloadCurlContender(scenario: Scenario): Contender {
  return {
    id: `${scenario}/download-curl`,
    scenario,
    kind: 'download',
    label: 'download only: curl -o FILE',
    bytes: 0,
    async run(env, dir) {
      const file = path.join(dir, 'snapshot.tar.zst')
      const url = snapshotUrl(env, scenario, 'pzstd')
      const result = await measure(['curl', '-sSf', '-o', file, url], { timeoutMs: env.timeoutMs })
      requireSuccess('curl', result)
      const snapshot = env.snapshots.files.pzstd
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

function downloadEngineContender(scenario: Scenario, concurrency: number): Contender {
  return {
    id: `${scenario}/download-engine-c${concurrency}`,
    scenario,
    kind: 'download',
    label: `download only: the action's engine, concurrency ${concurrency}`,
    bytes: 0,
    async run(env, dir) {
      const file = path.join(dir, 'snapshot.tar.zst')
      const url = snapshotUrl(env, scenario, 'pzstd')
      const args = ['download', url, file, String(concurrency), '16']
      const result = await measure([...env.engine.command, ...args], { timeoutMs: env.timeoutMs })
      requireSuccess('the download engine', result)
      const snapshot = env.snapshots.files.pzstd
      await verifyFile(file, snapshot.bytes, snapshot.sha256)
      return outcome(result, { details: parseEngineOutput(result.stdout) })
    }
  }
}

function extractCliContender(): Contender {
  return {
    id: 'fast/extract-cli',
    scenario: 'fast',
    kind: 'extract',
    label: 'decode+extract only: zstd -dc FILE | tar -x',
    bytes: 0,
    async run(env, dir, sample) {
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const script = 'set -o pipefail; zstd -dc "$1" | tar -x -C "$2"'
      const file = env.snapshots.files.pzstd.file
      const result = await measure(['bash', '-c', script, 'bash', file, target], {
        timeoutMs: env.timeoutMs
      })
      requireSuccess('zstd | tar', result)
      await verifyTree(target, fullTree(env), baselineCheck(sample))
      return outcome(result)
    }
  }
}

function extractEngineContender(): Contender {
  return {
    id: 'fast/extract-engine',
    scenario: 'fast',
    kind: 'extract',
    label: "decode+extract only: the action's in-process path",
    bytes: 0,
    async run(env, dir) {
      const target = path.join(dir, 'workspace')
      await fsp.mkdir(target)
      const args = ['extract', env.snapshots.files.pzstd.file, target]
      const result = await measure([...env.engine.command, ...args], { timeoutMs: env.timeoutMs })
      requireSuccess('the in-process decode+extract', result)
      await verifyTree(target, fullTree(env), ALWAYS_DEEP)
      return outcome(result, { details: parseEngineOutput(result.stdout) })
    }
  }
}

/** Where last job's checkout is when the update-existing contenders start. */
type Start = 'behind' | 'unrelated'

/**
 * The action on a workspace that still holds last job's checkout, as on a self-hosted runner,
 * while the repository has moved on: updated in place (update-existing: auto), or the snapshot
 * plus its delta bundle replacing it (false). Served by the cachew-compatible test server.
 */
function updateExistingContender(
  updateExisting: 'auto' | 'false',
  start: Start,
  mode: 'in-place' | 'snapshot',
  label: string
): Contender {
  const how = updateExisting === 'auto' ? 'in-place' : 'snapshot'
  const from = start === 'behind' ? `${AHEAD_COMMITS}-behind` : 'unrelated'
  return {
    id: `fast/update-${how}-${from}`,
    scenario: 'fast',
    kind: 'restore',
    label,
    bytes: 0,
    async run(env, dir) {
      const server = env.inPlace
      if (!server) throw new SampleError('the cachew-compatible server is not running')
      const inputs = {
        ...actionDefaults(),
        'server-url': server.url,
        repository: upstreamUrl('pzstd'),
        'update-existing': updateExisting,
        'fail-on-cache-miss': 'true',
        token: ''
      }
      const repository = `${UPSTREAM_OWNER}/${FORMATS.pzstd.repo}`
      const runner = await runnerEnvironment(dir, inputs, {
        commit: server.expected.commit,
        repository
      })
      if (start === 'behind') {
        await lastJobsCheckout(runner.workspace, env.snapshots.files.pzstd.file)
      } else {
        await unrelatedCheckout(runner.workspace)
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
      const details: Record<string, string | number> = {}
      for (const name of ['seconds', 'download-seconds', 'download-bytes']) {
        if (outputs[name] !== undefined) details[name] = Number(outputs[name])
      }
      return outcome(result, { details })
    }
  }
}

export const ACTION_CONCURRENCIES = [1, 4, 8, 16]

/** Every contender, in the order one repetition runs them (rotated between repetitions). */
export function allContenders(snapshots?: SnapshotSet): Contender[] {
  const list: Contender[] = []
  for (const scenario of ['fast', 'throttled'] as Scenario[]) {
    for (const c of ACTION_CONCURRENCIES) list.push(actionContender(scenario, c, 'pzstd'))
    list.push(actionRunnerCacheContender(scenario))
    if (scenario === 'fast') list.push(actionContender(scenario, 8, 'zstd'))
    list.push(curlPipelineContender(scenario), aria2Contender(scenario))
    list.push(downloadEngineContender(scenario, 8))
    if (scenario === 'fast') {
      list.push(downloadCurlContender(scenario), extractCliContender(), extractEngineContender())
      list.push(gitCloneContender(false), gitCloneContender(true))
    }
  }
  for (const contender of list) {
    if (snapshots && contender.kind !== 'clone' && contender.kind !== 'extract') {
      const format: Format = contender.id.endsWith('-zstd') ? 'zstd' : 'pzstd'
      contender.bytes = snapshots.files[format].bytes
    }
  }
  const behind = `last job's checkout ${AHEAD_COMMITS} commits behind`
  list.push(
    updateExistingContender(
      'auto',
      'behind',
      'in-place',
      `action, update-existing: auto, ${behind}`
    ),
    updateExistingContender(
      'false',
      'behind',
      'snapshot',
      `action, update-existing: false, ${behind}`
    ),
    updateExistingContender(
      'auto',
      'unrelated',
      'snapshot',
      'action, update-existing: auto, unrelated history (fetch cut off, then the snapshot)'
    )
  )
  return list
}

export function selectContenders(list: Contender[], only: string[]): Contender[] {
  if (only.length === 0) return list
  return list.filter(contender => only.some(filter => contender.id.includes(filter)))
}
