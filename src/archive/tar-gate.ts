import { Transform, type TransformCallback } from 'node:stream'
import { ArchiveError, UnsafeEntryError } from '../errors.js'

/**
 * TarGate sits between the decoded archive and the runner's tar. It parses only the tar
 * headers (file data is counted, never inspected) and lets an entry through only after its
 * header and any extended headers that belong to it have been judged. An unsafe entry stops
 * the stream with UnsafeEntryError before tar sees any byte of it.
 *
 * The gate must read every header exactly as GNU tar and bsdtar will, or a crafted archive
 * could show it one entry and tar another. Wherever the two tars (or this parser) could
 * disagree, the gate refuses rather than guesses: strict numeric fields, no duplicated or
 * conflicting extended headers, no data on entries that should have none, no exotic types.
 *
 * Entry types:
 *   passed:  regular ('0', NUL, contiguous '7'), directory '5', symlink '2', hard link '1'
 *   skipped: character '3' and block '4' devices, FIFO '6', volume label 'V' (onSkip)
 *   refused: GNU sparse 'S' (and PAX GNU.sparse.* keys), multi-volume 'M', dumpdir 'D',
 *            old long names 'N', and any other type; tar could only misplace them.
 *
 * Paths ('./a//b/' is 'a/b', as tar resolves it) are refused when absolute ('/x', '\x',
 * 'C:\x', 'C:x'), with a '..' component (or '...', '.. ', which Windows trims to '..'), or
 * through a symlink the archive made earlier. Symlinks are refused when their target is
 * absolute, climbs above the extraction directory, or climbs after descending. Hard links
 * must name a regular file the archive made earlier, by a path without '..' or symlinks.
 */

const BLOCK = 512
/** tar stops at the first zero block; the gate ends the stream with a clean two-block marker. */
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK)
/**
 * Extended headers are buffered until their entry arrives; real ones are a few hundred bytes.
 * (libarchive rejects PAX records from 1 MB and long names over 1 MiB.)
 */
const MAX_EXTENDED_HEADER = 512 * 1024

const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1')

