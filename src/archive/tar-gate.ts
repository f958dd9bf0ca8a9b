import { ArchiveError, UnsafeEntryError } from '../errors.js'
import type { ByteSink } from './byte-sink.js'

/**
 * TarGate reads a tar stream's headers and hands on an entry only after its header and any
 * extended headers that belong to it have been judged; then that entry's data (file data is
 * counted and handed on, never inspected). An unsafe entry throws UnsafeEntryError before
 * the handler hears anything of it; a damaged archive throws ArchiveError.
 *
 * The gate must read every header exactly as GNU tar and bsdtar would, or a crafted archive
 * could show it one entry and a tar another. Wherever the two tars (or this parser) could
 * disagree, the gate refuses rather than guesses: strict numeric fields, no duplicated or
 * conflicting extended headers, no data on entries that should have none, no exotic types.
 *
 * Entry types:
 *   passed:  regular ('0', NUL, contiguous '7'), directory '5', symlink '2', hard link '1'
 *   skipped: character '3' and block '4' devices, FIFO '6', volume label 'V' (onSkip)
 *   refused: GNU sparse 'S' (and PAX GNU.sparse.* keys), multi-volume 'M', dumpdir 'D',
 *            old long names 'N', and any other type; a tar could only misplace them.
 *
 * Paths ('./a//b/' is 'a/b', as tar resolves it) are refused when absolute ('/x', '\x',
 * 'C:\x', 'C:x'), with a '..' component (or '...', '.. ', which Windows trims to '..'), or
 * through a symlink the archive made earlier. Symlinks are refused when their target is
 * absolute, climbs above the extraction directory, or climbs after descending. Hard links
 * must name a regular file the archive made earlier, by a path without '..' or symlinks.
 */

const BLOCK = 512
/**
 * Extended headers are kept until their entry arrives; real ones are a few hundred bytes.
 * (libarchive rejects PAX records from 1 MB and long names over 1 MiB.)
 */
const MAX_EXTENDED_HEADER = 512 * 1024

const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1')

/** Header field offsets and lengths (POSIX ustar layout). */
const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  prefix: [345, 155]
} as const

const TYPE = {
  regular: 0x30, // '0'
  regularOld: 0x00, // NUL
  hardLink: 0x31, // '1'
  symlink: 0x32, // '2'
  charDevice: 0x33, // '3'
  blockDevice: 0x34, // '4'
  directory: 0x35, // '5'
  fifo: 0x36, // '6'
  contiguous: 0x37, // '7'
  paxEntry: 0x78, // 'x'
  paxGlobal: 0x67, // 'g'
  gnuLongName: 0x4c, // 'L'
  gnuLongLink: 0x4b, // 'K'
  gnuVolume: 0x56 // 'V'
} as const

const SKIPPED_TYPES = new Map<number, string>([
  [TYPE.charDevice, 'character device'],
  [TYPE.blockDevice, 'block device'],
  [TYPE.fifo, 'FIFO'],
  [TYPE.gnuVolume, 'volume label']
])

const REFUSED_TYPES = new Map<number, string>([
  [0x53, 'GNU sparse file'], // 'S'
  [0x4d, 'multi-volume continuation'], // 'M'
  [0x44, 'GNU incremental dump directory'], // 'D'
  [0x4e, 'old GNU long name list'] // 'N'
])

/** PAX keys that change how tar reads the data or names the file in ways the gate does not model. */
const REFUSED_PAX_KEY =
  /^(GNU\.sparse\.|GNU\.volume\.|GNU\.dumpdir$|SCHILY\.realsize$|SUN\.holesdata$)/

type Phase = 'header' | 'data' | 'extended' | 'end'

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hard link'

/** A judged entry, as a tar would extract it. Strings are latin1: one character per byte. */
export interface TarEntry {
  kind: EntryKind
  /** The name as the archive gives it, for messages (through display()). */
  name: string
  /** Where it goes below the extraction directory: 'a/b/c' for './a//b/c', '' for the root. */
  path: string
  /** A symlink's target as written; a hard link's target path, resolved like `path`. */
  linkName: string
  /** Data bytes; only files have any. */
  size: number
  /** Permission bits from the header, special bits included (the extractor drops them). */
  mode: number
  /** Modification time in seconds since the epoch, with the fraction a PAX record gives. */
  mtime: number
}

