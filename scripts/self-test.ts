/**
 * The self-test: the action restores a real snapshot from the project's cachew-compatible
 * test server, exactly as the workflow job in .github/workflows/self-test.yml runs it with
 * `uses: ./`, and the result is checked from the outside.
 *
 *   npx tsx scripts/self-test.ts start   # builds a mirror and a pzstd snapshot, starts the
 *                                        # server in the background on 127.0.0.1, prints its
 *                                        # outputs (and appends them to $GITHUB_OUTPUT)
 *   ...                                  # the workflow's `uses: ./` step restores here
 *   npx tsx scripts/self-test.ts check   # the restored tree and the step's outputs, from env
 *   npx tsx scripts/self-test.ts stop    # stops the server, prints what it served, cleans up
 *
 *   npx tsx scripts/self-test.ts local   # all of it on this machine: start, dist/index.js run
 *                                        # as the runner runs it, check, post step, stop
 *
 * `check` and `stop` find the fixtures through SELF_TEST_STATE (start's `state-dir` output)
 * or their first argument. `check` reads the tree from SELF_TEST_TREE and the action's outputs
 * from ACTION_CACHE_HIT, ACTION_COMMIT, ACTION_SNAPSHOT_COMMIT and ACTION_BUNDLE_APPLIED.
 *
 * The snapshot is one commit behind the mirror and the server offers the delta bundle, so a
 * good restore downloads with several ranged requests, applies the bundle, ends at the
 * mirror's head with a clean tree, and leaves git able to reach origin through cachew.
 *
 * Between workflow steps the server must outlive the process that started it: `start` spawns
 * it detached (its own process group, output to a log file) and records its pid; `stop`
 * signals that pid. The server also stops by itself after MAX_SERVER_LIFETIME_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { startCachewServer, type LoggedRequest } from '../__tests__/support/cachew-server.js'
import {
  addCommit,
  execTool,
  makeMirror,
  makeSnapshot,
  type Mirror
} from '../__tests__/support/fixtures.js'
import { runAction, type ActionRun } from '../__tests__/support/run-action.js'

const SCRIPT = fileURLToPath(import.meta.url)
const REPO_ROOT = path.resolve(path.dirname(SCRIPT), '..')

const STATE_FILE = 'state.json'
const SERVER_FILE = 'server.json'
const SERVED_FILE = 'served.json'
const LOG_FILE = 'server.log'

/** Where the workflow's `path` input puts the tree, relative to the workspace. */
const TREE_PATH = 'self-test-tree'
/** Small chunks so that the few MiB of snapshot take several ranged requests. */
const CHUNK_SIZE_MB = '1'

const SERVER_START_TIMEOUT_MS = 60_000
const SERVER_STOP_TIMEOUT_MS = 10_000
/** A forgotten server (a cancelled job, a crashed local run) goes away by itself. */
const MAX_SERVER_LIFETIME_MS = 30 * 60_000

/** What start built and what a correct restore must produce. */
interface SelfTestState {
  /** The upstream repository URL the action is asked to restore. */
  repository: string
  snapshotFile: string
  /** The commit inside the snapshot. */
  snapshotCommit: string
  /** The mirror's head, one commit past the snapshot: reached through the delta bundle. */
  commit: string
  mirror: Mirror
}

interface ServerInfo {
  url: string
  pid: number
}

/** What the server answered, written by the server process when it stops. */
interface ServedSummary {
  requests: number
  snapshotGets: number
  /** 206 answers to snapshot GETs: more than one means the download really was parallel. */
  rangedSnapshotAnswers: number
  bundleRequests: number
  gitRequests: number
  errors: number
}

/** The action's outputs that the check compares, as the step exposes them. */
interface ActionOutputs {
  cacheHit: string
  commit: string
  snapshotCommit: string
  bundleApplied: string
}

// ---------------------------------------------------------------- start

interface Started {
  dir: string
  state: SelfTestState
  server: ServerInfo
}

