/**
 * Extraction in process: the TarGate parses and judges each entry, and the extractor writes
 * it in the same pass, with synchronous fs calls, straight from the memory the bytes arrived
 * in. On babel/babel's 332 MB tar (40,743 entries) an extractor built this way takes what
 * GNU tar takes; fresh buffers per file and worker threads were measured and did worse
 * (page faults, and no gain from parallel file creation on 2 cores).
 *
 * The tree is what `tar -x --no-same-owner --no-same-permissions --delay-directory-restore`
 * makes of the same archive: files are created exclusively (never through a symlink, never
 * into something that was there); modes are the archive's permission bits under the umask
 * (executable bits kept; setuid, setgid and sticky dropped; no owners); files, symlinks and
 * the archive's directories get the archive's mtimes (directories last, deepest first, so a
 * read-only directory can still be filled); an entry that repeats an earlier one's path
 * replaces it, as both tars do. Directories the archive implies but does not list are made
 * with the umask's default mode and the time of extraction, as tar makes them.
 *
 * Known differences from GNU tar: Node sets times from a double, so a PAX mtime with
 * nanoseconds lands within a microsecond of it (BusyBox tar, the server's, writes whole
 * seconds); access times are the time of extraction (GNU tar leaves them as created).
 *
 * While writing, it computes the git blob id of every working-tree file and symlink (see
 * git-blobs.ts), so the index can be written without git reading the tree again.
 */
import * as fs from 'node:fs'
import { ArchiveError, ExpectedError } from '../errors.js'
import { formatBytes } from '../report/log.js'
import type { ByteSink } from './byte-sink.js'
import {
  BlobHasher,
  isWorktreePath,
  objectFormatOf,
  REPOSITORY_CONFIG,
  type ObjectFormat
} from './git-blobs.js'
import { StatRecorder } from './file-stats.js'
import { display, TarGate, type TarEntry, type TarGateOptions } from './tar-gate.js'

export interface ExtractResult {
  /** Entries extracted (skipped ones not counted). */
  entries: number
  /** Names of the entries skipped (devices, FIFOs), as onSkip was told them. */
  skipped: string[]
  /**
   * Git blob id (lowercase hex) of each working-tree file and symlink, by its path below the
   * directory ('a/b/c') as a latin1 string of the name's bytes. Absent for paths the archive
   * wrote before its `.git/config` declared SHA-256.
   */
  blobIds: Map<string, string>
  /**
   * The stat data of blobIds' regular files as the extractor left them (file-stats.ts), in
   * blobIds' order, STAT_FIELDS per path: what an lstat of each would give now, with zeros for
   * a path the extractor has none for (a symlink, a hard link or the file it links to). Valid
   * until something changes those files, such as a rename.
   */
  fileStats: Uint32Array<ArrayBuffer>
  /** Working-tree files and links not written because they are outside the sparse set. */
  sparseSkipped: number
}

export interface TarExtractorOptions extends TarGateOptions {
  /**
   * With a sparse checkout, which working-tree paths to write (src/archive/sparse-set.ts).
   * The others are never written: the gate still parses and judges them, their bytes are
   * read past, and directories of the working tree are made only when a kept entry needs
   * them (as git makes them), with the archive's mode and time when it lists them.
   */
  include?: (path: string) => boolean
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants
const CREATE_FILE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
/** A repository config is a few hundred bytes; a larger one is not read for the format. */
const MAX_CONFIG = 1024 * 1024
/** Errors that mean the archive contradicts itself (a file where it later needs a directory). */
const CONFLICTS = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY'])
/** Names are latin1 strings: a character above 0x7f is a byte that is not ASCII. */
const NOT_ASCII = /[\x80-\xff]/

/** Archive directories' metadata, applied in end(). */
interface DirectoryRestore {
  name: string
  mode: number
  mtime: number
}

/** Extracts a tar stream written to it into `directory`, an existing empty directory. */
export class TarExtractor implements ByteSink {
  private readonly gate: TarGate
  private readonly root: string
  private readonly rootBytes: Buffer
  private readonly umask = process.umask()
  /** The access time of everything extracted. */
  private readonly now = Date.now() / 1000
  /**
   * Directories on disk by path, with the permission bits they were made with (before the
   * umask; -1 for the root, made by someone else). Kept so no entry repeats a mkdir.
   */
  private readonly directories = new Map<string, number>([['', -1]])
  private readonly restores = new Map<string, DirectoryRestore>()
  /** The parent directory of the last entry made: it exists. */
  private lastParent: string | undefined
  private readonly skipped: string[] = []
  private readonly blobIds = new Map<string, string>()
  /** Stat data of files in blobIds, taken as each was closed; kept to follow blobIds. */
  private readonly stats = new StatRecorder()
  private readonly blobs = new BlobHasher()
  private readonly include: ((path: string) => boolean) | undefined
  /** Paths left out of the sparse set, so a hard link to one is left out too. */
  private readonly leftOut = new Set<string>()
  private sparseSkipped = 0
  private closed = false
  /** The file being written, its descriptor, and the bytes it still expects. */
  private file: TarEntry | undefined
  private fd = -1
  private left = 0
  /** Whether the file being written is hashed (it is in the working tree). */
  private hashing = false
  /** The repository config's bytes, while it is being written. */
  private config: Buffer | undefined
  private configLength = 0
  /** File bytes written so far, for the message when the disk fills. */
  private written = 0