/** Where judged entries go. */
export interface TarEntryHandler {
  /** The next entry, judged; called before any of its data. */
  entry(entry: TarEntry): void
  /** The next bytes of the current file's data, padding left out; valid only during the call. */
  data(bytes: Buffer): void
}

/** Extended headers (PAX 'x', GNU 'L'/'K') waiting for the entry they describe. */
interface PendingExtensions {
  pax?: Map<string, string>
  longName?: string
  longLink?: string
}

interface EntryHeader {
  type: number
  /** Names are kept as latin1 strings: one character per byte, so no two byte strings collide. */
  name: string
  linkName: string
  size: number
  headerSize: number
  mode: number
  mtime: number
  /** Names the header also carries (ustar fields, GNU long name) that an extended header overrides. */
  overridden: string[]
}

export interface TarGateOptions {
  onSkip?: (entry: string, reason: string) => void
  /**
   * Treat names that differ only in case, Unicode normalisation, ignorable characters or
   * trailing dots and spaces as one path, as macOS and Windows filesystems do, when checking
   * for writes through symlinks. Default: on for macOS and Windows, off elsewhere (there it
   * would refuse real repositories with, say, a symlink 'Docs' beside a directory 'docs').
   */
  caseInsensitive?: boolean
}

/**
 * Parses a tar stream written to it in pieces of any size and hands judged entries and their
 * data to the handler. Device, FIFO and volume label entries are dropped (onSkip is told).
 * After a failure every later call throws the same error.
 */
export class TarGate implements ByteSink {
  private readonly onSkip?: (entry: string, reason: string) => void
  private readonly tree: ArchiveTree
  private passed = 0
  private phase: Phase = 'header'
  private failure: unknown = undefined
  /** Input bytes consumed so far; error messages give offsets in the decoded archive. */
  private position = 0
  /** Offset of the header being judged. */
  private headerAt = 0
  /** Data and padding bytes left in the current entry or extended header. */
  private remaining = 0
  /** Of those, the data bytes still to hand on. */
  private dataLeft = 0
  private pending: PendingExtensions = {}
  private extendedType = 0
  private extendedSize = 0
  /** The current extended header's data, copied (the input is not ours to keep); reused. */
  private extended = Buffer.alloc(0)
  private extendedLength = 0
  /** A header split across writes is gathered here, one block reused for every split. */
  private readonly partialHeader = Buffer.alloc(BLOCK)
  private partialLength = 0

  constructor(
    private readonly handler: TarEntryHandler,
    options: TarGateOptions = {}
  ) {
    this.onSkip = options.onSkip
    const usual = process.platform === 'darwin' || process.platform === 'win32'
    this.tree = new ArchiveTree(options.caseInsensitive ?? usual)
  }

  /** Entries handed on so far. */
  get entries(): number {
    return this.passed
  }

  write(bytes: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure
    const chunk = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    try {
      let offset = 0
      while (offset < chunk.length) offset = this.consume(chunk, offset)
    } catch (error) {
      this.failure = error
      throw error
    }
  }

