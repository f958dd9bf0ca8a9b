/**
 * A self-hosted runner keeps its disk between jobs: the last snapshot of each repository is
 * kept under RUNNER_TOOL_CACHE and revalidated with `If-None-Match` before the next restore,
 * so an unchanged snapshot costs one HEAD request instead of a download.
 *
 * Layout: `<RUNNER_TOOL_CACHE>/cachew-restore/<repository key>/`, holding `entry.json` (the
 * ETag, commit and size of the snapshot, and the name of its file) and that file,
 * `snapshot-<random>.tar.zst`. Every change is a rename, so two jobs at once never see half
 * an entry: a job stores its download under a fresh name, then swaps `entry.json`; a
 * reader opens the file the entry names and keeps its descriptor, so a file replaced or
 * evicted meanwhile stays readable to it. The total size is bounded: after a store, whole
 * repositories are evicted, least recently used first.
 */
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { formatBytes, type Log } from '../report/log.js'

type CacheLog = Pick<Log, 'info' | 'warning'>

const ENTRY_FILE = 'entry.json'
const SNAPSHOT_PREFIX = 'snapshot-'
/** How long a file no entry names may belong to a job between its two renames. */
const ORPHAN_GRACE_MS = 60 * 1000

export interface CacheEntry {
  etag: string
  commit?: string
  size: number
  /** File name inside the repository's directory. */
  file: string
}

/** A cached snapshot, opened: its descriptor stays valid whatever other jobs do meanwhile. */
export interface OpenedSnapshot {
  entry: CacheEntry
  /** The kept file's path, and the file opened: a job that replaces it meanwhile does not change what this reads. */
  file: string
  handle: fs.FileHandle
}

export class RunnerCache {
  private constructor(
    readonly root: string,
    private readonly maxBytes: number,
    private readonly log: CacheLog
  ) {}

  /** The cache under `toolCache`, or undefined when there is no place for it. */
  static async open(
    toolCache: string | undefined,
    maxBytes: number,
    log: CacheLog
  ): Promise<RunnerCache | undefined> {
    if (!toolCache) {
      log.info('The runner cache is on but RUNNER_TOOL_CACHE is not set: downloading as usual.')
      return undefined
    }
    const root = path.join(toolCache, 'cachew-restore')
    try {
      await fs.mkdir(root, { recursive: true })
    } catch (error) {
      log.warning(`The runner cache is unusable (${(error as Error).message}); downloading.`)
      return undefined
    }
    return new RunnerCache(root, maxBytes, log)
  }

  /** Opens the cached snapshot of a repository, if there is a sound one. */
  async lookup(serverUrl: string, repositoryUrl: string): Promise<OpenedSnapshot | undefined> {
    const directory = this.directoryFor(serverUrl, repositoryUrl)
    const entry = await readEntry(directory)
    if (!entry) return undefined
    const file = path.join(directory, entry.file)
    let handle: fs.FileHandle
    try {
      handle = await fs.open(file, 'r')
    } catch {
      return undefined // evicted or replaced between reading the entry and opening the file
    }
    if ((await handle.stat()).size !== entry.size) {
      await handle.close()
      this.log.info('The runner cache holds a snapshot of the wrong size; it will be replaced.')
      return undefined
    }
    return { entry, file, handle }
  }

  /** Marks a repository's entry as just used, for eviction. */
  async touch(serverUrl: string, repositoryUrl: string): Promise<void> {
    const now = new Date()
    const entryFile = path.join(this.directoryFor(serverUrl, repositoryUrl), ENTRY_FILE)
    await fs.utimes(entryFile, now, now).catch(() => undefined)
  }

  /**
   * Moves a downloaded snapshot into the cache (a rename when it is on the same filesystem,
   * a copy otherwise) and makes it the repository's entry. Never fails the restore: a
   * problem is logged and the cache is left as it was.
   */
  async store(
    serverUrl: string,
    repositoryUrl: string,
    file: string,
    entry: Omit<CacheEntry, 'file'>
  ): Promise<void> {
    const directory = this.directoryFor(serverUrl, repositoryUrl)
    try {
      if (entry.size > this.maxBytes) {
        this.log.info(
          `The snapshot (${formatBytes(entry.size)}) is larger than runner-cache-max-gb; not kept.`
        )
        return
      }
      await fs.mkdir(directory, { recursive: true })
      const name = `${SNAPSHOT_PREFIX}${randomBytes(6).toString('hex')}.tar.zst`
      await moveOrCopy(file, path.join(directory, name))
      await writeEntry(directory, { ...entry, file: name })
      await removeUnnamedSnapshots(directory, name)
      this.log.info(`Kept the snapshot in the runner cache for the next job (${directory}).`)
      await this.evict(directory)
    } catch (error) {
      this.log.warning(
        `Could not keep the snapshot in the runner cache: ${(error as Error).message}`
      )
    }
  }