  constructor(directory: string, options: TarExtractorOptions = {}) {
    const names = fs.readdirSync(directory)
    if (names.length > 0) {
      throw new Error(`Extraction directory ${directory} is not empty (${names.length} entries)`)
    }
    this.root = directory
    this.rootBytes = Buffer.from(directory)
    this.include = options.include
    const handler = {
      entry: (entry: TarEntry) => this.startEntry(entry),
      data: (bytes: Buffer) => this.writeData(bytes)
    }
    this.gate = new TarGate(handler, {
      ...options,
      onSkip: (entry, reason) => {
        this.skipped.push(entry)
        options.onSkip?.(entry, reason)
      }
    })
  }

  get result(): ExtractResult {
    return {
      entries: this.gate.entries,
      skipped: this.skipped,
      blobIds: this.blobIds,
      fileStats: this.stats.inOrderOf(this.blobIds),
      sparseSkipped: this.sparseSkipped
    }
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new Error('TarExtractor: write after close')
    try {
      this.gate.write(bytes)
    } catch (error) {
      throw this.failure(error, '')
    }
  }

  /** Checks the archive's end, then sets the directories' modes and times. */
  end(): void {
    if (this.closed) throw new Error('TarExtractor: end after close')
    try {
      this.gate.end()
    } catch (error) {
      throw this.failure(error, '')
    }
    this.restoreDirectories()
  }

  /**
   * Closes the file being written, if any, for a caller that stops feeding the extractor
   * before the end (its input failed). Idempotent; after it the extractor takes no input.
   */
  close(): void {
    this.closed = true
    this.closeFile()
  }

  private startEntry(entry: TarEntry): void {
    try {
      if (this.include !== undefined && this.leavesOut(entry)) return
      switch (entry.kind) {
        case 'file':
          return this.openFile(entry)
        case 'directory':
          return this.makeDirectory(entry)
        case 'symlink':
          return this.makeSymlink(entry)
        case 'hard link':
          return this.makeHardLink(entry)
      }
    } catch (error) {
      throw this.failure(error, entry.name)
    }
  }

  /**
   * Whether a sparse checkout leaves the entry out. A file left out still has its bytes in the
   * stream: `file` is set with no descriptor, so writeData reads past them.
   */
  private leavesOut(entry: TarEntry): boolean {
    if (!isWorktreePath(entry.path)) return false
    if (entry.kind === 'directory') {
      // Made when a kept entry needs it; its mode and time are applied then (if it was made).
      this.restores.set(entry.path, {
        name: entry.name,
        mode: entry.mode & 0o777,
        mtime: entry.mtime
      })
      return true
    }
    const kept =
      this.include!(entry.path) && !(entry.kind === 'hard link' && this.leftOut.has(entry.linkName))
    if (kept) {
      // An entry that repeats a path left out earlier replaces it.
      this.leftOut.delete(entry.path)
      return false
    }
    if (!this.leftOut.has(entry.path)) this.sparseSkipped++
    this.leftOut.add(entry.path)
    if (entry.kind === 'file' && entry.size > 0) {
      this.file = entry
      this.left = entry.size
    }
    return true
  }

  private openFile(entry: TarEntry): void {
    const full = this.prepare(entry)
    this.fd = this.replacing(entry.path, full, () =>
      fs.openSync(full, CREATE_FILE, entry.mode & 0o777)
    )
    this.file = entry
    this.left = entry.size
    this.hashing = isWorktreePath(entry.path)
    if (this.hashing) this.blobs.start(entry.size)
    if (entry.path === REPOSITORY_CONFIG && entry.size <= MAX_CONFIG) {
      this.config = Buffer.alloc(entry.size)
      this.configLength = 0
    }
    if (entry.size === 0) this.finishFile()
  }