  /** Checks that the archive ended where it should: after its end-of-archive marker. */
  end(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.phase === 'end') return
    const atBoundary = this.phase === 'header' && this.partialLength === 0 && !this.hasPending()
    const message = atBoundary
      ? `The archive ends after ${this.position} bytes without an end-of-archive marker (truncated?)`
      : `The archive is truncated: it ends inside an entry after ${this.position} bytes`
    this.failure = new ArchiveError(message)
    throw this.failure
  }

  /** Handles input from offset on; returns the offset after what it used. */
  private consume(chunk: Buffer, offset: number): number {
    switch (this.phase) {
      case 'header':
        return this.consumeHeader(chunk, offset)
      case 'data':
        return this.consumeData(chunk, offset)
      case 'extended':
        return this.consumeExtended(chunk, offset)
      case 'end':
        // tar stops at the end-of-archive marker; writers pad after it.
        this.position += chunk.length - offset
        return chunk.length
    }
  }

  private consumeData(chunk: Buffer, offset: number): number {
    const end = offset + Math.min(this.remaining, chunk.length - offset)
    this.position += end - offset
    this.remaining -= end - offset
    if (this.remaining === 0) this.phase = 'header'
    if (this.dataLeft > 0) {
      const dataEnd = Math.min(end, offset + this.dataLeft)
      this.dataLeft -= dataEnd - offset
      this.handler.data(chunk.subarray(offset, dataEnd))
    }
    return end
  }

  private consumeExtended(chunk: Buffer, offset: number): number {
    const end = offset + Math.min(this.remaining, chunk.length - offset)
    const kept = Math.max(
      0,
      Math.min(end, offset + this.extendedSize - this.extendedLength) - offset
    )
    chunk.copy(this.extended, this.extendedLength, offset, offset + kept)
    this.extendedLength += kept
    this.position += end - offset
    this.remaining -= end - offset
    if (this.remaining === 0) this.finishExtended()
    return end
  }

  private consumeHeader(chunk: Buffer, offset: number): number {
    const available = chunk.length - offset
    if (this.partialLength === 0 && available >= BLOCK) {
      this.headerAt = this.position
      this.position += BLOCK
      this.handleHeader(chunk.subarray(offset, offset + BLOCK))
      return offset + BLOCK
    }
    if (this.partialLength === 0) this.headerAt = this.position
    const taken = Math.min(BLOCK - this.partialLength, available)
    chunk.copy(this.partialHeader, this.partialLength, offset, offset + taken)
    this.partialLength += taken
    this.position += taken
    if (this.partialLength === BLOCK) {
      this.partialLength = 0
      this.handleHeader(this.partialHeader)
    }
    return offset + taken
  }

  /** Judges one header block (which is not kept: it may be the reused partial block). */
  private handleHeader(block: Buffer): void {
    if (block.equals(ZERO_BLOCK)) return this.endArchive()
    verifyChecksum(block, this.headerAt)
    const type = block[TYPEFLAG]
    const headerSize = readNumber(block, FIELD.size, false, this.headerAt)
    if (isExtendedHeader(type)) return this.startExtended(type, headerSize)
    this.handleEntry(this.resolveEntry(block, type, headerSize))
  }

  private startExtended(type: number, size: number): void {
    if (size > MAX_EXTENDED_HEADER) {
      throw new ArchiveError(`Extended tar header of ${size} bytes at byte ${this.headerAt}`)
    }
    if (type === TYPE.paxGlobal && this.hasPending()) {
      throw new ArchiveError(
        `PAX global header between an entry's headers at byte ${this.headerAt}`
      )
    }
    if (this.extended.length < size) this.extended = Buffer.alloc(Math.max(size, 4096))
    this.extendedType = type
    this.extendedSize = size
    this.extendedLength = 0
    this.remaining = padded(size)
    this.phase = 'extended'
    if (this.remaining === 0) this.finishExtended()
  }

  private finishExtended(): void {
    const data = this.extended.subarray(0, this.extendedSize)
    this.phase = 'header'
    const pending = this.pending
    switch (this.extendedType) {
      case TYPE.gnuLongName:
        if (pending.longName !== undefined) throw this.duplicated('GNU long name')
        pending.longName = cString(data)
        return
      case TYPE.gnuLongLink:
        if (pending.longLink !== undefined) throw this.duplicated('GNU long link name')
        pending.longLink = cString(data)
        return
      case TYPE.paxEntry:
        if (pending.pax !== undefined) throw this.duplicated('PAX extended')
        pending.pax = parsePaxRecords(data, this.headerAt)
        return
      default:
        checkGlobalRecords(parsePaxRecords(data, this.headerAt))
    }
  }

  private duplicated(kind: string): ArchiveError {
    return new ArchiveError(`Two ${kind} headers for one tar entry at byte ${this.headerAt}`)
  }

  /** Applies the extended headers the way both tars do: PAX over GNU long names over ustar. */
  private resolveEntry(block: Buffer, type: number, headerSize: number): EntryHeader {
    const { pax, longName, longLink } = this.pending
    const ustarName = headerName(block)
    const name = pick(pax?.get('path'), longName, ustarName, 'name')
    const overridden =
      name === ustarName && longName === undefined
        ? NOTHING_OVERRIDDEN
        : [ustarName, longName ?? ''].filter(other => other !== '' && other !== name)
    const linkName = pick(
      pax?.get('linkpath'),
      longLink,
      fieldString(block, FIELD.linkname),
      'link name'
    )
    if (pax !== undefined) checkEntryRecords(pax, name)
    const paxSize = pax?.get('size')
    const size = paxSize === undefined ? headerSize : parsePaxSize(paxSize, name)
    const mode = readNumber(block, FIELD.mode, true, this.headerAt)
    const paxTime = pax?.get('mtime')
    const mtime =
      paxTime === undefined ? readTime(block, this.headerAt) : parsePaxTime(paxTime, name)
    return { type, name, linkName, size, headerSize, mode, mtime, overridden }
  }

  private handleEntry(header: EntryHeader): void {
    this.pending = {}
    this.remaining = padded(header.size)
    this.phase = this.remaining > 0 ? 'data' : 'header'
    const skipReason = SKIPPED_TYPES.get(header.type)
    if (skipReason !== undefined) {
      if (header.type !== TYPE.gnuVolume) splitPath(header.name, header.name)
      this.dataLeft = 0
      this.onSkip?.(display(header.name), `${skipReason} entries are not extracted`)
      return
    }
    const entry = this.tree.admit(header)
    this.dataLeft = entry.size
    this.passed++
    this.handler.entry(entry)
  }

  private endArchive(): void {
    if (this.hasPending()) {
      throw new ArchiveError(`Extended tar header without an entry at byte ${this.headerAt}`)
    }
    this.phase = 'end'
  }

  private hasPending(): boolean {
    const { pax, longName, longLink } = this.pending
    return pax !== undefined || longName !== undefined || longLink !== undefined
  }
}