async function start(): Promise<Started> {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  const dir = await fs.mkdtemp(path.join(base, 'cachew-self-test-'))
  try {
    const state = await buildFixtures(dir)
    await writeJson(path.join(dir, STATE_FILE), state)
    const server = await launchServer(dir)
    return { dir, state, server }
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** A mirror, its pzstd snapshot, then one more commit that only the delta bundle carries. */
async function buildFixtures(dir: string): Promise<SelfTestState> {
  const mirror = await makeMirror(path.join(dir, 'repo'), {
    files: 600,
    commits: 2,
    fileSize: 8192
  })
  const snapshot = await makeSnapshot(mirror, path.join(dir, 'snapshot.tar.zst'), {
    compressor: 'pzstd'
  })
  const head = await addCommit(mirror, 'After the snapshot')
  return {
    repository: mirror.upstreamUrl,
    snapshotFile: snapshot.file,
    snapshotCommit: snapshot.commit,
    commit: head,
    mirror
  }
}

/** Spawns `serve` detached and waits until it has written its URL. */
async function launchServer(dir: string): Promise<ServerInfo> {
  const log = await fs.open(path.join(dir, LOG_FILE), 'a')
  let child: ChildProcess
  try {
    child = spawn(process.execPath, ['--import', tsxLoaderUrl(), SCRIPT, 'serve', dir], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', log.fd, log.fd]
    })
  } finally {
    await log.close()
  }
  let exited: string | undefined
  child.on('exit', (code, signal) => (exited = `exited (${signal ?? code})`))
  child.on('error', error => (exited = `could not start (${error.message})`))
  try {
    const info = await waitForServerFile(dir, () => exited)
    child.unref()
    return info
  } catch (error) {
    if (!exited) child.kill('SIGKILL')
    throw error
  }
}

/** The server process runs this file as TypeScript too. */
function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
}

async function waitForServerFile(
  dir: string,
  exited: () => string | undefined
): Promise<ServerInfo> {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const info = await readJson<ServerInfo>(path.join(dir, SERVER_FILE)).catch(() => undefined)
    if (info) return info
    const why = exited()
    if (why) throw new Error(`the test server ${why}:\n${await readLog(dir)}`)
    await sleep(100)
  }
  throw new Error(`the test server did not start in ${SERVER_START_TIMEOUT_MS / 1000} s`)
}

/** The lines a workflow step publishes as its outputs. */
function startOutputs(started: Started): Record<string, string> {
  return {
    'server-url': started.server.url,
    repository: started.state.repository,
    commit: started.state.commit,
    'snapshot-commit': started.state.snapshotCommit,
    'state-dir': started.dir
  }
}

async function publishOutputs(outputs: Record<string, string>): Promise<void> {
  const lines = Object.entries(outputs).map(([name, value]) => `${name}=${value}\n`)
  process.stdout.write(lines.join(''))
  const outputFile = process.env.GITHUB_OUTPUT
  if (outputFile) await fs.appendFile(outputFile, lines.join(''))
}

// ---------------------------------------------------------------- serve (the background process)

async function serve(dir: string): Promise<void> {
  const state = await readJson<SelfTestState>(path.join(dir, STATE_FILE))
  const server = await startCachewServer()
  server.addRepository(
    state.repository,
    { file: state.snapshotFile, commit: state.snapshotCommit, bundleBase: state.snapshotCommit },
    state.mirror
  )
  const info: ServerInfo = { url: server.url, pid: process.pid }
  // Written whole and then renamed, so start never reads half a file.
  await writeJson(path.join(dir, `${SERVER_FILE}.tmp`), info)
  await fs.rename(path.join(dir, `${SERVER_FILE}.tmp`), path.join(dir, SERVER_FILE))
  console.log(`Serving ${state.repository} at ${server.url} (pid ${process.pid}).`)

  const reason = await stopRequested(MAX_SERVER_LIFETIME_MS)
  console.log(`Stopping: ${reason}.`)
  await server.idle()
  const served = summarize(server.requests)
  await writeJson(path.join(dir, SERVED_FILE), served)
  console.log(`Served: ${JSON.stringify(served)}`)
  await server.close()
}