  private writeData(bytes: Buffer): void {
    const entry = this.file!
    if (this.fd < 0) {
      // A file the sparse checkout leaves out.
      this.left -= bytes.length
      if (this.left === 0) this.file = undefined
      return
    }
    try {
      for (let done = 0; done < bytes.length;) {
        done += fs.writeSync(this.fd, bytes, done, bytes.length - done)
      }
      this.written += bytes.length
      if (this.hashing) this.blobs.update(bytes)
      if (this.config !== undefined) {
        this.configLength += bytes.copy(this.config, this.configLength)
      }
      this.left -= bytes.length
      if (this.left === 0) this.finishFile()
    } catch (error) {
      throw this.failure(error, entry.name)
    }
  }

  private finishFile(): void {
    const entry = this.file!
    fs.futimesSync(this.fd, this.now, timeArgument(entry.mtime))
    // The times were the file's last change (its ctime with them): an fstat now gives what an
    // lstat of the path would later, without the path walk. On babel/babel's 27,674 files this
    // costs this thread about 0.07 s of CPU and 1,000-1,500 minor faults, and saves the main
    // thread's index pass 0.10 s (0.16-0.20 s down to 0.06-0.10 s), after the extraction.
    if (this.hashing) this.stats.record(entry.path, fs.fstatSync(this.fd, { bigint: true }))
    this.closeFile()
    if (this.hashing) this.blobIds.set(entry.path, this.blobs.digest())
    this.hashing = false
    if (this.config !== undefined) {
      this.useFormat(objectFormatOf(this.config))
      this.config = undefined
    }
  }

  private closeFile(): void {
    this.file = undefined
    if (this.fd < 0) return
    const fd = this.fd
    this.fd = -1
    fs.closeSync(fd)
  }

  /**
   * The archive's format was SHA-1 until its config said otherwise. Ids computed before the
   * config arrived used the wrong hash and are dropped: those files stay stale for git, which
   * is correct, merely slower (git hashes them once on its first status).
   */
  private useFormat(format: ObjectFormat): void {
    if (format === this.blobs.format) return
    this.blobs.format = format
    this.blobIds.clear()
    this.stats.clear()
  }

  private makeDirectory(entry: TarEntry): void {
    if (entry.path !== '' && !this.directories.has(entry.path)) {
      const full = this.prepare(entry)
      // Writable and searchable for now; the archive's mode comes in end().
      const mode = (entry.mode & 0o777) | 0o700
      this.replacing(entry.path, full, () => fs.mkdirSync(full, mode))
      this.directories.set(entry.path, mode)
    }
    this.restores.set(entry.path, {
      name: entry.name,
      mode: entry.mode & 0o777,
      mtime: entry.mtime
    })
  }

  private makeSymlink(entry: TarEntry): void {
    const full = this.prepare(entry)
    this.replacing(entry.path, full, () => fs.symlinkSync(this.nameArgument(entry.linkName), full))
    fs.lutimesSync(full, this.now, timeArgument(entry.mtime))
    // No stat record: symlinks are few (none in babel/babel's snapshot), and the index writer
    // lstats what has none.
    if (isWorktreePath(entry.path)) {
      // Git stores a symlink as a blob of its target.
      const target = Buffer.from(entry.linkName, 'latin1')
      this.blobs.start(target.length)
      this.blobs.update(target)
      this.blobIds.set(entry.path, this.blobs.digest())
    }
  }

  private makeHardLink(entry: TarEntry): void {
    const full = this.prepare(entry)
    this.replacing(entry.path, full, () => fs.linkSync(this.fullPath(entry.linkName), full))
    // A link changes the ctime and link count of the file linked to: its record is stale, and
    // so would be one of the link (which has none: replacing() dropped any earlier one).
    this.stats.forget(entry.linkName)
    const id = this.blobIds.get(entry.linkName)
    if (id !== undefined && isWorktreePath(entry.path)) this.blobIds.set(entry.path, id)
    else this.blobIds.delete(entry.path)
  }

  /**
   * Makes the entry's missing parent directories; returns the path to create. Entries come
   * directory by directory, so comparing with the last parent saves most lookups in the map
   * of every directory (measured on 39,000 names against 13,000 directories: 16 ms looking
   * each up, 8-10 ms comparing first).
   */
  private prepare(entry: TarEntry): string | Buffer {
    const path = entry.path
    const slash = path.lastIndexOf('/')
    if (slash > 0) {
      const parent = path.slice(0, slash)
      if (parent !== this.lastParent && !this.directories.has(parent)) this.makeParents(path)
      this.lastParent = parent
    }
    return this.fullPath(path)
  }