const ZERO_BLOCK = Buffer.alloc(BLOCK)
const TYPEFLAG = 156
const NOTHING_OVERRIDDEN: string[] = []
const NO_PARENTS: string[] = []

/**
 * What the archive has created so far, by folded path, to judge later entries against:
 * writes through symlinks, hard links to things the archive did not make.
 */
class ArchiveTree {
  /** Paths that were ever symlinks; never forgotten, so a later entry cannot launder one. */
  private readonly symlinks = new Set<string>()
  private readonly directories = new Set<string>()
  private readonly files = new Set<string>()
  /** The parent of the last entry admitted: a known directory. */
  private lastParent = ''

  constructor(private readonly caseInsensitive: boolean) {}

  /** Judges an entry against what came before; returns it as the extractor needs it. */
  admit(entry: EntryHeader): TarEntry {
    const refuse = (reason: string): never => {
      throw new UnsafeEntryError(display(entry.name), reason)
    }
    const kind = entryKind(entry, refuse)
    if (kind !== 'file' && (entry.size !== 0 || entry.headerSize !== 0)) {
      refuse(`a ${kind} entry must not carry data (size ${entry.size})`)
    }
    for (const other of entry.overridden) checkOverriddenName(other, entry.name)
    const simple = this.caseInsensitive ? undefined : simplePath(entry.name)
    const key = simple ?? this.keyOf(splitPath(entry.name, entry.name))
    const judged: TarEntry = {
      kind,
      name: entry.name,
      path: simple ?? this.pathOf(entry.name, key),
      linkName: kind === 'hard link' ? resolvedPath(entry.linkName) : entry.linkName,
      size: entry.size,
      mode: entry.mode,
      mtime: entry.mtime
    }
    if (key === '') {
      if (kind !== 'directory') refuse(`a ${kind} cannot take the place of the archive root`)
      return judged
    }
    // A known directory's ancestors are known directories, and none of them is or can become
    // a symlink (a symlink may not replace a directory): only a new parent needs the walk.
    // Entries come directory by directory, so comparing with the last parent saves most
    // lookups in the set of every directory (about half their cost, see TarExtractor).
    const parent = key.slice(0, Math.max(0, key.lastIndexOf('/')))
    const known = parent === '' || parent === this.lastParent || this.directories.has(parent)
    const newParents = known ? NO_PARENTS : ancestorsOf(key)
    for (const ancestor of newParents) {
      if (this.symlinks.has(ancestor)) {
        refuse('its path passes through a symlink the archive created earlier')
      }
    }
    this.lastParent = parent
    if (this.symlinks.has(key)) refuse('it would replace a symlink the archive created earlier')
    if (kind === 'symlink') this.admitSymlink(entry, key, key.split('/').length - 1, refuse)
    if (kind === 'hard link') this.checkHardLinkTarget(entry.linkName, refuse)
    for (const ancestor of newParents) this.directories.add(ancestor)
    if (kind === 'directory') this.directories.add(key)
    if (kind === 'file' || kind === 'hard link') this.files.add(key)
    return judged
  }

