/**
 * Local git repositories for the src/git tests: an upstream bare repository, commits, and a
 * "snapshot" (a clone with origin set to the upstream's https URL, copied with tar so its
 * index has stale stat data, exactly like an extracted archive).
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import type { WorkflowContext } from '../src/git/workflow-ref.js'
import { chooseDestination, type RestoreSettings } from '../src/settings.js'

export const UPSTREAM_URL = 'https://git.example.test/acme/widgets'

const AUTHOR_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.test',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.test'
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...AUTHOR_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  }).replace(/\n$/, '')
}

/** Temp directories removed by cleanup(). */
export class TempDirs {
  private readonly made: string[] = []

  async make(prefix: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`))
    this.made.push(dir)
    return dir
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.made.splice(0).map(dir => fs.rm(dir, { recursive: true, force: true })))
  }
}

/** A bare upstream plus a work tree that pushes to it. */
export interface Upstream {
  bare: string
  work: string
}

export async function makeUpstream(dirs: TempDirs): Promise<Upstream> {
  const root = await dirs.make('upstream')
  const bare = path.join(root, 'bare.git')
  const work = path.join(root, 'work')
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare)
  git(root, 'init', '--quiet', '--initial-branch=main', work)
  git(work, 'remote', 'add', 'origin', bare)
  return { bare, work }
}

/** Commits the given files (path → content) on the work tree's branch and pushes it. */
export async function addCommit(
  upstream: Upstream,
  files: Record<string, string>,
  message = 'change'
): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(upstream.work, name)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, content)
  }
  git(upstream.work, 'add', '--all')
  git(upstream.work, 'commit', '--quiet', '-m', message)
  const branch = git(upstream.work, 'symbolic-ref', '--short', 'HEAD')
  git(upstream.work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`)
  return git(upstream.work, 'rev-parse', 'HEAD')
}

/**
 * A snapshot of the upstream as cachew makes one (a clone, origin = the upstream URL),
 * copied with tar into a fresh directory so every file's inode and ctime differ from the
 * index, as after extraction. `detach` leaves HEAD detached at the branch's commit.
 */
export async function makeStagedClone(
  dirs: TempDirs,
  upstream: Upstream,
  options: { detach?: boolean } = {}
): Promise<string> {
  const root = await dirs.make('snapshot')
  const clone = path.join(root, 'clone')
  git(root, 'clone', '--quiet', upstream.bare, clone)
  git(clone, 'remote', 'set-url', 'origin', UPSTREAM_URL)
  if (options.detach) git(clone, 'checkout', '--quiet', '--detach', 'HEAD')
  return copyTree(dirs, clone)
}

/** Copies a repository with tar into a new directory: same content, stale index stat data. */
export async function copyTree(dirs: TempDirs, source: string): Promise<string> {
  const copy = await dirs.make('staging')
  execFileSync('sh', ['-c', 'tar -C "$1" -cf - . | tar -C "$2" -xf -', 'sh', source, copy])
  return copy
}

/** A bundle taking `base` to the upstream's current `branch`, as cachew makes it. */
export async function makeBundle(
  dirs: TempDirs,
  upstream: Upstream,
  base: string,
  branch = 'main'
): Promise<string> {
  const file = path.join(await dirs.make('bundle'), 'delta.bundle')
  git(upstream.bare, 'bundle', 'create', '--quiet', file, `refs/heads/${branch}`, `^${base}`)
  return file
}

/** Index entries whose recorded inode or mtime differ from the file on disk. */
export async function staleIndexEntries(repo: string): Promise<string[]> {
  const debug = git(repo, 'ls-files', '--debug')
  const stale: string[] = []
  let name = ''
  for (const line of debug.split('\n')) {
    if (!line.startsWith(' ')) {
      name = line
      continue
    }
    const mtime = /mtime: (\d+):(\d+)/.exec(line)
    const inode = /ino: (\d+)/.exec(line)
    const stat = await fs.lstat(path.join(repo, name), { bigint: true })
    if (mtime && BigInt(mtime[1]) !== stat.mtimeMs / 1000n) stale.push(name)
    if (inode && BigInt(inode[1]) !== stat.ino % 2n ** 32n) stale.push(name)
  }
  return [...new Set(stale)]
}

/** Overrides of restoreSettings; `ref` is the input the destination is chosen from. */
export type SettingsOverrides = Partial<RestoreSettings> & { ref?: string }

/**
 * Complete RestoreSettings for the git functions, with the given overrides; the destination
 * is chosen from `ref`, keep-snapshot-head and `workflow` as readSettings chooses it.
 */
export function restoreSettings(
  overrides: SettingsOverrides = {},
  workflow: WorkflowContext = {}
): RestoreSettings {
  const { ref = '', ...rest } = overrides
  const settings: Omit<RestoreSettings, 'destination'> = {
    serverUrl: 'http://127.0.0.1:9',
    repositoryUrl: UPSTREAM_URL,
    target: os.tmpdir(),
    workspace: os.tmpdir(),
    tempDir: os.tmpdir(),
    downloadConcurrency: 1,
    chunkSizeBytes: 1024 * 1024,
    stallTimeoutMs: 30_000,
    applyBundle: true,
    failOnCacheMiss: false,
    keepSnapshotHead: false,
    persistCredentials: true,
    setSafeDirectory: true,
    gitThroughCachew: true,
    runnerCacheMaxBytes: 0,
    updateExisting: 'auto',
    lfs: false,
    showProgress: true,
    clean: true,
    superseded: [],
    submodules: 'false',
    ...rest
  }
  const destination =
    rest.destination ??
    chooseDestination(
      { ref, keepSnapshotHead: settings.keepSnapshotHead, repositoryUrl: settings.repositoryUrl },
      workflow
    )
  return { ...settings, destination }
}

/** A log that records what it was told. */
export function recordingLog(): {
  lines: string[]
  debugLines: string[]
  info(message: string): void
  notice(message: string): void
  warning(message: string): void
  debug(message: string): void
} {
  const lines: string[] = []
  const debugLines: string[] = []
  return {
    lines,
    debugLines,
    info: message => lines.push(`info: ${message}`),
    notice: message => lines.push(`notice: ${message}`),
    warning: message => lines.push(`warning: ${message}`),
    debug: message => debugLines.push(message)
  }
}
