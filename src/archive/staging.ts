/**
 * A staging directory on the target's filesystem, so that putting the restored tree in
 * place is a handful of renames, and a failed restore leaves the target as it was.
 *
 * Layouts:
 *  - beside: `<parent>/.cachew-restore-<pid>-XXXXXX`, the usual case. An absent target is
 *    created by renaming the staging directory onto it.
 *  - inside: `<target>/.cachew-restore-<pid>-XXXXXX`, when the target is a mount point (a rename
 *    from its parent would cross filesystems) or its parent is not writable.
 * An existing target keeps its own inode (it may be a mount point, or the runner's working
 * directory): its children are swapped, never the directory itself.
 * What a killed restore left in either place is removed first (src/archive/leftovers.ts).
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { ExpectedError } from '../errors.js'
import {
  BACKUP_PREFIX,
  backupNameFor,
  makeWorkDirectory,
  STAGING_PREFIX,
  sweepLeftovers
} from './leftovers.js'

export interface Staging {
  readonly directory: string // empty directory on the target's filesystem to extract into
  /** Puts the staged tree at the target: an absent or empty target is replaced; a non-empty target keeps its old content until the new tree is complete, then the swap (old content removed only after the new tree is in place). On error the target is left exactly as it was. */
  commit(): Promise<void>
  /** Removes the staging directory (idempotent); the target is untouched. */
  discard(): Promise<void>
}

/** Seams for tests: the one filesystem call that moves things, and the mount-point probe. */
export interface StagingHooks {
  rename?: (from: string, to: string) => Promise<void>
  isMountPoint?: (directory: string) => Promise<boolean>
}

export interface StagingOptions extends StagingHooks {
  /** Told of leftovers of killed restores that had to be kept (an interrupted swap). */
  warn?: (message: string) => void
}

export async function prepareStaging(
  target: string,
  options: StagingOptions = {}
): Promise<Staging> {
  const resolved = await resolveTarget(target)
  await removeLeftovers(resolved, options.warn)
  const hooks = options
  const rename = hooks.rename ?? fs.rename
  if (!resolved.exists) {
    const directory = await createStaging(resolved.nearestExisting)
    return new AbsentTargetStaging(resolved.path, directory, rename)
  }
  const mountPoint = await (hooks.isMountPoint ?? isMountPoint)(resolved.path)
  const directory = mountPoint
    ? await createStaging(resolved.path)
    : await createStagingBeside(resolved.path)
  return new ExistingTargetStaging(resolved.path, directory, rename)
}

/** A directory whose device differs from its parent's is a mount point. */
export async function isMountPoint(directory: string): Promise<boolean> {
  const [own, parent] = await Promise.all([fs.stat(directory), fs.stat(path.dirname(directory))])
  return own.dev !== parent.dev || own.ino === parent.ino
}

interface ResolvedTarget {
  /** The target with symlinks in its existing part resolved. */
  path: string
  exists: boolean
  /** The deepest existing directory on the way to the target. */
  nearestExisting: string
}

async function resolveTarget(target: string): Promise<ResolvedTarget> {
  const absolute = path.resolve(target)
  let existing = absolute
  const missing: string[] = []
  for (;;) {
    try {
      const real = await fs.realpath(existing)
      const stat = await fs.stat(real)
      if (!stat.isDirectory()) {
        throw new ExpectedError(`The target ${existing} exists and is not a directory`)
      }
      const resolved = path.join(real, ...missing)
      return { path: resolved, exists: missing.length === 0, nearestExisting: real }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      missing.unshift(path.basename(existing))
      existing = path.dirname(existing)
    }
  }
}

/** Staging and backup directories of killed restores, beside the target and inside it. */
async function removeLeftovers(
  resolved: ResolvedTarget,
  warn: ((message: string) => void) | undefined
): Promise<void> {
  const places = resolved.exists
    ? [path.dirname(resolved.path), resolved.path]
    : [resolved.nearestExisting]
  for (const place of places) {
    const { kept } = await sweepLeftovers(place, [STAGING_PREFIX, BACKUP_PREFIX])
    if (kept.length > 0) {
      warn?.(
        `A restore that was killed left ${kept.join(' and ')}; kept, since a swap was interrupted ` +
          'and the backup may hold the previous content. Remove them once checked.'
      )
    }
  }
}

async function createStaging(parent: string): Promise<string> {
  const directory = await makeWorkDirectory(parent, STAGING_PREFIX)
  // mkdtemp makes it 0700; a target created from it should look like any new directory.
  await fs.chmod(directory, 0o755)
  return directory
}

