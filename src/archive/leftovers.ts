/**
 * Work directories a restore makes beside its target and in RUNNER_TEMP carry the pid of the
 * process that made them: `<prefix><pid>-<id>`. A restore that ends, fails or is cancelled
 * removes its own; one that was SIGKILLed cannot, so the next restore in the same place
 * removes those whose process is gone. On a self-hosted runner they would otherwise pile up,
 * hundreds of MB per killed job.
 *
 * A backup (the target's previous content during the swap) is removed only once the swap it
 * belongs to is certainly complete: its staging directory, which shares its id, is gone or
 * empty (every staged child moved in). A backup beside a staging directory that still holds
 * children means the swap was interrupted; both are kept, named in a warning, since the
 * backup may be the only copy of the previous content.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'

export const STAGING_PREFIX = '.cachew-restore-'
export const BACKUP_PREFIX = '.cachew-backup-'
export const SPOOL_PREFIX = 'cachew-restore-'
export const SPOOL_BESIDE_PREFIX = '.cachew-download-'

/** Creates `<parent>/<prefix><pid>-XXXXXX` (mkdtemp: exclusive, 0700). */
export function makeWorkDirectory(parent: string, prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(parent, `${prefix}${process.pid}-`))
}

/** The `<pid>-<id>` part of a work directory's name, or undefined for any other name. */
function parseName(name: string, prefix: string): { pid: number; id: string } | undefined {
  if (!name.startsWith(prefix)) return undefined
  const match = /^(\d+)-([A-Za-z0-9]+)$/.exec(name.slice(prefix.length))
  return match ? { pid: Number(match[1]), id: `${match[1]}-${match[2]}` } : undefined
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface SweepReport {
  removed: string[]
  /** Interrupted swaps: kept, with their backup, for a person to look at. */
  kept: string[]
}

/**
 * Removes the work directories under `parent` (of the given prefixes) that a process no longer
 * running left behind. Never throws: a leftover that cannot be removed is only reported.
 */
export async function sweepLeftovers(
  parent: string,
  prefixes: readonly string[],
  alive: (pid: number) => boolean = processAlive
): Promise<SweepReport> {
  const report: SweepReport = { removed: [], kept: [] }
  const names = await fs.readdir(parent).catch(() => [] as string[])
  const dead = (prefix: string) =>
    names.flatMap(name => {
      const parsed = parseName(name, prefix)
      return parsed && !alive(parsed.pid) ? [{ name, id: parsed.id }] : []
    })
  const remove = async (name: string): Promise<void> => {
    const full = path.join(parent, name)
    try {
      await fs.rm(full, { recursive: true, force: true })
      report.removed.push(full)
    } catch {
      report.kept.push(full)
    }
  }
  const backups = prefixes.includes(BACKUP_PREFIX) ? dead(BACKUP_PREFIX) : []
  const interrupted = new Set<string>()
  for (const backup of backups) {
    const staging = path.join(parent, `${STAGING_PREFIX}${backup.id}`)
    if (await holdsChildren(staging)) {
      interrupted.add(backup.id)
      report.kept.push(path.join(parent, backup.name), staging)
    } else {
      await remove(backup.name)
    }
  }
  for (const prefix of prefixes) {
    if (prefix === BACKUP_PREFIX) continue
    for (const leftover of dead(prefix)) {
      if (prefix === STAGING_PREFIX && interrupted.has(leftover.id)) continue
      await remove(leftover.name)
    }
  }
  return report
}

async function holdsChildren(directory: string): Promise<boolean> {
  const children = await fs.readdir(directory).catch(() => [] as string[])
  return children.length > 0
}

/** The backup's name for a staging directory: the same `<pid>-<id>`, so they pair up. */
export function backupNameFor(stagingDirectory: string): string {
  return BACKUP_PREFIX + path.basename(stagingDirectory).slice(STAGING_PREFIX.length)
}
