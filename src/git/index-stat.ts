/**
 * Makes an extracted snapshot's index clean without rehashing the tree. After extraction every
 * index entry's stat data (ctime, mtime, dev, inode, uid, gid, size) describes the files on the
 * machine that made the snapshot, so git would read and hash every file once to find them
 * unchanged (`git update-index --refresh`: 1.1 s of one core for babel/babel's 182 MB). The
 * extractor already hashed each file as its bytes passed; this module takes those blob ids and,
 * for every entry whose id and file type match, writes the file's stat data into the entry in
 * place: the extractor's own record of it (src/archive/file-stats.ts) when it has one, else
 * the file's lstat. Nothing else in the index changes, so every extension stays valid; the
 * trailing checksum is recomputed. An entry that does not match keeps its stale stat data, and
 * git goes on seeing it as possibly changed and checks its content as it always would.
 *
 * Measured on babel/babel's snapshot (27,674 entries, 5 MB index; bench/index-stat.ts, medians
 * of 5-7 alternating runs, 2 cores): 0.15 s wall, 0.16 s CPU, 2,200 minor faults on a tmpfs
 * (0.14 s, 0.15 s, 1,500 on journaled ext4), against 0.49 s, 0.50 s, 4,200 (0.55 s, 0.57 s,
 * 4,150) for `git update-index --refresh`; the index written is byte for byte git's, and the
 * first `git status` after either costs the same (0.17-0.20 s) and opens no tracked file.
 * Taking the extractor's record instead of an lstat per file halves the pass: one call per
 * fresh process, on a tmpfs, medians of 7 alternating, 0.10 s wall, 0.09 s CPU, 4,200 minor
 * faults against 0.20 s, 0.20 s, 5,500 with lstat, writing the same bytes.
 *
 * The layout (gitformat-index(5)): a 12-byte header ("DIRC", version, entry count), the
 * entries, the extensions (4-byte signature, 32-bit size, data), then a hash of everything
 * before it. An entry starts with ten 32-bit big-endian fields: ctime s, ctime ns, mtime s,
 * mtime ns, dev, ino, mode, uid, gid, size; then the object id, 16-bit flags, in version 3+ an
 * optional 16-bit extended flags field, then the path: NUL-padded to a multiple of 8 bytes in
 * versions 2 and 3, prefix-compressed against the previous path and unpadded in version 4.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import { MODE_FIELD, recordOffsets, STAT_FIELDS, storeStat } from '../archive/file-stats.js'

export interface IndexStatResult {
  /** Entries whose stat data now matches their file. */
  updated: number
  /**
   * Entries left stale: no id, id differs, type or mode differs, missing file, skip-worktree,
   * intent-to-add, gitlink, a conflict stage: every entry not updated (updated + stale is the
   * index's entry count).
   */
  stale: number
  /**
   * Set when the index was left untouched because a case is not handled; the caller then runs
   * `git update-index --refresh` and logs this reason at debug level. Both counts are 0 then.
   */
  fallback?: string
}

/** What one repository's configuration says about reading its index and files. */
interface RepositoryFormat {
  /** Length in bytes of object ids and of the index's trailing checksum. */
  hashLength: 20 | 32
  hashName: 'sha1' | 'sha256'
  /** core.filemode: whether git compares the executable bit. */
  fileMode: boolean
  /** core.symlinks: whether symlinks are checked out as links (else as plain files). */
  symlinks: boolean
}

const SIGNATURE = 0x44495243 // "DIRC"
const HEADER_LENGTH = 12
/** ctime, mtime (s and ns each), dev, ino, mode, uid, gid, size: ten 32-bit fields. */
const STAT_LENGTH = STAT_FIELDS * 4
const MODE_OFFSET = MODE_FIELD * 4

const FLAG_EXTENDED = 0x4000
const FLAG_STAGE_MASK = 0x3000
const NAME_MASK = 0x0fff
const EXTENDED_SKIP_WORKTREE = 0x4000
const EXTENDED_INTENT_TO_ADD = 0x2000
/** Extended flag bits git knows; any other set bit makes git refuse the index. */
const EXTENDED_KNOWN = EXTENDED_SKIP_WORKTREE | EXTENDED_INTENT_TO_ADD

const MODE_REGULAR = 0o100644
const MODE_EXECUTABLE = 0o100755
const MODE_SYMLINK = 0o120000
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const S_IXUSR = 0o100