/** Beside the target, or inside it when its parent is not writable. */
async function createStagingBeside(target: string): Promise<string> {
  try {
    return await createStaging(path.dirname(target))
  } catch (error) {
    if (!isPermissionError(error as NodeJS.ErrnoException)) throw error
    return createStaging(target)
  }
}

function isPermissionError(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EACCES' || error.code === 'EPERM' || error.code === 'EROFS'
}

abstract class BaseStaging implements Staging {
  private state: 'open' | 'committed' | 'discarded' = 'open'

  constructor(
    protected readonly target: string,
    readonly directory: string,
    protected readonly rename: (from: string, to: string) => Promise<void>
  ) {}

  async commit(): Promise<void> {
    if (this.state !== 'open')
      throw new Error(`Staging for ${this.target} is already ${this.state}`)
    this.state = 'committed'
    try {
      await this.putInPlace()
    } finally {
      await fs.rm(this.directory, { recursive: true, force: true })
    }
  }

  async discard(): Promise<void> {
    if (this.state === 'open') this.state = 'discarded'
    await fs.rm(this.directory, { recursive: true, force: true })
  }

  protected abstract putInPlace(): Promise<void>
}

/** The target does not exist: create its parents and rename the staging directory onto it. */
class AbsentTargetStaging extends BaseStaging {
  protected async putInPlace(): Promise<void> {
    const parent = path.dirname(this.target)
    const created = await fs.mkdir(parent, { recursive: true })
    try {
      await this.rename(this.directory, this.target)
    } catch (error) {
      if (created !== undefined) await removeCreatedParents(created, parent)
      throw error
    }
  }
}

/** Undoes `mkdir -p`: removes the directories it made, deepest first, if still empty. */
async function removeCreatedParents(firstCreated: string, deepest: string): Promise<void> {
  for (let dir = deepest; dir.length >= firstCreated.length; dir = path.dirname(dir)) {
    await fs.rmdir(dir).catch(() => undefined)
    if (dir === firstCreated) break
  }
}

/**
 * The target exists: its old children go to a backup directory on the same filesystem, the
 * staged children move in, and only then is the backup deleted. If a move fails, every move
 * made so far is undone in reverse order.
 */
class ExistingTargetStaging extends BaseStaging {
  protected async putInPlace(): Promise<void> {
    const own = new Set([path.basename(this.directory)])
    const oldChildren = (await fs.readdir(this.target)).filter(name => !own.has(name))
    const stagedChildren = await fs.readdir(this.directory)
    const backup = oldChildren.length > 0 ? await this.createBackup() : undefined
    const moves: Array<[string, string]> = []
    const move = async (from: string, to: string): Promise<void> => {
      await this.rename(from, to)
      moves.push([from, to])
    }
    try {
      for (const name of oldChildren)
        await move(path.join(this.target, name), path.join(backup!, name))
      for (const name of stagedChildren)
        await move(path.join(this.directory, name), path.join(this.target, name))
    } catch (error) {
      await this.undo(moves, backup, error)
      throw error
    }
    if (backup !== undefined) await removeBackup(backup)
  }

  /** Beside the staging directory, so on the target's filesystem in either layout. */
  private async createBackup(): Promise<string> {
    const backup = path.join(path.dirname(this.directory), backupNameFor(this.directory))
    await fs.mkdir(backup, { mode: 0o700 })
    return backup
  }

  /** Undoes the moves, newest first; one that fails does not stop the others. */
  private async undo(
    moves: Array<[string, string]>,
    backup: string | undefined,
    cause: unknown
  ): Promise<void> {
    const failures: string[] = []
    for (const [from, to] of moves.reverse()) {
      await this.rename(to, from).catch((error: Error) => failures.push(error.message))
    }
    if (failures.length === 0) {
      if (backup !== undefined) await fs.rmdir(backup)
      return
    }
    throw new ExpectedError(
      `Could not restore ${this.target} after a failed swap (${(cause as Error).message}): ` +
        `${failures.join('; ')}; its previous content may be in ${backup}`
    )
  }
}

/**
 * The new tree is in place by now, so a failure here must not fail the restore; the leftover
 * is named in a process warning (shown in the job log) instead.
 */
async function removeBackup(backup: string): Promise<void> {
  try {
    await fs.rm(backup, { recursive: true, force: true, maxRetries: 3 })
  } catch (error) {
    process.emitWarning(
      `Could not remove the previous content of the target, left in ${backup}: ${(error as Error).message}`
    )
  }
}