  /**
   * The key of a path: its components joined by '/', folded when names that differ only in
   * case (and so on) are one file (case-insensitive macOS and Windows volumes, Unicode
   * normalisation, characters HFS+ ignores, Windows' trailing dots and spaces). Folding can
   * only add refusals.
   */
  private keyOf(components: string[]): string {
    return (this.caseInsensitive ? components.map(foldName) : components).join('/')
  }

  /** The path tar writes; the key itself when no backslash or folding made them differ. */
  private pathOf(name: string, key: string): string {
    return this.caseInsensitive || name.includes('\\') ? resolvedPath(name) : key
  }

  /**
   * A symlink may climb with leading '..' no higher than its own directory's depth, then only
   * descend. Climbing after a name is refused: that name could be (or later become) a symlink,
   * and then '..' would leave wherever it points, which a textual check cannot follow.
   */
  private admitSymlink(
    entry: EntryHeader,
    key: string,
    depth: number,
    refuse: (reason: string) => never
  ): void {
    const target = entry.linkName
    if (this.directories.has(key)) refuse('a symlink would replace a directory the archive created')
    if (target === '') refuse('its symlink target is empty')
    if (isAbsolute(target)) refuse(`it is a symlink to the absolute path '${display(target)}'`)
    let climbs = 0
    let descended = false
    for (const part of splitComponents(target)) {
      if (part === '..') {
        if (descended)
          refuse(`its symlink target '${display(target)}' climbs with '..' after a directory name`)
        climbs++
      } else if (isDotted(part)) {
        refuse(`its symlink target has the component '${display(part)}'`)
      } else {
        descended = true
      }
    }
    if (climbs > depth)
      refuse(`its symlink target '${display(target)}' leads outside the extraction directory`)
    this.symlinks.add(key)
  }

  private checkHardLinkTarget(target: string, refuse: (reason: string) => never): void {
    if (target === '') refuse('its hard link target is empty')
    if (isAbsolute(target)) refuse(`it is a hard link to the absolute path '${display(target)}'`)
    if (splitComponents(target).some(part => part === '..' || isDotted(part))) {
      refuse(`its hard link target '${display(target)}' contains '..'`)
    }
    const key = this.keyOf(splitComponents(target))
    if (key === '') refuse('it is a hard link to the archive root')
    if ([...ancestorsOf(key), key].some(part => this.symlinks.has(part))) {
      refuse(`its hard link target '${display(target)}' is or passes through a symlink`)
    }
    if (!this.files.has(key)) {
      refuse(`its hard link target '${display(target)}' is not a file the archive created earlier`)
    }
  }
}

function entryKind(entry: EntryHeader, refuse: (reason: string) => never): EntryKind {
  switch (entry.type) {
    case TYPE.regular:
    case TYPE.regularOld:
    case TYPE.contiguous:
      // Both tars extract a "file" whose name ends in '/' as a directory (old tar convention).
      return entry.name.endsWith('/') ? 'directory' : 'file'
    case TYPE.directory:
      return 'directory'
    case TYPE.symlink:
      return 'symlink'
    case TYPE.hardLink:
      return 'hard link'
  }
  const known = REFUSED_TYPES.get(entry.type)
  return refuse(
    `entry type '${typeName(entry.type)}'${known ? ` (${known})` : ''} is not supported`
  )
}