/** Char codes of '0'-'9', 'a'-'f'. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', c => c.charCodeAt(0))
/** Index paths are decoded one char per byte, so a char above 0x7f is a byte above 0x7f. */
const NON_ASCII = /[\x80-\xff]/

class Fallback extends Error {}

/**
 * `fileStats`, when given, is the extractor's stat data of blobIds' files
 * (ExtractResult.fileStats), written for the entries it has one for instead of an lstat; only
 * while nothing has changed those files since (a rename changes a ctime).
 */
export async function writeIndexStat(
  worktree: string,
  blobIds: ReadonlyMap<string, string>,
  fileStats?: Uint32Array
): Promise<IndexStatResult> {
  const gitDir = path.join(worktree, '.git')
  try {
    const gitDirStat = await lstatOrUndefined(gitDir)
    // A gitfile (worktree, submodule) or a symlink points at a git directory elsewhere: a
    // snapshot is a plain clone, so anything else is not the layout this module was made for.
    if (!gitDirStat?.isDirectory()) throw new Fallback('.git is not a directory')
    const format = await readRepositoryFormat(gitDir)
    return await patchLocked(worktree, gitDir, format, blobIds, fileStats)
  } catch (error) {
    if (error instanceof Fallback) return { updated: 0, stale: 0, fallback: error.message }
    throw error
  }
}

/**
 * Takes `index.lock` the way git does (created exclusively) before reading the index, so no
 * git process can write the index between our read and our rename; then writes the patched
 * copy to the lock and renames it over the index. The lock is removed on every other path.
 */
async function patchLocked(
  worktree: string,
  gitDir: string,
  format: RepositoryFormat,
  blobIds: ReadonlyMap<string, string>,
  fileStats: Uint32Array | undefined
): Promise<IndexStatResult> {
  const indexPath = path.join(gitDir, 'index')
  const lockPath = `${indexPath}.lock`
  let lock: fsp.FileHandle
  try {
    lock = await fsp.open(lockPath, 'wx')
  } catch (error) {
    // EEXIST: another git process holds the index (or one died holding it). Git refuses to
    // write then, and so do we; the caller's git command reports it in git's own words.
    throw new Fallback(`cannot create ${path.basename(lockPath)}: ${errorCode(error)}`)
  }
  let renamed = false
  try {
    const index = await readIndexFile(indexPath)
    const layout = parseIndex(index.data, format)
    const counts = refreshEntries(worktree, index.data, layout, format, blobIds, fileStats)
    // Nothing verified: the index stays as it was, byte for byte, and git finds out the rest.
    if (counts.updated === 0) return counts
    if (!layout.zeroTrailer) {
      const body = index.data.subarray(0, index.data.length - format.hashLength)
      createHash(format.hashName).update(body).digest().copy(index.data, body.length)
    }
    // Racy git: git trusts an entry's stat data only if the entry's mtime is older than the
    // index file's own mtime (to the second; to the nanosecond in a USE_NSEC build), since a
    // file changed in the same tick as the index write could otherwise pass for clean. A
    // snapshot's mtimes are those of cachew's clone, older than this write, so every entry
    // written here is trusted. A file whose mtime is not older (a clock ahead of the runner's,
    // a file touched during extraction) is written too, its id having been verified; git then
    // compares that one file's content on each command, finds it clean, and stops once an index
    // write is newer than the file (`git status` makes that write itself). The test 'keeps a
    // file whose mtime is not older than the index clean' shows it.
    try {
      await lock.writeFile(index.data)
      // git creates the index with 0666 & ~umask, widened under core.sharedRepository; keeping
      // the old file's permissions keeps whichever of those applied.
      await lock.chmod(index.mode & 0o7777)
      await lock.close()
      await fsp.rename(lockPath, indexPath)
      renamed = true
    } catch (error) {
      throw new Fallback(`cannot write the index: ${errorCode(error)}`)
    }
    return counts
  } finally {
    if (!renamed) {
      await lock.close().catch(() => undefined)
      await fsp.rm(lockPath, { force: true })
    }
  }
}

