/**
 * A small runner for the git CLI. Output is captured, never echoed, so nothing it runs can
 * print a secret to the log. Configuration that may hold a secret goes to git through the
 * GIT_CONFIG_COUNT/KEY/VALUE environment, never through argv, where any process on the
 * machine could read it.
 */
import { spawn } from 'node:child_process'
import { orCancelled } from '../cancellation.js'
import { ExpectedError } from '../errors.js'

/** One `key = value` git configuration entry. */
export interface ConfigEntry {
  key: string
  value: string
}

export interface GitRunOptions {
  /** Configuration for this command only, passed through the environment. */
  config?: readonly ConfigEntry[]
  /** Exit codes that are answers rather than failures (e.g. 1 from `merge-base --is-ancestor`). */
  okExitCodes?: readonly number[]
  /** Written to git's stdin (else stdin is closed): commands read by `update-ref --stdin`. */
  input?: string
}

export interface GitOutput {
  exitCode: number
  stdout: string
  stderr: string
}

/** A git command that failed; the message carries git's own explanation, secrets masked. */
export class GitError extends ExpectedError {
  override name = 'GitError'
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string
  ) {
    super(`git ${command} failed (exit ${exitCode})${stderr ? `: ${stderr}` : ''}`)
  }
}

/**
 * Variables that would point git at another repository, index or configuration than the one
 * we mean; a runner or a hook may have them set.
 */
const REPOSITORY_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX'
]

/** Replaces every occurrence of each secret with ***. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text
  for (const secret of secrets) {
    if (secret) masked = masked.split(secret).join('***')
  }
  return masked
}

/**
 * Builds the environment for one git process: ours plus `config` appended after any
 * GIT_CONFIG_COUNT entries already present, so a runner's own entries keep working.
 */
export function gitEnvironment(
  base: NodeJS.ProcessEnv,
  config: readonly ConfigEntry[] = []
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    GIT_TERMINAL_PROMPT: '0',
    GCM_INTERACTIVE: 'never',
    // The snapshot holds LFS pointers (cachew clones without smudging); LFS content comes from
    // its own snapshot, not from a download per file in the middle of our checkout.
    GIT_LFS_SKIP_SMUDGE: '1'
  }
  for (const name of REPOSITORY_VARIABLES) delete env[name]
  // libcurl reads only the lower-case http_proxy (a guard for CGI programs, which this is not),
  // while the action's own requests honour HTTP_PROXY too: git must take the same route.
  if (!env.http_proxy && env.HTTP_PROXY) env.http_proxy = env.HTTP_PROXY
  if (config.length === 0) return env
  const existing = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10)
  const first = Number.isInteger(existing) && existing > 0 ? existing : 0
  config.forEach((entry, i) => {
    env[`GIT_CONFIG_KEY_${first + i}`] = entry.key
    env[`GIT_CONFIG_VALUE_${first + i}`] = entry.value
  })
  env.GIT_CONFIG_COUNT = String(first + config.length)
  return env
}

/** What applies to every command of one runner. */
export interface GitDefaults {
  /** Configuration put before each command's own `config`. */
  config?: readonly ConfigEntry[]
  /** Aborting it kills the running command, which then rejects with the signal's reason. */
  signal?: AbortSignal
  /**
   * Commands run to their end even once the job is cancelled: putting a checkout back as it
   * was must not be cut short by the cancellation that made it necessary.
   */
  uncancellable?: boolean
}

/** Runs git in one repository directory. */
export class Git {
  constructor(
    readonly directory: string,
    /** Values masked out of every error message this runner produces. */
    private readonly secrets: readonly string[] = [],
    private readonly defaults: GitDefaults = {}
  ) {}

  /** The signal that aborts this runner's commands, if any. */
  get signal(): AbortSignal | undefined {
    return this.defaults.signal
  }

  /** Runs git; an exit code outside 0 and `okExitCodes` throws a GitError. */
  async run(args: readonly string[], options: GitRunOptions = {}): Promise<GitOutput> {
    const config = [...(this.defaults.config ?? []), ...(options.config ?? [])]
    const output = await spawnGit(
      this.directory,
      args,
      gitEnvironment(process.env, config),
      this.defaults.uncancellable ? this.defaults.signal : orCancelled(this.defaults.signal),
      options.input
    )
    const ok = output.exitCode === 0 || (options.okExitCodes ?? []).includes(output.exitCode)
    if (!ok) {
      const stderr = maskSecrets(output.stderr.trim(), this.secrets)
      throw new GitError(maskSecrets(args.join(' '), this.secrets), output.exitCode, stderr)
    }
    return output
  }

  /** Runs git and returns its stdout without the trailing newline. */
  async read(args: readonly string[], options: GitRunOptions = {}): Promise<string> {
    return (await this.run(args, options)).stdout.replace(/\n$/, '')
  }

  /** True when git exits 0, false when it exits 1 (a "no" answer); other codes throw. */
  async test(args: readonly string[]): Promise<boolean> {
    return (await this.run(args, { okExitCodes: [1] })).exitCode === 0
  }
}

function spawnGit(
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
  input?: string
): Promise<GitOutput> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    // An abortable git runs as a process group of its own, so an abort ends its helpers
    // too (a fetch's remote helper and index-pack); killing git alone can leave them running.
    const group = signal !== undefined && process.platform !== 'win32'
    const child = spawn('git', args, {
      cwd,
      env,
      // stdin is a pipe closed after `input` (at once without it): git reads end-of-file.
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: group,
      signal: group ? undefined : signal
    })
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
      } catch {
        // The group has already gone.
      }
    }
    if (group) signal.addEventListener('abort', killGroup, { once: true })
    // A git that exits before reading it all fails with its own message; EPIPE adds nothing.
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', error => {
      // After an abort, 'close' follows once every process holding git's output has gone.
      if (signal?.aborted) return
      reject(
        new ExpectedError(`Could not run git (is it installed and on PATH?): ${error.message}`)
      )
    })
    child.on('close', code => {
      signal?.removeEventListener('abort', killGroup)
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      resolve({
        exitCode: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8')
      })
    })
  })
}