/** Splits a name the way tar resolves it, refusing absolute paths and climbing components. */
function splitPath(name: string, entryName: string): string[] {
  const refuse = (reason: string): never => {
    throw new UnsafeEntryError(display(entryName), reason)
  }
  if (name === '') refuse('its name is empty')
  if (isAbsolute(name)) refuse('its path is absolute')
  const components = splitComponents(name)
  // Without '..' in the name no component can be '..' or dotted: the usual case, unscanned.
  if (name.includes('..')) {
    for (const part of components) {
      if (part === '..') refuse("its path contains a '..' component")
      if (isDotted(part)) refuse(`its path contains the component '${display(part)}'`)
    }
  }
  return components
}

/**
 * Names an extended header overrides are never used by a tar that reads the archive as the
 * gate does; they are checked anyway, against one that might not. Writers fill them with a
 * truncated or abbreviated form of the long name, whose last component may be cut anywhere
 * (to '..' from '..foo'): that one is not judged.
 */
function checkOverriddenName(other: string, entryName: string): void {
  if (!other.includes('..') && !isAbsolute(other)) return
  const complete = splitComponents(other).slice(0, -1)
  if (isAbsolute(other) || complete.some(part => part === '..' || isDotted(part))) {
    throw new UnsafeEntryError(display(entryName), `its header also names it '${display(other)}'`)
  }
}

/**
 * The path of a name that needs no splitting, or undefined: leading './'s and one trailing
 * '/' aside, single '/'s between components, no '..' anywhere (so no component is '..' or
 * dotted), no backslash, not absolute. Real archives' names all look like this; splitting
 * each cost about 400 bytes of garbage an entry on babel/babel's tar (sampled).
 */
function simplePath(name: string): string | undefined {
  let start = 0
  while (name.startsWith('./', start)) start += 2
  // One trailing '/' (a directory's name) is dropped; tar drops it.
  const end = name.length - (name.endsWith('/') ? 1 : 0)
  const path = start === 0 && end === name.length ? name : name.slice(start, end)
  const simple =
    path !== '' &&
    path !== '.' &&
    !isAbsolute(path) &&
    !path.includes('..') &&
    !path.includes('\\') &&
    !path.includes('//') &&
    !path.includes('/./') &&
    !path.endsWith('/') &&
    !path.endsWith('/.')
  return simple ? path : undefined
}

/**
 * The path tar writes: on POSIX systems only '/' separates, so 'a\\b' is one name (judged as
 * two components above, which can only refuse more).
 */
function resolvedPath(name: string): string {
  return name
    .split('/')
    .filter(part => part !== '' && part !== '.')
    .join('/')
}

/** Both separators count: on Windows '\' is one, and refusing more is safe elsewhere. */
function splitComponents(name: string): string[] {
  const parts = name.includes('\\') ? name.split(/[\\/]/) : name.split('/')
  return parts.filter(part => part !== '' && part !== '.')
}

/** The keys of a key's ancestors, outermost first: 'a/b/c' gives 'a', 'a/b'. */
function ancestorsOf(key: string): string[] {
  const ancestors: string[] = []
  for (let slash = key.indexOf('/'); slash !== -1; slash = key.indexOf('/', slash + 1)) {
    ancestors.push(key.slice(0, slash))
  }
  return ancestors
}

/** '/x', '\x', 'C:\x' and drive-relative 'C:x' all leave the extraction directory. */
function isAbsolute(name: string): boolean {
  return /^([\\/]|[A-Za-z]:)/.test(name)
}

/** Components like '...' or '.. ': Windows trims trailing dots and spaces, turning some into '..'. */
function isDotted(part: string): boolean {
  return part !== '.' && /^[. ]+$/.test(part) && part.includes('..')
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu

function foldName(part: string): string {
  return Buffer.from(part, 'latin1')
    .toString('utf8')
    .normalize('NFC')
    .toUpperCase()
    .toLowerCase()
    .replace(IGNORABLE, '')
    .replace(/[. ]+$/, '')
}

function isExtendedHeader(type: number): boolean {
  return (
    type === TYPE.paxEntry ||
    type === TYPE.paxGlobal ||
    type === TYPE.gnuLongName ||
    type === TYPE.gnuLongLink
  )
}

/** A name from a PAX record wins over a GNU long name; if both are given they must agree. */
function pick(
  paxValue: string | undefined,
  gnuValue: string | undefined,
  headerValue: string,
  what: string
): string {
  if (paxValue !== undefined && gnuValue !== undefined && paxValue !== gnuValue) {
    throw new UnsafeEntryError(display(paxValue), `its GNU and PAX ${what}s differ`)
  }
  return paxValue ?? gnuValue ?? headerValue
}

/**
 * Header strings end at the first NUL or the end of their field, as both tars read them.
 * (Read in place: a header is parsed without allocating views of it.)
 */
function fieldString(block: Buffer, [start, length]: readonly [number, number]): string {
  let end = start
  while (end < start + length && block[end] !== 0) end++
  return block.toString('latin1', start, end)
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0)
  return bytes.toString('latin1', 0, end === -1 ? bytes.length : end)
}