async function readIndexFile(indexPath: string): Promise<{ data: Buffer; mode: number }> {
  let handle: fsp.FileHandle
  try {
    handle = await fsp.open(indexPath, 'r')
  } catch (error) {
    // A clone always has an index; without one there is nothing to patch (a --no-checkout
    // clone), and the caller's git decides what that means.
    const code = errorCode(error)
    throw new Fallback(code === 'ENOENT' ? 'no index' : `cannot open the index: ${code}`)
  }
  try {
    const { size, mode } = await handle.stat()
    const data = Buffer.allocUnsafe(size)
    let filled = 0
    while (filled < size) {
      const { bytesRead } = await handle.read(data, filled, size - filled, filled)
      if (bytesRead === 0) throw new Fallback('the index shrank while it was read')
      filled += bytesRead
    }
    return { data, mode }
  } finally {
    await handle.close()
  }
}

/**
 * Where each entry starts and where its path bytes lie, after the whole file was checked.
 * Paths become strings only in the pass that looks them up, so that none outlives its entry.
 */
interface IndexLayout {
  version: number
  offsets: Uint32Array
  /** The path's bytes (version 4: the suffix after the varint), up to the NUL. */
  nameStarts: Uint32Array
  nameEnds: Uint32Array
  /** Version 4: how many bytes of the previous path to drop before the suffix. */
  drops: Uint32Array
  /** index.skipHash: git wrote no checksum, and a zero trailer must stay zero. */
  zeroTrailer: boolean
}

/**
 * Checks the header, the checksum, every entry's bounds and the extensions, and throws a
 * Fallback for anything this module must not patch. Nothing is written before all of it passed.
 */
function parseIndex(data: Buffer, format: RepositoryFormat): IndexLayout {
  const { hashLength } = format
  if (data.length < HEADER_LENGTH + hashLength) throw new Fallback('the index is truncated')
  if (data.readUInt32BE(0) !== SIGNATURE) throw new Fallback('the index has no DIRC signature')
  const version = data.readUInt32BE(4)
  if (version < 2 || version > 4) throw new Fallback(`index version ${version} is not handled`)
  const trailerStart = data.length - hashLength
  // index.skipHash writes zeros instead of the hash, and git then verifies nothing either; the
  // structural checks below are all that stands between a damaged file and a patch, as in git.
  const zeroTrailer = isZero(data, trailerStart, data.length)
  if (!zeroTrailer) {
    const actual = createHash(format.hashName).update(data.subarray(0, trailerStart)).digest()
    if (!actual.equals(data.subarray(trailerStart))) {
      throw new Fallback(`the index checksum does not match (${format.hashName})`)
    }
  }
  const count = data.readUInt32BE(8)
  const offsets = new Uint32Array(count)
  const nameStarts = new Uint32Array(count)
  const nameEnds = new Uint32Array(count)
  const drops = new Uint32Array(version === 4 ? count : 0)
  const fixedLength = STAT_LENGTH + hashLength + 2
  let offset = HEADER_LENGTH
  let previousLength = 0 // version 4: the previous path's, which the next one is relative to
  for (let i = 0; i < count; i++) {
    if (offset + fixedLength > trailerStart) throw new Fallback('an index entry is truncated')
    offsets[i] = offset
    const flags = data.readUInt16BE(offset + fixedLength - 2)
    let nameStart = offset + fixedLength
    if (flags & FLAG_EXTENDED) {
      // Version 2 has no extended flags; git writes version 3 as soon as one entry needs them.
      if (version < 3) throw new Fallback('an extended flag in a version 2 index')
      if (nameStart + 2 > trailerStart) throw new Fallback('an index entry is truncated')
      const extended = data.readUInt16BE(nameStart)
      if (extended & ~EXTENDED_KNOWN) throw new Fallback('an unknown extended index flag')
      nameStart += 2
    }
    const nameLength = flags & NAME_MASK
    if (version === 4) {
      const parsed = readPrefix(data, nameStart, trailerStart, previousLength)
      const length = previousLength - parsed.drop + (parsed.nul - parsed.suffix)
      if (nameLength !== NAME_MASK && length !== nameLength) {
        throw new Fallback('an index entry name does not match its length')
      }
      nameStarts[i] = parsed.suffix
      nameEnds[i] = parsed.nul
      drops[i] = parsed.drop
      previousLength = length
      offset = parsed.nul + 1
    } else {
      const nameEnd =
        nameLength === NAME_MASK ? data.indexOf(0, nameStart + NAME_MASK) : nameStart + nameLength
      if (nameEnd < 0 || nameEnd >= trailerStart || data[nameEnd] !== 0) {
        throw new Fallback('an index entry name is not terminated')
      }
      nameStarts[i] = nameStart
      nameEnds[i] = nameEnd
      // 1 to 8 NULs pad the entry to a multiple of 8 bytes, counted from the entry's start.
      offset += (nameEnd - offset + 8) & ~7
    }
  }
  checkExtensions(data, offset, trailerStart)
  return { version, offsets, nameStarts, nameEnds, drops, zeroTrailer }
}