/** Header field offsets and lengths (POSIX ustar layout). */
const FIELD = {
  name: [0, 100],
  size: [124, 12],
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

/** Extended headers (PAX 'x', GNU 'L'/'K') waiting for the entry they describe. */
interface PendingExtensions {
  pax?: Map<string, string>
  longName?: string
  longLink?: string
  /** Header and data blocks, pushed only if the entry passes. */
  blocks: Buffer[]
}

interface EntryHeader {
  type: number
  /** Names are kept as latin1 strings: one character per byte, so no two byte strings collide. */
  name: string
  linkName: string
  size: number
  headerSize: number
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

/** Passes a tar stream through unchanged, except: refuses unsafe entries (UnsafeEntryError from src/errors.ts) before any byte of that entry (including its PAX/GNU long-name headers) is pushed; drops device, fifo (and other non-file types it must not let tar create) entries together with their extended headers, calling onSkip(entryName, reason). */
export class TarGate extends Transform {
  private readonly onSkip?: (entry: string, reason: string) => void
  private readonly tree: ArchiveTree
  private passed = 0
  private phase: Phase = 'header'
  /** Input bytes consumed so far; error messages give offsets in the decoded archive. */
  private position = 0
  /** Offset of the header being judged. */
  private headerAt = 0
  /** Data and padding bytes left in the current entry or extended header. */
  private remaining = 0
  private passingData = false
  private pending: PendingExtensions = { blocks: [] }
  private extendedType = 0
  private extendedSize = 0
  private extendedParts: Buffer[] = []
  private partialHeader: Buffer | null = null
  private partialLength = 0
  /** The current input chunk and the run of it to push as one slice: file data is never copied. */
  private chunk: Buffer = EMPTY
  private runStart = 0
  private runEnd = 0

  constructor(options: TarGateOptions = {}) {
    super()
    this.onSkip = options.onSkip
    const usual = process.platform === 'darwin' || process.platform === 'win32'
    this.tree = new ArchiveTree(options.caseInsensitive ?? usual)
  }

  /** Entries passed so far. */
  get entries(): number {
    return this.passed
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.chunk = chunk
    this.runStart = this.runEnd = 0
    let failure: Error | undefined
    try {
      let offset = 0
      while (offset < chunk.length) offset = this.consume(offset)
    } catch (error) {
      failure = error as Error
    }
    this.flushRun()
    this.chunk = EMPTY
    callback(failure)
  }

  override _flush(callback: TransformCallback): void {
    if (this.phase === 'end') return callback()
    const atBoundary = this.phase === 'header' && this.partialLength === 0 && !this.hasPending()
    const message = atBoundary
      ? `The archive ends after ${this.position} bytes without an end-of-archive marker (truncated?)`
      : `The archive is truncated: it ends inside an entry after ${this.position} bytes`
    callback(new ArchiveError(message))
  }

  /** Handles input from offset on; returns the offset after what it used. */
  private consume(offset: number): number {
    switch (this.phase) {
      case 'header':
        return this.consumeHeader(offset)
      case 'data':
        return this.consumeData(offset)
      case 'extended':
        return this.consumeExtended(offset)
      case 'end':
        this.position += this.chunk.length - offset
        return this.chunk.length
    }
  }

  private consumeData(offset: number): number {
    const end = offset + Math.min(this.remaining, this.chunk.length - offset)
    if (this.passingData) this.passRange(offset, end)
    this.position += end - offset
    this.remaining -= end - offset
    if (this.remaining === 0) this.phase = 'header'
    return end
  }

  private consumeExtended(offset: number): number {
    const end = offset + Math.min(this.remaining, this.chunk.length - offset)
    const part = this.chunk.subarray(offset, end)
    this.extendedParts.push(part)
    this.pending.blocks.push(part)
    this.position += end - offset
    this.remaining -= end - offset
    if (this.remaining === 0) this.finishExtended()
    return end
  }

  private consumeHeader(offset: number): number {
    const available = this.chunk.length - offset
    if (this.partialLength === 0 && available >= BLOCK) {
      this.headerAt = this.position
      this.position += BLOCK
      const block = this.chunk.subarray(offset, offset + BLOCK)
      this.handleHeader(block, () => this.passRange(offset, offset + BLOCK))
      return offset + BLOCK
    }
    // A header split across chunks is gathered in a buffer of its own, unpushed until judged.
    if (this.partialHeader === null) {
      this.partialHeader = Buffer.alloc(BLOCK)
      this.headerAt = this.position
    }
    const taken = Math.min(BLOCK - this.partialLength, available)
    this.chunk.copy(this.partialHeader, this.partialLength, offset, offset + taken)
    this.partialLength += taken
    this.position += taken
    if (this.partialLength === BLOCK) {
      const block = this.partialHeader
      this.partialHeader = null
      this.partialLength = 0
      this.handleHeader(block, () => this.passBuffer(block))
    }
    return offset + taken
  }

  /** Judges one header block; `pass` pushes the block itself. */
  private handleHeader(block: Buffer, pass: () => void): void {
    if (block.equals(ZERO_BLOCK)) return this.endArchive()
    verifyChecksum(block, this.headerAt)
    const type = block[TYPEFLAG]
    const headerSize = readNumber(block, FIELD.size, false, this.headerAt)
    if (isExtendedHeader(type)) return this.startExtended(type, headerSize, block)
    this.handleEntry(this.resolveEntry(block, type, headerSize), pass)
  }

  private startExtended(type: number, size: number, block: Buffer): void {
    if (size > MAX_EXTENDED_HEADER) {
      throw new ArchiveError(`Extended tar header of ${size} bytes at byte ${this.headerAt}`)
    }
    if (type === TYPE.paxGlobal && this.hasPending()) {
      throw new ArchiveError(
        `PAX global header between an entry's headers at byte ${this.headerAt}`
      )
    }
    this.pending.blocks.push(block)
    this.extendedType = type
    this.extendedSize = size
    this.extendedParts = []
    this.remaining = padded(size)
    this.phase = 'extended'
    if (this.remaining === 0) this.finishExtended()
  }

  private finishExtended(): void {
    const data = Buffer.concat(this.extendedParts).subarray(0, this.extendedSize)
    this.extendedParts = []
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
        this.pushPending()
    }
  }

  private duplicated(kind: string): ArchiveError {
    return new ArchiveError(`Two ${kind} headers for one tar entry at byte ${this.headerAt}`)
  }

  /** Applies the extended headers the way both tars do: PAX over GNU long names over ustar. */
  private resolveEntry(block: Buffer, type: number, headerSize: number): EntryHeader {
    const { pax, longName, longLink } = this.pending
    const ustarName = headerName(block)
    const name = pick(pax?.get('path'), longName, () => ustarName, 'name')
    const overridden = [ustarName, longName ?? ''].filter(other => other !== '' && other !== name)
    const linkName = pick(
      pax?.get('linkpath'),
      longLink,
      () => cString(field(block, FIELD.linkname)),
      'link name'
    )
    if (pax !== undefined) checkEntryRecords(pax, name)
    const paxSize = pax?.get('size')
    const size = paxSize === undefined ? headerSize : parsePaxSize(paxSize, name)
    return { type, name, linkName, size, headerSize, overridden }
  }

  private handleEntry(entry: EntryHeader, pass: () => void): void {
    const skipReason = SKIPPED_TYPES.get(entry.type)
    if (skipReason === undefined) {
      this.tree.admit(entry)
      this.pushPending()
      pass()
      this.passed++
    } else {
      if (entry.type !== TYPE.gnuVolume) splitPath(entry.name, entry.name)
      this.pending = { blocks: [] }
      this.onSkip?.(display(entry.name), `${skipReason} entries are not extracted`)
    }
    this.remaining = padded(entry.size)
    this.passingData = skipReason === undefined
    this.phase = this.remaining > 0 ? 'data' : 'header'
  }

  private endArchive(): void {
    if (this.hasPending()) {
      throw new ArchiveError(`Extended tar header without an entry at byte ${this.headerAt}`)
    }
    this.passBuffer(END_OF_ARCHIVE)
    this.phase = 'end'
  }

  private hasPending(): boolean {
    return this.pending.blocks.length > 0
  }

  private pushPending(): void {
    if (this.pending.blocks.length > 0) {
      this.flushRun()
      for (const block of this.pending.blocks) this.push(block)
    }
    this.pending = { blocks: [] }
  }

  /** Extends the run of the current chunk to push, or starts a new one. */
  private passRange(start: number, end: number): void {
    if (start !== this.runEnd) {
      this.flushRun()
      this.runStart = start
    }
    this.runEnd = end
  }

  private passBuffer(buffer: Buffer): void {
    this.flushRun()
    this.push(buffer)
  }

  private flushRun(): void {
    if (this.runEnd > this.runStart) this.push(this.chunk.subarray(this.runStart, this.runEnd))
    this.runStart = this.runEnd
  }
}

const EMPTY = Buffer.alloc(0)
const ZERO_BLOCK = Buffer.alloc(BLOCK)
const TYPEFLAG = 156

type EntryKind = 'file' | 'directory' | 'symlink' | 'hard link'

/**
 * What the archive has created so far, by folded path, to judge later entries against:
 * writes through symlinks, hard links to things the archive did not make.
 */
class ArchiveTree {
  /** Paths that were ever symlinks; never forgotten, so a later entry cannot launder one. */
  private readonly symlinks = new Set<string>()
  private readonly directories = new Set<string>()
  private readonly files = new Set<string>()

  constructor(private readonly caseInsensitive: boolean) {}

  admit(entry: EntryHeader): void {
    const refuse = (reason: string): never => {
      throw new UnsafeEntryError(display(entry.name), reason)
    }
    const kind = entryKind(entry, refuse)
    if (kind !== 'file' && (entry.size !== 0 || entry.headerSize !== 0)) {
      refuse(`a ${kind} entry must not carry data (size ${entry.size})`)
    }
    for (const other of entry.overridden) checkOverriddenName(other, entry.name)
    const keys = pathKeys(splitPath(entry.name, entry.name), this.caseInsensitive)
    const key = keys.at(-1)
    if (key === undefined) {
      if (kind !== 'directory') refuse(`a ${kind} cannot take the place of the archive root`)
      return
    }
    if (keys.slice(0, -1).some(parent => this.symlinks.has(parent))) {
      refuse('its path passes through a symlink the archive created earlier')
    }
    if (this.symlinks.has(key)) refuse('it would replace a symlink the archive created earlier')
    if (kind === 'symlink') this.admitSymlink(entry, key, keys.length - 1, refuse)
    if (kind === 'hard link') this.checkHardLinkTarget(entry.linkName, refuse)
    for (const parent of keys.slice(0, -1)) this.directories.add(parent)
    if (kind === 'directory') this.directories.add(key)
    if (kind === 'file' || kind === 'hard link') this.files.add(key)
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
    const keys = pathKeys(splitComponents(target), this.caseInsensitive)
    const key = keys.at(-1)
    if (key === undefined) refuse('it is a hard link to the archive root')
    if (keys.some(part => this.symlinks.has(part))) {
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
  for (const part of components) {
    if (part === '..') refuse("its path contains a '..' component")
    if (isDotted(part)) refuse(`its path contains the component '${display(part)}'`)
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
  const complete = splitComponents(other).slice(0, -1)
  if (isAbsolute(other) || complete.some(part => part === '..' || isDotted(part))) {
    throw new UnsafeEntryError(display(entryName), `its header also names it '${display(other)}'`)
  }
}

/** Both separators count: on Windows '\' is one, and refusing more is safe elsewhere. */
function splitComponents(name: string): string[] {
  return name.split(/[\\/]/).filter(part => part !== '' && part !== '.')
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

/**
 * Keys for each prefix of a path. Folded, names one filesystem treats as the same file
 * (case-insensitive macOS and Windows volumes, Unicode normalisation, characters HFS+
 * ignores, Windows' trailing dots and spaces) collide; folding can only add refusals.
 */
function pathKeys(components: string[], fold: boolean): string[] {
  const keys: string[] = []
  let prefix = ''
  for (const part of components) {
    const folded = fold ? foldName(part) : part
    prefix = prefix === '' ? folded : `${prefix}/${folded}`
    keys.push(prefix)
  }
  return keys
}

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
  headerValue: () => string,
  what: string
): string {
  if (paxValue !== undefined && gnuValue !== undefined && paxValue !== gnuValue) {
    throw new UnsafeEntryError(display(paxValue), `its GNU and PAX ${what}s differ`)
  }
  return paxValue ?? gnuValue ?? headerValue()
}

function field(block: Buffer, [start, length]: readonly [number, number]): Buffer {
  return block.subarray(start, start + length)
}

/** Header strings end at the first NUL or the end of their field, as both tars read them. */
function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0)
  return bytes.toString('latin1', 0, end === -1 ? bytes.length : end)
}

/** The POSIX prefix field counts only in POSIX ustar headers; GNU headers use it for times. */
function headerName(block: Buffer): string {
  const name = cString(field(block, FIELD.name))
  const prefix = field(block, FIELD.prefix)
  if (prefix[0] !== 0 && field(block, FIELD.magic).equals(USTAR_MAGIC)) {
    return `${cString(prefix)}/${name}`
  }
  return name
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
  const bad = (): never => {
    const raw = JSON.stringify(block.toString('latin1', start, end))
    throw new ArchiveError(`Malformed numeric field ${raw} in the tar header at byte ${at}`)
  }
  if (!octalOnly && block[start] === 0x80) return readBase256(block, start + 1, end, bad)
  let i = start
  while (i < end && block[i] === 0x20) i++
  if (i === start && block.subarray(start, end).every(byte => byte === 0)) return 0
  let value = 0
  const digitsStart = i
  for (; i < end && block[i] >= 0x30 && block[i] <= 0x37; i++) value = value * 8 + block[i] - 0x30
  if (i === digitsStart || (i < end && block[i] !== 0 && block[i] !== 0x20)) bad()
  return value
}

function readBase256(block: Buffer, start: number, end: number, bad: () => never): number {
  let value = 0
  for (let i = start; i < end; i++) value = value * 256 + block[i]
  return Number.isSafeInteger(value) ? value : bad()
}

/**
 * tar accepts the POSIX (unsigned) and the historic Sun (signed) checksum; so does the gate.
 * The field must hold only octal digits, spaces and NULs: libarchive treats anything else as
 * a damaged header and scans ahead for the next one, which the gate would not follow.
 */
function verifyChecksum(block: Buffer, at: number): void {
  const [start, length] = FIELD.checksum
  const digitsOrBlanks = field(block, FIELD.checksum).every(
    byte => byte === 0 || byte === 0x20 || (byte >= 0x30 && byte <= 0x37)
  )
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= start && i < start + length ? 0x20 : block[i]
    unsigned += byte
    signed += byte >= 0x80 ? byte - 0x100 : byte
  }
  const recorded = digitsOrBlanks ? readNumber(block, FIELD.checksum, true, at) : NaN
  if (recorded !== unsigned && recorded !== signed) {
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

/** A global header applies to every later entry; one that renames or resizes them is refused. */
function checkGlobalRecords(records: Map<string, string>): void {
  for (const [key, value] of records) {
    if (key === 'path' || key === 'linkpath' || key === 'size' || REFUSED_PAX_KEY.test(key)) {
      throw new UnsafeEntryError(
        display(value),
        `a PAX global header sets '${key}' for every entry`
      )
    }
  }
}

function parsePaxSize(value: string, name: string): number {
  const size = /^[0-9]+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(size)) {
    throw new ArchiveError(
      `Malformed PAX size '${display(value)}' for tar entry '${display(name)}'`
    )
  }
  return size
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
function display(latin1Name: string): string {
  const text = Buffer.from(latin1Name, 'latin1')
    .toString('utf8')
    .replace(/\p{Cc}/gu, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return text.length <= 1000 ? text : `${text.slice(0, 700)}...${text.slice(-250)}`
}