function stopRequested(lifetimeMs: number): Promise<string> {
  return new Promise(resolve => {
    const timer = setTimeout(() => resolve(`${lifetimeMs / 60_000} minutes are up`), lifetimeMs)
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        clearTimeout(timer)
        resolve(signal)
      })
    }
  })
}

function summarize(requests: readonly LoggedRequest[]): ServedSummary {
  const snapshotGets = requests.filter(
    r => r.method === 'GET' && r.path.includes('/snapshot.tar.zst')
  )
  return {
    requests: requests.length,
    snapshotGets: snapshotGets.length,
    rangedSnapshotAnswers: snapshotGets.filter(r => r.status === 206).length,
    bundleRequests: requests.filter(r => r.path.includes('/snapshot.bundle')).length,
    gitRequests: requests.filter(r => /\/(info\/refs|git-upload-pack)/.test(r.path)).length,
    errors: requests.filter(r => r.status >= 400).length
  }
}

// ---------------------------------------------------------------- check

/** Verifies the restored tree and the action's outputs; throws listing every problem. */
async function check(dir: string, tree: string, outputs: ActionOutputs): Promise<void> {
  const state = await readJson<SelfTestState>(path.join(dir, STATE_FILE))
  const problems: string[] = []
  const expect = (what: string, actual: string, expected: string): void => {
    if (actual !== expected) problems.push(`${what}: expected '${expected}', got '${actual}'`)
  }
  expect('output cache-hit', outputs.cacheHit, 'true')
  expect('output commit', outputs.commit, state.commit)
  expect('output snapshot-commit', outputs.snapshotCommit, state.snapshotCommit)
  expect('output bundle-applied', outputs.bundleApplied, 'true')
  try {
    expect('HEAD of the restored tree', await git(tree, 'rev-parse', 'HEAD'), state.commit)
    expect('git status --porcelain', await git(tree, 'status', '--porcelain'), '')
    expect('remote.origin.url', await git(tree, 'config', 'remote.origin.url'), state.repository)
    // Later steps reach origin through cachew with the configuration the action left.
    const remoteMain = (await git(tree, 'ls-remote', 'origin', 'refs/heads/main')).split('\t')[0]
    expect('main on origin, seen by git through cachew', remoteMain, state.commit)
  } catch (error) {
    problems.push(`git in ${tree}: ${(error as Error).message}`)
  }
  if (problems.length > 0) {
    throw new Error(`self-test failed:\n${problems.map(p => `  - ${p}`).join('\n')}`)
  }
  console.log(`Self-test passed: ${tree} is at ${state.commit}, clean, outputs as expected.`)
}

function outputsFromEnv(env: NodeJS.ProcessEnv): ActionOutputs {
  return {
    cacheHit: env.ACTION_CACHE_HIT ?? '',
    commit: env.ACTION_COMMIT ?? '',
    snapshotCommit: env.ACTION_SNAPSHOT_COMMIT ?? '',
    bundleApplied: env.ACTION_BUNDLE_APPLIED ?? ''
  }
}

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await execTool('git', ['-C', dir, ...args])).trim()
}

// ---------------------------------------------------------------- stop

/** Stops the server, removes the fixtures; returns what the server served (if it said). */
async function stop(dir: string): Promise<ServedSummary | undefined> {
  const info = await readJson<ServerInfo>(path.join(dir, SERVER_FILE)).catch(() => undefined)
  if (info) await terminate(info.pid)
  const served = await readJson<ServedSummary>(path.join(dir, SERVED_FILE)).catch(() => undefined)
  process.stdout.write(`--- test server log ---\n${await readLog(dir)}`)
  await fs.rm(dir, { recursive: true, force: true })
  return served
}

/** SIGTERM, then SIGKILL if the process is still there after SERVER_STOP_TIMEOUT_MS. */
async function terminate(pid: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return
  const deadline = Date.now() + SERVER_STOP_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) return
    await sleep(100)
  }
  console.warn(`The test server (pid ${pid}) ignored SIGTERM; killing it.`)
  signal(pid, 'SIGKILL')
}

/**
 * Whether the process still runs. An exited process that nobody has reaped yet (a container
 * whose init does not reap orphans) still answers signals, so Linux's state 'Z' counts as gone.
 */