/**
 * Version 4: a varint N (the pack format's offset encoding) says how many bytes to drop from
 * the end of the previous path, then a NUL-terminated suffix follows.
 */
function readPrefix(
  data: Buffer,
  start: number,
  limit: number,
  previousLength: number
): { drop: number; suffix: number; nul: number } {
  let at = start
  if (at >= limit) throw new Fallback('an index entry is truncated')
  let byte = data[at++]
  let drop = byte & 0x7f
  while (byte & 0x80) {
    // No path is near 2^20 bytes long; stopping there also keeps the arithmetic exact.
    if (at >= limit || drop > 1 << 20) throw new Fallback('an index entry name is malformed')
    byte = data[at++]
    drop = (drop + 1) * 128 + (byte & 0x7f)
  }
  if (drop > previousLength) throw new Fallback('an index entry name is malformed')
  const nul = data.indexOf(0, at)
  if (nul < 0 || nul >= limit) throw new Fallback('an index entry name is not terminated')
  return { drop, suffix: at, nul }
}

/**
 * The extensions must exactly fill the space between the entries and the trailer. We change no
 * extension's bytes, and their offsets stay where they are, so each remains valid: TREE and
 * REUC hold object ids, UNTR and FSMN their own stat data and bitmaps, EOIE and IEOT offsets
 * and sizes, none of which move. Git's rule for the rest: a signature starting with A-Z may be
 * ignored by a reader that does not know it, any other is required to read the index right.
 */
function checkExtensions(data: Buffer, start: number, trailerStart: number): void {
  if (start > trailerStart) throw new Fallback('an index entry is truncated')
  let offset = start
  while (offset < trailerStart) {
    if (offset + 8 > trailerStart) throw new Fallback('an index extension is truncated')
    const signature = data.toString('latin1', offset, offset + 4)
    const size = data.readUInt32BE(offset + 4)
    if (size > trailerStart - offset - 8) throw new Fallback('an index extension is truncated')
    if (signature === 'link') {
      // A split index: most entries live in $GIT_DIR/sharedindex.<hash>, and this file's
      // entries replace or add to those by position. Patching both files right is a second
      // format for a setting (core.splitIndex) no snapshot is made with.
      throw new Fallback('split index (link extension)')
    }
    const optional = data[offset] >= 0x41 && data[offset] <= 0x5a
    // sdir marks a sparse index: some entries are directories (mode 040000, skip-worktree),
    // which the entry loop skips like every skip-worktree entry; the file entries are ordinary.
    if (!optional && signature !== 'sdir') {
      throw new Fallback(`unknown required index extension '${printable(signature)}'`)
    }
    offset += 8 + size
  }
}

/**
 * Writes stat data into every entry that qualifies (isCandidate, a matching id, matchesMode)
 * and counts the rest. The stat data is the extractor's record where `fileStats` has one,
 * else an lstat of the file. The lstat is synchronous: the files were just written, so their
 * inodes are cached and each call is a short path walk, which the thread pool's round trip
 * would cost more than. Measured on babel/babel's 27,674 paths on a tmpfs: lstatSync 75-145
 * ms; fs.lstat callbacks 400-530 ms with 4 in flight, 210-300 ms with 64. The syscalls were
 * most of this function's time (a CPU profile: 110 ms of 140 ms), hence the record.
 */