  /**
   * Runs `make`, which creates `path`; when something is there already, an earlier entry's,
   * replaces it as both tars do: a file or link is removed, and so is an empty directory.
   * (Found by the failing call, so the usual case costs no lookup.)
   */
  private replacing<T>(path: string, full: string | Buffer, make: () => T): T {
    try {
      return make()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (this.directories.has(path)) {
      fs.rmdirSync(full)
      this.directories.delete(path)
      this.restores.delete(path)
      this.lastParent = undefined
    } else {
      fs.unlinkSync(full)
      this.blobIds.delete(path)
      this.stats.forget(path)
    }
    return make()
  }

  /** Makes the directories above `path` that do not exist yet, top down. */
  private makeParents(path: string): void {
    const missing: string[] = []
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      const parent = path.slice(0, end)
      if (this.directories.has(parent)) break
      missing.push(parent)
    }
    for (const parent of missing.reverse()) {
      const full = this.fullPath(parent)
      try {
        fs.mkdirSync(full, 0o777)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        // Not a directory (those are all known): tar fails here too.
        throw new ArchiveError(
          `Cannot extract '${display(path)}': '${display(parent)}' is not a directory`
        )
      }
      this.directories.set(parent, 0o777)
    }
  }

  private restoreDirectories(): void {
    const depth = (path: string) => (path === '' ? 0 : path.split('/').length)
    const deepestFirst = [...this.restores]
      .map(([path, restore]) => ({ path, depth: depth(path), ...restore }))
      .sort((a, b) => b.depth - a.depth)
    for (const { path, name, mode, mtime } of deepestFirst) {
      // A directory of the working tree that a sparse checkout did not need was never made.
      if (path !== '' && !this.directories.has(path)) continue
      try {
        const full = this.fullPath(path)
        const made = this.directories.get(path) ?? -1
        const wanted = mode & ~this.umask
        if (made < 0 || (made & ~this.umask) !== wanted) fs.chmodSync(full, wanted)
        fs.lutimesSync(full, this.now, timeArgument(mtime))
      } catch (error) {
        throw this.failure(error, name)
      }
    }
  }

  /** The path below the root for fs calls: a Buffer when the name's bytes are not ASCII. */
  private fullPath(path: string): string | Buffer {
    if (path === '') return this.root
    if (!NOT_ASCII.test(path)) return `${this.root}/${path}`
    return Buffer.concat([this.rootBytes, Buffer.from(`/${path}`, 'latin1')])
  }

  private nameArgument(name: string): string | Buffer {
    return NOT_ASCII.test(name) ? Buffer.from(name, 'latin1') : name
  }

  /**
   * The error to throw for a failure while extracting the entry `name`; closes the file. The
   * gate's own errors (and errors already explained) pass unchanged.
   */
  private failure(error: unknown, name: string): unknown {
    // A lower bound of what the tree needs: what is written, and the rest of this file.
    const needed = this.written + (this.file ? this.left : 0)
    try {
      this.closeFile()
    } catch {
      // The descriptor is gone either way; the first failure is the one to report.
    }
    const code = (error as NodeJS.ErrnoException).code
    if (error instanceof ExpectedError || typeof code !== 'string') return error
    if (code === 'ENOSPC' || code === 'EDQUOT') return this.diskFull(code, name, needed)
    const message = `Cannot extract '${display(name)}': ${(error as Error).message}`
    return CONFLICTS.has(code)
      ? new ArchiveError(`${message} (the archive contradicts one of its earlier entries)`)
      : new ExpectedError(message)
  }

  private diskFull(code: string, name: string, needed: number): ExpectedError {
    const what = code === 'EDQUOT' ? 'the disk quota on' : 'the filesystem of'
    return new ExpectedError(
      `Not enough disk space to extract the snapshot: ${what} ${this.root} ran out ` +
        `(${this.spaceLeft()}) after ${formatBytes(this.written)} of files, while writing ` +
        `'${display(name)}'; the tree needs at least ${formatBytes(needed)}. Free some space ` +
        'or restore to a larger volume.'
    )
  }

  private spaceLeft(): string {
    try {
      const stats = fs.statfsSync(this.root)
      const size = (blocks: number) => formatBytes(blocks * stats.bsize)
      const free = `${size(stats.bavail)} free of ${size(stats.blocks)}`
      return stats.ffree === 0 ? `${free}, no free inodes` : free
    } catch {
      return 'free space unknown'
    }
  }
}

/** Node turns a negative number of seconds into "now"; a Date keeps a time before 1970. */
function timeArgument(seconds: number): number | Date {
  return seconds >= 0 ? seconds : new Date(seconds * 1000)
}
