/**
 * Runs the bundled action (dist/index.js) the way the runner does: inputs as INPUT_<NAME>
 * (hyphens kept, upper-cased), GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files,
 * RUNNER_TEMP and GITHUB_WORKSPACE directories, on the Node that runs the tests (24).
 *
 *   const run = await runAction({ inputs: { 'server-url': server.url, repository: url } })
 *   run.exitCode, run.outputs['commit'], run.stdout, run.summary
 *
 * A post step is `runAction({ post: true, state: first.state, ... same dirs })`.
 *
 * HOME is a fresh empty directory for each run (or `home`, shared by main and post in
 * runActionWithPost), so what the action writes to the global git configuration
 * (set-safe-directory) never reaches the real user's.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDirectory } from './temp.js'

export const ACTION_ENTRY = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/index.js'
)

export interface RunOptions {
  inputs: Record<string, string>
  /** Extra environment (GITHUB_SHA, GITHUB_REF, ...); merged over a minimal runner env. */
  env?: Record<string, string>
  /** Existing directories to use; fresh temp dirs otherwise. */
  workspace?: string
  runnerTemp?: string
  /** HOME for the run, kept; a fresh one, removed after the run, otherwise. */
  home?: string
  /** Run as the post step, with the state the main step saved. */
  post?: boolean
  state?: Record<string, string>
  timeoutMs?: number
  /** A command that runs the action's process (strace -f ...): its words, before node's. */
  wrapper?: string[]
  /** Called once the action's process has started: to signal it, as a cancelling runner does. */
  onStart?: (child: ChildProcess) => void
}

export interface ActionRun {
  exitCode: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  workspace: string
  runnerTemp: string
}

/** Parses the runner's key/value file format: `name=value` lines and `name<<DELIM` blocks. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i])
      values[name] = body.join('\n')
    } else if (line.includes('=')) {
      const at = line.indexOf('=')
      values[line.slice(0, at)] = line.slice(at + 1)
    }
  }
  return values
}

export async function runAction(options: RunOptions): Promise<ActionRun> {
  const workspace = options.workspace ?? (await tempDirectory('ws-'))
  const runnerTemp = options.runnerTemp ?? (await tempDirectory('rt-'))
  const files = await tempDirectory('runner-files-')
  const home = options.home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'home-')))
  const outputFile = path.join(files, 'output')
  const stateFile = path.join(files, 'state')
  const summaryFile = path.join(files, 'summary')
  await Promise.all([outputFile, stateFile, summaryFile].map(f => fs.writeFile(f, '')))

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: stateFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...options.env
  }
  for (const [name, value] of Object.entries(options.inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value
  if (options.post) env.STATE_isPost = 'true'

  const [command, ...args] = [...(options.wrapper ?? []), process.execPath, ACTION_ENTRY]
  const child = spawn(command, args, {
    env,
    cwd: workspace,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  options.onStart?.(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => (stdout += d))
  child.stderr.on('data', d => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110_000)
  const exitCode = await new Promise<number | null>(resolve =>
    child.on('close', code => resolve(code))
  )
  clearTimeout(timer)

  const [outputs, state, summary] = await Promise.all([
    fs.readFile(outputFile, 'utf8').then(parseCommandFile),
    fs.readFile(stateFile, 'utf8').then(parseCommandFile),
    fs.readFile(summaryFile, 'utf8')
  ])
  await fs.rm(files, { recursive: true, force: true })
  if (options.home === undefined) await fs.rm(home, { recursive: true, force: true })
  return { exitCode, stdout, stderr, outputs, state, summary, workspace, runnerTemp }
}

/** Lists what is left in a directory (for the "RUNNER_TEMP is clean" checks). */
export async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort()
}

/**
 * Runs the main step and then, like the runner, the post step with the state main saved
 * and the same directories. Returns the main run; `post` is the post step's run.
 */
export async function runActionWithPost(
  options: RunOptions
): Promise<ActionRun & { post: ActionRun }> {
  const home = options.home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'home-')))
  try {
    const main = await runAction({ ...options, home })
    const post = await runAction({
      ...options,
      home,
      workspace: main.workspace,
      runnerTemp: main.runnerTemp,
      post: true,
      state: main.state
    })
    return { ...main, post }
  } finally {
    if (options.home === undefined) await fs.rm(home, { recursive: true, force: true })
  }
}

/** The log without the runner's ::add-mask:: commands, which carry secrets on purpose. */
export function visibleLog(run: ActionRun): string {
  return (run.stdout + run.stderr)
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
}