function refreshEntries(
  worktree: string,
  data: Buffer,
  layout: IndexLayout,
  format: RepositoryFormat,
  blobIds: ReadonlyMap<string, string>,
  fileStats: Uint32Array | undefined
): { updated: number; stale: number } {
  const { offsets, nameStarts, nameEnds, drops, version } = layout
  const { hashLength } = format
  const flagsAt = STAT_LENGTH + hashLength
  const prefix = worktree.endsWith(path.sep) ? worktree : worktree + path.sep
  const recorded = fileStats === undefined ? undefined : recordOffsets(blobIds, fileStats)
  const lstatFields = new Uint32Array(STAT_FIELDS)
  // Only a name as long as a wanted one can be wanted: when few are (the top-level files after
  // a move into place), the other entries are passed over without making a string of their
  // names. babel/babel, 40 top-level names among 27,674 entries: the pass in 27 ms instead of
  // 35 ms (medians of 5).
  const lengths = new Set<number>()
  for (const name of blobIds.keys()) lengths.add(name.length)
  let previous = ''
  let updated = 0
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]
    let name: string | undefined
    if (version === 4) {
      // Every path is needed for the next one, candidate or not.
      const kept = previous.length - drops[i]
      name = previous =
        previous.slice(0, kept) + data.toString('latin1', nameStarts[i], nameEnds[i])
    }
    const mode = data.readUInt32BE(offset + MODE_OFFSET)
    if (!isCandidate(data, offset, flagsAt, version, mode)) continue
    if (!lengths.has(name?.length ?? nameEnds[i] - nameStarts[i])) continue
    name ??= data.toString('latin1', nameStarts[i], nameEnds[i])
    const id = blobIds.get(name)
    if (id === undefined || !idEquals(data, offset + STAT_LENGTH, hashLength, id)) continue
    let stat = fileStats
    let at = recorded?.get(name)
    if (stat === undefined || at === undefined) {
      // A path of other bytes than ASCII is passed as those bytes: a string would be re-encoded.
      const file = NON_ASCII.test(name)
        ? Buffer.concat([Buffer.from(prefix), Buffer.from(name, 'latin1')])
        : prefix + name
      if (!lstatInto(file, lstatFields)) continue
      stat = lstatFields
      at = 0
    }
    if (!matchesMode(stat[at + MODE_FIELD], mode, format)) continue
    writeStat(data, offset, stat, at)
    updated++
  }
  return { updated, stale: offsets.length - updated }
}

/**
 * Only stage-0 regular files and symlinks are compared with a blob id:
 * - a conflict stage (1-3) names no single file state; a snapshot never holds one;
 * - a gitlink (160000) is a submodule: git checks its HEAD, not stat data, and it has no blob;
 * - a sparse-directory entry (040000) is no file;
 * - skip-worktree: git does not look at the working-tree copy, which sparse checkout may have
 *   removed; claiming stat data for it would describe a file git has agreed to ignore;
 * - intent-to-add: the entry holds the empty blob as a placeholder, not the file's content;
 *   git reports such an entry as changed whatever its stat data says, and an empty file would
 *   otherwise "match" the placeholder.
 */
function isCandidate(
  data: Buffer,
  offset: number,
  flagsAt: number,
  version: number,
  mode: number
): boolean {
  if (mode !== MODE_REGULAR && mode !== MODE_EXECUTABLE && mode !== MODE_SYMLINK) return false
  const flags = data.readUInt16BE(offset + flagsAt)
  if (flags & FLAG_STAGE_MASK) return false
  if (version >= 3 && flags & FLAG_EXTENDED) {
    const extended = data.readUInt16BE(offset + flagsAt + 2)
    if (extended & (EXTENDED_SKIP_WORKTREE | EXTENDED_INTENT_TO_ADD)) return false
  }
  return true
}

/**
 * The checks git makes from lstat alone before it trusts stat data: a regular entry needs a
 * regular file whose owner-executable bit agrees (when core.filemode is on), a symlink entry a
 * symlink (or, with core.symlinks off, the plain file git checks such links out as).
 */
function matchesMode(statMode: number, entryMode: number, format: RepositoryFormat): boolean {
  const type = statMode & S_IFMT
  if (entryMode === MODE_SYMLINK) return type === S_IFLNK || (!format.symlinks && type === S_IFREG)
  if (type !== S_IFREG) return false
  if (!format.fileMode) return true
  return (entryMode === MODE_EXECUTABLE) === ((statMode & S_IXUSR) !== 0)
}

/** Whether `hex` (lowercase) spells the `length` bytes at `at`, without making a string. */
function idEquals(data: Buffer, at: number, length: number, hex: string): boolean {
  if (hex.length !== 2 * length) return false
  for (let i = 0; i < length; i++) {
    const byte = data[at + i]
    if (hex.charCodeAt(2 * i) !== HEX_DIGITS[byte >> 4]) return false
    if (hex.charCodeAt(2 * i + 1) !== HEX_DIGITS[byte & 15]) return false
  }
  return true
}