/** The POSIX prefix field counts only in POSIX ustar headers; GNU headers use it for times. */
function headerName(block: Buffer): string {
  const name = fieldString(block, FIELD.name)
  if (block[FIELD.prefix[0]] !== 0 && isPosixHeader(block)) {
    return `${fieldString(block, FIELD.prefix)}/${name}`
  }
  return name
}

function isPosixHeader(block: Buffer): boolean {
  const [start, length] = FIELD.magic
  for (let i = 0; i < length; i++) if (block[start + i] !== USTAR_MAGIC[i]) return false
  return true
}

/**
 * Reads a numeric header field in the forms that GNU tar and libarchive read alike: all NUL
 * (zero), optional leading spaces then octal digits ended by the field, a NUL or a space, or
 * (sizes only) positive base-256. GNU tar also reads base-64 and tolerates other blanks and a
 * leading NUL, where libarchive reads something else: those are refused.
 */
function readNumber(
  block: Buffer,
  [start, length]: readonly [number, number],
  octalOnly: boolean,
  at: number
): number {
  const end = start + length
  if (!octalOnly && block[start] === 0x80) {
    let value = 0
    for (let i = start + 1; i < end; i++) value = value * 256 + block[i]
    if (Number.isSafeInteger(value)) return value
    throw malformedNumber(block, start, end, at)
  }
  let i = start
  while (i < end && block[i] === 0x20) i++
  if (i === start && block[start] === 0) {
    while (i < end && block[i] === 0) i++
    if (i === end) return 0
    i = start
  }
  let value = 0
  const digitsStart = i
  for (; i < end && block[i] >= 0x30 && block[i] <= 0x37; i++) value = value * 8 + block[i] - 0x30
  if (i === digitsStart || (i < end && block[i] !== 0 && block[i] !== 0x20)) {
    throw malformedNumber(block, start, end, at)
  }
  return value
}

function malformedNumber(block: Buffer, start: number, end: number, at: number): ArchiveError {
  const raw = JSON.stringify(block.toString('latin1', start, end))
  return new ArchiveError(`Malformed numeric field ${raw} in the tar header at byte ${at}`)
}

/**
 * The mtime field: as readNumber, or negative base-256 (0xff then two's complement), which
 * GNU tar writes for times before 1970.
 */
function readTime(block: Buffer, at: number): number {
  const [start, length] = FIELD.mtime
  if (block[start] !== 0xff) return readNumber(block, FIELD.mtime, false, at)
  let value = 0
  for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] ^ 0xff)
  const time = -(value + 1)
  if (Number.isSafeInteger(time)) return time
  throw malformedNumber(block, start, start + length, at)
}

/**
 * tar accepts the POSIX (unsigned) and the historic Sun (signed) checksum; so does the gate.
 * The field must hold only octal digits, spaces and NULs: libarchive treats anything else as
 * a damaged header and scans ahead for the next one, which the gate would not follow.
 */
function verifyChecksum(block: Buffer, at: number): void {
  const [start, length] = FIELD.checksum
  const end = start + length
  let digitsOrBlanks = true
  for (let i = start; i < end; i++) {
    const byte = block[i]
    if (byte !== 0 && byte !== 0x20 && (byte < 0x30 || byte > 0x37)) digitsOrBlanks = false
  }
  // The sum counts the checksum field as eight spaces.
  let unsigned = 0x20 * length
  for (let i = 0; i < start; i++) unsigned += block[i]
  for (let i = end; i < BLOCK; i++) unsigned += block[i]
  const recorded = digitsOrBlanks ? readNumber(block, FIELD.checksum, true, at) : NaN
  if (recorded === unsigned) return
  let signed = unsigned
  for (let i = 0; i < BLOCK; i++) {
    if ((i < start || i >= end) && block[i] >= 0x80) signed -= 0x100
  }
  if (recorded !== signed) {
    throw new ArchiveError(
      `Tar header checksum mismatch at byte ${at} (corrupt archive, or not a tar archive)`
    )
  }
}