  /** Forgets a repository's entry (its file turned out to be damaged). */
  async forget(serverUrl: string, repositoryUrl: string): Promise<void> {
    const directory = this.directoryFor(serverUrl, repositoryUrl)
    await fs.rm(path.join(directory, ENTRY_FILE), { force: true })
    await removeUnnamedSnapshots(directory, undefined).catch(() => undefined)
  }

  /** One directory per server and repository, named so a person can tell which is which. */
  directoryFor(serverUrl: string, repositoryUrl: string): string {
    const readable = new URL(repositoryUrl).pathname
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80)
    const key = createHash('sha256').update(`${serverUrl}\n${repositoryUrl}`).digest('hex')
    return path.join(this.root, `${readable}-${key.slice(0, 16)}`)
  }

  /** Removes whole repositories, least recently used first, until the cache fits. */
  private async evict(keep: string): Promise<void> {
    const repositories = await listRepositories(this.root)
    let total = repositories.reduce((sum, r) => sum + r.bytes, 0)
    for (const repository of repositories.sort((a, b) => a.usedAt - b.usedAt)) {
      if (total <= this.maxBytes) return
      if (repository.directory === keep) continue
      await fs.rm(repository.directory, { recursive: true, force: true })
      total -= repository.bytes
      this.log.info(`Runner cache over its limit: removed ${path.basename(repository.directory)}.`)
    }
  }
}

async function readEntry(directory: string): Promise<CacheEntry | undefined> {
  let text: string
  try {
    text = await fs.readFile(path.join(directory, ENTRY_FILE), 'utf8')
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as Partial<CacheEntry>
    const sound =
      typeof value.etag === 'string' &&
      value.etag !== '' &&
      typeof value.size === 'number' &&
      typeof value.file === 'string' &&
      value.file.startsWith(SNAPSHOT_PREFIX) &&
      !value.file.includes('/') &&
      (value.commit === undefined || typeof value.commit === 'string')
    return sound ? (value as CacheEntry) : undefined
  } catch {
    return undefined
  }
}

async function writeEntry(directory: string, entry: CacheEntry): Promise<void> {
  const temporary = path.join(directory, `.${ENTRY_FILE}-${randomBytes(6).toString('hex')}`)
  await fs.writeFile(temporary, JSON.stringify(entry), { mode: 0o644 })
  await fs.rename(temporary, path.join(directory, ENTRY_FILE))
}

async function moveOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to)
    return
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
  }
  // Another filesystem: copy under a hidden name first, so the rename is still the commit.
  const temporary = path.join(path.dirname(to), `.copy-${path.basename(to)}`)
  try {
    await fs.copyFile(from, temporary, fs.constants.COPYFILE_FICLONE)
    await fs.rename(temporary, to)
  } finally {
    await fs.rm(temporary, { force: true })
  }
}

/**
 * Removes snapshot files no entry names (replaced ones, leftovers of killed jobs). A file
 * renamed in during the last minute (a rename sets its ctime) may be another job's, between
 * its rename and its entry swap, and is left for a later store.
 */
async function removeUnnamedSnapshots(directory: string, named: string | undefined): Promise<void> {
  const now = Date.now()
  for (const name of await fs.readdir(directory)) {
    if (name === named || name === ENTRY_FILE) continue
    const file = path.join(directory, name)
    const stats = await fs.stat(file).catch(() => undefined)
    if (stats && now - stats.ctimeMs >= ORPHAN_GRACE_MS) await fs.rm(file, { force: true })
  }
}

interface CachedRepository {
  directory: string
  bytes: number
  usedAt: number
}

async function listRepositories(root: string): Promise<CachedRepository[]> {
  const repositories: CachedRepository[] = []
  for (const name of await fs.readdir(root)) {
    const directory = path.join(root, name)
    let bytes = 0
    let usedAt = 0
    try {
      for (const file of await fs.readdir(directory)) {
        const stats = await fs.stat(path.join(directory, file))
        bytes += stats.size
        if (file === ENTRY_FILE) usedAt = stats.mtimeMs
      }
    } catch {
      continue // removed by another job meanwhile, or not a directory
    }
    repositories.push({ directory, bytes, usedAt })
  }
  return repositories
}