/** Stores the file's lstat data in `into` (file-stats.ts); false when there is none. */
function lstatInto(file: string | Buffer, into: Uint32Array): boolean {
  let stat: fs.BigIntStats | undefined
  try {
    stat = fs.lstatSync(file, { bigint: true, throwIfNoEntry: false })
  } catch {
    // ENOTDIR (a file where a directory should be), EACCES, ENAMETOOLONG: the entry stays
    // stale and git finds out what is there itself.
    return false
  }
  if (stat === undefined) return false
  storeStat(stat, into, 0)
  return true
}

/** Writes the stat fields at `at` into the entry, all but the mode, which stays the entry's. */
function writeStat(data: Buffer, offset: number, stat: Uint32Array, at: number): void {
  for (let field = 0; field < STAT_FIELDS; field++) {
    if (field !== MODE_FIELD) data.writeUInt32BE(stat[at + field], offset + 4 * field)
  }
}

function isZero(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (data[i] !== 0) return false
  return true
}

/**
 * Reads the three settings that decide how the index is read and what git compares, from the
 * repository's own config file. That is where git reads extensions.objectformat from (never
 * from global or included files). core.filemode and core.symlinks may also come from global
 * or included config; the defaults assumed here (both on, as git clone writes them on Linux)
 * are the strict reading: with either really off, an entry may stay stale that git would
 * have found clean, never the other way round.
 */
async function readRepositoryFormat(gitDir: string): Promise<RepositoryFormat> {
  let text: string
  try {
    text = await fsp.readFile(path.join(gitDir, 'config'), 'latin1')
  } catch (error) {
    throw new Fallback(`cannot read the repository config: ${errorCode(error)}`)
  }
  const values = readConfigValues(text, [
    'extensions.objectformat',
    'core.filemode',
    'core.symlinks'
  ])
  const objectFormat = (values.get('extensions.objectformat') ?? 'sha1').toLowerCase()
  if (objectFormat !== 'sha1' && objectFormat !== 'sha256') {
    throw new Fallback(`object format '${printable(objectFormat)}' is not handled`)
  }
  return {
    hashName: objectFormat,
    hashLength: objectFormat === 'sha1' ? 20 : 32,
    fileMode: configBoolean(values.get('core.filemode')),
    symlinks: configBoolean(values.get('core.symlinks'))
  }
}

/**
 * The last value of each wanted `section.key` (no subsection) in a git config file: sections
 * and keys are case-insensitive, a key alone means true, values may be quoted and end at an
 * unquoted # or ;, and a backslash at the end of a line continues it.
 */
export function readConfigValues(text: string, wanted: readonly string[]): Map<string, string> {
  const values = new Map<string, string>()
  const lines = text.replace(/\\\r?\n/g, '').split(/\r?\n/)
  let section = ''
  for (const raw of lines) {
    let line = raw.trim()
    const header = /^\[([^\]"\s]+)(?:\s+"(?:[^"\\]|\\.)*")?\]/.exec(line)
    if (header) {
      // A subsection ([remote "origin"]) never holds the keys we read; mark it unmatchable.
      section = header[0].includes('"') ? '"' : header[1].toLowerCase()
      line = line.slice(header[0].length).trim()
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line)
    if (!entry) continue
    const key = `${section}.${entry[1].toLowerCase()}`
    if (wanted.includes(key))
      values.set(key, entry[2] === undefined ? 'true' : configValue(entry[2]))
  }
  return values
}

function configValue(raw: string): string {
  let value = ''
  let quoted = false
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]
    if (c === '"') quoted = !quoted
    else if (c === '\\' && i + 1 < raw.length) value += raw[++i]
    else if (!quoted && (c === '#' || c === ';')) break
    else value += c
  }
  return value.trim()
}

/** Git's boolean: false, no, off, 0 and empty are false; anything else (and unset) true. */
function configBoolean(value: string | undefined): boolean {
  if (value === undefined) return true
  return !['false', 'no', 'off', '0', ''].includes(value.trim().toLowerCase())
}

async function lstatOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fsp.lstat(file)
  } catch {
    return undefined
  }
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code ?? String(error)
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?')
}
