/**
 * submodules: true|recursive. After the superproject's commit is checked out, each submodule
 * of `.gitmodules` whose gitlink is in the commit is restored from its own cachew snapshot
 * when the restore offers them (SubmoduleSnapshots): the snapshot is extracted into a temp
 * directory, brought to the gitlink's commit there (ensure-refs and a fetch through cachew when
 * the snapshot lacks it, as for the superproject), then moved into place in the layout
 * `git submodule update --init` leaves: the working tree at the submodule's path, its git dir
 * absorbed at .git/modules/NAME with a relative core.worktree, a `.git` file pointing there by a
 * relative path, and submodule.NAME.active and .url in the superproject's config. With
 * recursive, the same follows inside each restored submodule.
 *
 * Every other submodule (cachew has no snapshot of it, its restore failed, its URL is not on the
 * superproject's https host, or the restore offers no snapshots: an update in place) is checked
 * out as actions/checkout does, by `git submodule sync` and `git submodule update --init
 * --force` (`--recursive`). git resolves a relative URL against origin's URL, which is still
 * the https upstream here (the snapshot's clone keeps it; setOrigin runs later), and the
 * fetches go through cachew by the same insteadOf route and credentials as the superproject's,
 * passed through the environment so every nested git inherits them.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { jobCancelled } from '../cancellation.js'
import type { CachewClient } from '../cachew/client.js'
import { CacheMissError, ExpectedError } from '../errors.js'
import type { RestoreSettings } from '../settings.js'
import { accessConfig, accessSecrets } from './access.js'
import { checkOut, makeIndexFresh, readStartingHead, refreshIndex, warnIfDirty } from './finish.js'
import { resolveDestination } from './freshen.js'
import { Git } from './git.js'
import { withRetries } from './retry.js'
import {
  isSafeSubmoduleName,
  isSafeSubmodulePath,
  plainHttpUrl,
  resolveSubmoduleUrl
} from './submodule-urls.js'

export interface SubmoduleLog {
  info(message: string): void
  /** A line the job's summary shows: a submodule that could not come from its snapshot. */
  notice(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export interface SubmodulesResult {
  /** Submodules checked out, nested ones included with recursive. */
  count: number
  /** Of those, the ones restored from their own snapshot. */
  fromSnapshot: number
}

/** What the restore lends the submodules: cachew's snapshots, downloaded and extracted. */
export interface SubmoduleSnapshots {
  /** How many submodules are restored at once (each download gets its share of the budget). */
  readonly parallel: number
  /** A new empty directory under the restore's temp directory, on the target's filesystem. */
  stagingDirectory(): Promise<string>
  /**
   * Downloads the snapshot of `repositoryUrl` and extracts it into `directory` (empty): the
   * blob ids of its working-tree files by path. CacheMissError when cachew has none (404).
   */
  extract(repositoryUrl: string, directory: string): Promise<ReadonlyMap<string, string>>
  /** The client for that repository's ensure-refs. */
  cachew(repositoryUrl: string): CachewClient
}

type SubmoduleSettings = Pick<
  RestoreSettings,
  | 'submodules'
  | 'serverUrl'
  | 'repositoryUrl'
  | 'authorization'
  | 'token'
  | 'gitThroughCachew'
  | 'tempDir'
>

/** One submodule of a repository's `.gitmodules` whose gitlink is in its HEAD commit. */
export interface Submodule {
  name: string
  /** Its path in the working tree, as `.gitmodules` and the gitlink name it. */
  path: string
  /** The URL as `.gitmodules` gives it (maybe relative). */
  url: string
  /** The gitlink's commit. */
  commit: string
  /**
   * Why git's update leaves it alone (it still initialises it): `update = none`, or outside
   * a sparse checkout. Such a submodule goes to git's route, silently, to be left as git
   * leaves it.
   */
  leftAlone?: 'update = none' | 'sparse'
}

/** A repository submodules are checked out in: the superproject, or a restored submodule. */
interface Container {
  worktree: string
  gitDir: string
  /** What its relative submodule URLs resolve against: its origin. */
  originUrl: string
  /** Its path below the superproject's working tree, for messages ('' for the superproject). */
  prefix: string
}

/**
 * Checks out the submodules the settings ask for, in the repository `git` runs in; undefined
 * with submodules: false or when the commit has no .gitmodules. Without `snapshots` (an update
 * in place), every submodule takes git's route.
 */
export async function updateSubmodules(
  git: Git,
  settings: SubmoduleSettings,
  log: SubmoduleLog,
  snapshots?: SubmoduleSnapshots
): Promise<SubmodulesResult | undefined> {
  if (settings.submodules === 'false') return undefined
  if (!(await hasGitmodules(git.directory))) return undefined
  const recursive = settings.submodules === 'recursive'
  const via = settings.gitThroughCachew ? 'through cachew' : 'from upstream'
  const run = new SubmoduleRun(settings, log, snapshots)
  if (snapshots) {
    log.info(
      `Checking out submodules${recursive ? ' recursively' : ''}: from their cachew snapshots, else ${via}`
    )
    const originUrl = (await originOf(git)) ?? settings.repositoryUrl
    await run.checkOutIn(git, {
      worktree: git.directory,
      gitDir: path.join(git.directory, '.git'),
      originUrl,
      prefix: ''
    })
  } else {
    log.info(`Checking out submodules${recursive ? ' recursively' : ''} ${via}`)
    await run.gitRoute(git, [])
  }
  const status = await git.read(['submodule', 'status', ...(recursive ? ['--recursive'] : [])])
  // '-': not initialised, as git leaves one with update = none or outside a sparse checkout.
  const count = status
    .split('\n')
    .filter(line => line.trim() !== '' && !line.startsWith('-')).length
  const restored = run.restored > 0 ? ` (${run.restored} from cachew snapshots)` : ''
  log.info(`Submodules: ${count} checked out${restored}.`)
  return { count, fromSnapshot: run.restored }
}

class SubmoduleRun {
  restored = 0
  /**
   * Placements one at a time: each writes the containing repository's config, and two git
   * processes writing one config at once would fail on its lock.
   */
  private placing: Promise<unknown> = Promise.resolve()
  private readonly recursive: boolean
  private readonly via: string

  constructor(
    private readonly settings: SubmoduleSettings,
    private readonly log: SubmoduleLog,
    private readonly snapshots: SubmoduleSnapshots | undefined
  ) {
    this.recursive = settings.submodules === 'recursive'
    this.via = settings.gitThroughCachew ? 'through cachew' : 'from upstream'
  }

  /**
   * The submodules of one repository: from snapshots, several at once, then git's route for
   * the rest, then (recursive) the same inside each restored one, one after another so that no
   * more than `parallel` snapshots download at once.
   */
  async checkOutIn(git: Git, container: Container): Promise<void> {
    const snapshots = this.snapshots as SubmoduleSnapshots
    const submodules = await listSubmodules(git)
    const byGit: string[] = []
    const restored: Container[] = []
    await eachLimited(submodules, snapshots.parallel, async submodule => {
      const shown = container.prefix + submodule.path
      if (submodule.leftAlone) {
        byGit.push(submodule.path)
        return
      }
      const url = this.snapshotUrlFor(container, submodule)
      if (url.reason !== undefined) {
        this.log.notice(
          `Submodule ${shown}: ${url.reason}; checking it out with git submodule update --init ${this.via}.`
        )
        byGit.push(submodule.path)
        return
      }
      try {
        restored.push(await this.restoreFromSnapshot(container, submodule, url.url, snapshots))
        this.restored++
      } catch (error) {
        if (jobCancelled.aborted) throw jobCancelled.reason
        if (error instanceof HalfRestoredError) throw error
        const reason =
          error instanceof CacheMissError
            ? 'cachew has no snapshot of it (HTTP 404)'
            : `its snapshot could not be restored (${(error as Error).message})`
        this.log.notice(
          `Submodule ${shown}: ${reason}; checking it out with git submodule update --init ${this.via}.`
        )
        byGit.push(submodule.path)
      }
    })
    if (byGit.length > 0) await this.gitRoute(git, byGit.sort())
    if (!this.recursive) return
    for (const inner of restored.sort((a, b) => a.prefix.localeCompare(b.prefix))) {
      const innerGit = new Git(inner.worktree, accessSecrets(this.settings), {
        signal: git.signal
      })
      if (await hasGitmodules(inner.worktree)) await this.checkOutIn(innerGit, inner)
    }
  }

  /** The https URL to ask cachew for, or why this submodule goes to git instead. */
  private snapshotUrlFor(
    container: Container,
    submodule: Submodule
  ): { url: string; reason?: undefined } | { reason: string } {
    if (!isSafeSubmoduleName(submodule.name) || !isSafeSubmodulePath(submodule.path)) {
      return { reason: 'its name or path is not one to restore into' }
    }
    const resolved = resolveSubmoduleUrl(container.originUrl, submodule.url)
    const url = resolved === undefined ? undefined : plainHttpUrl(resolved)
    if (resolved === undefined || url === undefined) {
      return { reason: `its URL (${submodule.url}) is not an https repository URL` }
    }
    // The credentials and the insteadOf route are the superproject's host's only.
    if (url.origin !== new URL(this.settings.repositoryUrl).origin) {
      return { reason: `it is on another host than the superproject (${url.host})` }
    }
    return { url: resolved }
  }

  /**
   * Restores one submodule from its snapshot, or throws with nothing of it left: the temp
   * directory goes on every path, and what was moved into place is taken out again
   * (HalfRestoredError when even that fails).
   */
  private async restoreFromSnapshot(
    container: Container,
    submodule: Submodule,
    url: string,
    snapshots: SubmoduleSnapshots
  ): Promise<Container> {
    const worktree = path.join(container.worktree, submodule.path)
    const gitDir = path.join(container.gitDir, 'modules', submodule.name)
    await requireFreshPlace(worktree, gitDir)
    const shown = container.prefix + submodule.path
    const stage = await snapshots.stagingDirectory()
    try {
      this.log.info(`Submodule ${shown}: restoring ${url} from its cachew snapshot.`)
      const blobIds = await snapshots.extract(url, stage)
      const stagedGit = path.join(stage, '.git')
      if (!(await fs.lstat(stagedGit).catch(() => undefined))?.isDirectory()) {
        throw new ExpectedError('the snapshot has no .git directory')
      }
      await this.bringToCommit(stage, blobIds, submodule, url, snapshots.cachew(url))
      const placed = this.placing.then(() =>
        placeSubmodule({ stage, worktree, gitDir, container, name: submodule.name, url })
      )
      this.placing = placed.catch(() => undefined)
      await placed
      this.log.info(`Submodule ${shown}: at ${submodule.commit}.`)
      return { worktree, gitDir, originUrl: url, prefix: `${shown}/` }
    } finally {
      await fs.rm(stage, { recursive: true, force: true })
    }
  }

  /**
   * In the staged clone: a fresh index from the extraction's blob ids, the gitlink's commit
   * made local (ensure-refs and a fetch through cachew when the snapshot lacks it) and checked
   * out detached, as `git submodule update` leaves it; origin named as .gitmodules resolves.
   */
  private async bringToCommit(
    stage: string,
    blobIds: ReadonlyMap<string, string>,
    submodule: Submodule,
    url: string,
    cachew: CachewClient
  ): Promise<void> {
    const git = new Git(stage, accessSecrets(this.settings))
    const { stale } = await makeIndexFresh(stage, blobIds, this.log)
    const start = await readStartingHead(git)
    const settings = { ...this.settings, repositoryUrl: url }
    const context = { git, settings, cachew, log: this.log }
    const { resolved } = await resolveDestination(
      context,
      { kind: 'commit', commit: submodule.commit },
      start,
      { fetchInstead: false }
    )
    const changed = await checkOut(git, resolved, start)
    if (changed || stale > 0) warnIfDirty(await refreshIndex(stage, git), this.log)
    await git.run(['config', 'remote.origin.url', url])
  }

  /** git's own route, for `paths` of the repository `git` runs in (all of them when empty). */
  async gitRoute(git: Git, paths: readonly string[]): Promise<void> {
    const recursive = this.recursive ? ['--recursive'] : []
    const only = paths.length > 0 ? ['--', ...paths] : []
    const config = accessConfig(this.settings)
    // sync matters for an update in place, where .gitmodules may name a new URL since an
    // earlier job initialised the submodule; on a fresh clone it has nothing to do.
    await git.run(['submodule', 'sync', '--quiet', ...recursive, ...only], { config })
    // git itself tries a failed submodule clone once more at the end of the update (2.39, as
    // tested here), but not a failed fetch into one it has; the update is retried as a whole
    // under the fetches' policy when it failed anyway, and then clones or fetches only what is
    // still missing.
    await withRetries(
      `git submodule update ${this.via}`,
      () =>
        git.run(['submodule', 'update', '--init', '--force', '--quiet', ...recursive, ...only], {
          config
        }),
      { log: this.log, signal: git.signal }
    )
  }
}

/** Moving a submodule into place failed, and so did taking it out again: not a fallback case. */
export class HalfRestoredError extends ExpectedError {
  override name = 'HalfRestoredError'
}

/**
 * The submodules of the repository `git` runs in: the entries of its `.gitmodules` (as in the
 * working tree, which the checkout just wrote) whose path is a gitlink in the index (at HEAD),
 * by path; those with `update = none` or outside a sparse checkout marked as git leaves them.
 */
export async function listSubmodules(git: Git): Promise<Submodule[]> {
  const read = await git.run(
    [
      'config',
      '--file',
      '.gitmodules',
      '-z',
      '--get-regexp',
      '^submodule\\..*\\.(path|url|update)$'
    ],
    { okExitCodes: [1] }
  )
  const entries = new Map<string, { path?: string; url?: string; update?: string }>()
  for (const record of read.stdout.split('\0')) {
    const newline = record.indexOf('\n')
    if (newline < 0) continue
    const key = record.slice(0, newline)
    const value = record.slice(newline + 1)
    const dot = key.lastIndexOf('.')
    const name = key.slice('submodule.'.length, dot)
    const variable = key.slice(dot + 1) as 'path' | 'url' | 'update'
    const entry = entries.get(name) ?? {}
    entry[variable] = value
    entries.set(name, entry)
  }
  const byPath = new Map<string, Omit<Submodule, 'path' | 'commit'>>()
  for (const [name, entry] of entries) {
    if (entry.path === undefined || byPath.has(entry.path)) continue
    const leftAlone = entry.update === 'none' ? ('update = none' as const) : undefined
    byPath.set(entry.path, { name, url: entry.url ?? '', ...(leftAlone && { leftAlone }) })
  }
  if (byPath.size === 0) return []
  // The index, just checked out at HEAD, rather than the tree: it also says which gitlinks a
  // sparse checkout leaves out (skip-worktree, tag S).
  const index = await git.read([
    '--literal-pathspecs',
    'ls-files',
    '-z',
    '--stage',
    '-t',
    '--',
    ...byPath.keys()
  ])
  const submodules: Submodule[] = []
  for (const line of index.split('\0')) {
    const match = /^([HS]) 160000 ([0-9a-f]{40,64}) 0\t(.+)$/s.exec(line)
    const known = match && byPath.get(match[3])
    if (!match || !known) continue
    const sparse = match[1] === 'S' && !known.leftAlone ? { leftAlone: 'sparse' as const } : {}
    submodules.push({ ...known, ...sparse, path: match[3], commit: match[2] })
  }
  return submodules.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** A submodule is only restored where nothing is yet: an empty (or absent) path, no git dir. */
async function requireFreshPlace(worktree: string, gitDir: string): Promise<void> {
  if (await fs.lstat(gitDir).catch(() => undefined)) {
    throw new ExpectedError(`its git directory ${gitDir} exists already`)
  }
  const stat = await fs.lstat(worktree).catch(() => undefined)
  if (!stat) return
  if (!stat.isDirectory() || (await fs.readdir(worktree)).length > 0) {
    throw new ExpectedError('its path is not an empty directory')
  }
}

interface Placement {
  /** The staged clone, at the gitlink's commit. */
  stage: string
  worktree: string
  gitDir: string
  container: Container
  name: string
  url: string
}

/**
 * Moves the staged clone into place as `git submodule update --init` lays a submodule out. The
 * whole staged directory is renamed onto the submodule's path in one step, so no file's ctime
 * changes and the index stays fresh; then its .git goes to the absorbed git dir. A failure
 * takes out what was moved and leaves the empty directory the checkout had made.
 */
async function placeSubmodule(placement: Placement): Promise<void> {
  const { stage, worktree, gitDir, container, name, url } = placement
  const containerConfig = path.join(container.gitDir, 'config')
  const git = new Git(container.worktree)
  // Taking it out again must finish even when the job's cancellation is what stopped it.
  const undoGit = new Git(container.worktree, [], { uncancellable: true })
  try {
    await fs.mkdir(path.dirname(worktree), { recursive: true })
    await fs.rmdir(worktree).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
    })
    await fs.rename(stage, worktree)
    await fs.mkdir(path.dirname(gitDir), { recursive: true })
    await fs.rename(path.join(worktree, '.git'), gitDir)
    await fs.writeFile(
      path.join(worktree, '.git'),
      `gitdir: ${posixRelative(worktree, gitDir)}\n`,
      { flag: 'wx' }
    )
    await git.run([
      'config',
      '--file',
      path.join(gitDir, 'config'),
      'core.worktree',
      posixRelative(gitDir, worktree)
    ])
    await git.run(['config', '--file', containerConfig, `submodule.${name}.active`, 'true'])
    await git.run(['config', '--file', containerConfig, `submodule.${name}.url`, url])
  } catch (error) {
    try {
      await fs.rm(gitDir, { recursive: true, force: true })
      await fs.rm(worktree, { recursive: true, force: true })
      await fs.mkdir(worktree, { recursive: true })
      await undoGit.run(
        ['config', '--file', containerConfig, '--remove-section', `submodule.${name}`],
        { okExitCodes: [128] }
      )
    } catch (undo) {
      throw new HalfRestoredError(
        `Could not take the partly restored submodule at ${worktree} out again (${(undo as Error).message}) after: ${(error as Error).message}`
      )
    }
    throw error
  }
}

/** A relative path with forward slashes, as git writes them into gitdir: and core.worktree. */
function posixRelative(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/')
}

/**
 * Runs `work` on every item, at most `limit` at once. After the first failure no new item
 * starts; the ones running finish, and that failure is thrown.
 */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]
      try {
        await work(item)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failure) throw failure.error
}

async function originOf(git: Git): Promise<string | undefined> {
  const read = await git.run(['config', '--get', 'remote.origin.url'], { okExitCodes: [1] })
  return read.stdout.trim() || undefined
}

async function hasGitmodules(directory: string): Promise<boolean> {
  try {
    return (await fs.lstat(path.join(directory, '.gitmodules'))).isFile()
  } catch {
    return false
  }
}