async function isRunning(pid: number): Promise<boolean> {
  if (!signal(pid, 0)) return false
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return !/^\d+ \(.*\) Z/s.test(stat)
}

/** Sends a signal; false when the process is gone. */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

// ---------------------------------------------------------------- local

/** The workflow job on this machine: dist/index.js run as the runner runs `uses: ./`. */
async function local(): Promise<void> {
  const started = await start()
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'cachew-self-test-runner-'))
  let served: ServedSummary | undefined
  try {
    const workspace = path.join(scratch, 'workspace')
    const runnerTemp = path.join(scratch, 'runner-temp')
    await Promise.all([fs.mkdir(workspace), fs.mkdir(runnerTemp)])
    const options = {
      inputs: {
        'server-url': started.server.url,
        repository: started.state.repository,
        path: TREE_PATH,
        'download-chunk-size-mb': CHUNK_SIZE_MB
      },
      env: runnerEnvironment(),
      workspace,
      runnerTemp
    }
    const main = await runAction(options)
    requireSuccess('main step', main)
    await check(started.dir, path.join(workspace, TREE_PATH), {
      cacheHit: main.outputs['cache-hit'] ?? '',
      commit: main.outputs['commit'] ?? '',
      snapshotCommit: main.outputs['snapshot-commit'] ?? '',
      bundleApplied: main.outputs['bundle-applied'] ?? ''
    })
    // The runner runs the post step at the end of the job, after the check.
    requireSuccess('post step', await runAction({ ...options, post: true, state: main.state }))
  } finally {
    served = await stop(started.dir)
    await fs.rm(scratch, { recursive: true, force: true })
  }
  requireParallelDownload(served)
}

/**
 * What the runner sets for a push to another repository: the restored repository is not the
 * workflow's, so the action stays at the snapshot's head plus the bundle, as in the workflow.
 */
function runnerEnvironment(): Record<string, string> {
  return {
    GITHUB_REPOSITORY: 'example-owner/cachew-restore',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push'
  }
}

function requireSuccess(step: string, run: ActionRun): void {
  process.stdout.write(`--- action ${step} ---\n${run.stdout}`)
  if (run.exitCode !== 0) {
    process.stderr.write(run.stderr)
    throw new Error(`the action's ${step} exited with ${run.exitCode}`)
  }
}

function requireParallelDownload(served: ServedSummary | undefined): void {
  if (!served) throw new Error('the test server did not report what it served')
  if (served.rangedSnapshotAnswers < 2) {
    throw new Error(
      `expected a parallel ranged download, but the server answered ` +
        `${served.rangedSnapshotAnswers} ranged snapshot request(s): ${JSON.stringify(served)}`
    )
  }
}

// ---------------------------------------------------------------- helpers

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.writeFile(file, `${JSON.stringify(value, null, 2)}\n`)
}

async function readLog(dir: string): Promise<string> {
  return fs.readFile(path.join(dir, LOG_FILE), 'utf8').catch(() => '(no log)\n')
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function stateDirFrom(argument: string | undefined): string {
  const dir = argument || process.env.SELF_TEST_STATE
  if (!dir) throw new Error("give the state directory (start's state-dir) or set SELF_TEST_STATE")
  return dir
}

const USAGE = 'usage: self-test.ts start | check [STATE_DIR] | stop [STATE_DIR] | local'

async function main(command: string | undefined, argument: string | undefined): Promise<void> {
  switch (command) {
    case 'start':
      return publishOutputs(startOutputs(await start()))
    case 'serve':
      return serve(stateDirFrom(argument))
    case 'check': {
      const tree = process.env.SELF_TEST_TREE
      if (!tree) throw new Error('set SELF_TEST_TREE to the restored directory')
      return check(stateDirFrom(argument), tree, outputsFromEnv(process.env))
    }
    case 'stop':
      await stop(stateDirFrom(argument))
      return
    case 'local':
      return local()
    default:
      throw new Error(USAGE)
  }
}

main(process.argv[2], process.argv[3]).catch(error => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