/**
 * Parses PAX records ("LEN key=value\n"). Anything malformed is refused, NUL padding
 * included: GNU tar applies the records before it, libarchive drops the whole header and
 * falls back to the ustar name. A key given twice with two values is refused too.
 */
function parsePaxRecords(data: Buffer, at: number): Map<string, string> {
  const records = new Map<string, string>()
  const bad = (detail: string): never => {
    throw new ArchiveError(`Malformed PAX extended header at byte ${at}: ${detail}`)
  }
  let i = 0
  while (i < data.length) {
    let j = i
    while (j < data.length && data[j] >= 0x30 && data[j] <= 0x39) j++
    if (j === i || data[j] !== 0x20) bad('a record does not start with its length')
    const length = Number(data.toString('latin1', i, j))
    const end = i + length
    if (end > data.length || end <= j + 1 || data[end - 1] !== 0x0a) bad('a record length is wrong')
    const equals = data.indexOf(0x3d, j + 1)
    if (equals <= j + 1 || equals >= end) bad('a record has no key')
    const key = data.toString('latin1', j + 1, equals)
    if (key.includes('\0')) bad('a key contains NUL')
    const value = data.toString('latin1', equals + 1, end - 1)
    const earlier = records.get(key)
    if (earlier !== undefined && earlier !== value) bad(`the key '${key}' is given twice`)
    records.set(key, value)
    i = end
  }
  for (const key of ['path', 'linkpath']) {
    const value = records.get(key)
    if (value === '' || value?.includes('\0')) bad(`the '${key}' value is empty or contains NUL`)
  }
  return records
}

function checkEntryRecords(records: Map<string, string>, name: string): void {
  for (const key of records.keys()) {
    if (REFUSED_PAX_KEY.test(key)) {
      throw new UnsafeEntryError(
        display(name),
        `PAX key '${key}' (sparse or multi-volume data) is not supported`
      )
    }
  }
}

/**
 * A global header applies to every later entry in GNU tar, not in libarchive; one that
 * renames, resizes or re-dates them is refused.
 */
function checkGlobalRecords(records: Map<string, string>): void {
  for (const [key, value] of records) {
    if (GLOBAL_REFUSED.has(key) || REFUSED_PAX_KEY.test(key)) {
      throw new UnsafeEntryError(
        display(value),
        `a PAX global header sets '${key}' for every entry`
      )
    }
  }
}

const GLOBAL_REFUSED = new Set(['path', 'linkpath', 'size', 'mtime'])

function parsePaxSize(value: string, name: string): number {
  const size = /^[0-9]+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(size)) {
    throw new ArchiveError(
      `Malformed PAX size '${display(value)}' for tar entry '${display(name)}'`
    )
  }
  return size
}

/** Seconds with an optional fraction, as PAX writes times ('1700000000.123456789'). */
function parsePaxTime(value: string, name: string): number {
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value) || !Number.isFinite(Number(value))) {
    throw new ArchiveError(
      `Malformed PAX mtime '${display(value)}' for tar entry '${display(name)}'`
    )
  }
  return Number(value)
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK
}

function typeName(type: number): string {
  return type >= 0x21 && type <= 0x7e
    ? String.fromCharCode(type)
    : `\\x${type.toString(16).padStart(2, '0')}`
}

/**
 * Names for messages: decoded as UTF-8, control characters escaped so a name cannot forge log
 * lines, and the middle of very long names left out.
 */
export function display(latin1Name: string): string {
  const text = Buffer.from(latin1Name, 'latin1')
    .toString('utf8')
    .replace(/\p{Cc}/gu, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return text.length <= 1000 ? text : `${text.slice(0, 700)}...${text.slice(-250)}`
}
