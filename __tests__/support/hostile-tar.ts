/**
 * Builds tar archives that GNU tar will not write: absolute and climbing names, escaping
 * symlinks and hard links, devices, PAX and GNU extended headers in odd combinations, broken
 * checksums and numeric fields. Two independent writers: tar headers assembled byte by byte
 * here (for malformed headers), and Python's tarfile (a real third-party tar writer).
 */
import { execFile } from 'node:child_process'

const BLOCK = 512

export interface HeaderSpec {
  /** Entry name; a string is written as UTF-8. */
  name: string | Buffer
  /** Type flag character: '0' file, '1' hard link, '2' symlink, '5' directory, 'x', 'L', ... */
  type?: string
  linkName?: string | Buffer
  mode?: number
  /** Value written to the size field; defaults to the data length. */
  size?: number
  /** Raw bytes for the 12-byte size field, for malformed or base-256 sizes. */
  sizeField?: Buffer
  /** Raw bytes for the 8-byte mode field. */
  modeField?: Buffer
  /** Seconds since the epoch; 1,700,000,000 unless given. */
  mtime?: number
  /** Raw bytes for the 12-byte mtime field, for malformed or base-256 times. */
  mtimeField?: Buffer
  /** 'ustar' = POSIX "ustar\0" "00", 'gnu' = "ustar  \0", 'v7' = no magic. */
  magic?: 'ustar' | 'gnu' | 'v7'
  /** POSIX name prefix (meaningful with magic 'ustar' only). */
  prefix?: string
  /** Added to the correct checksum, to write a corrupt header. */
  checksumError?: number
  /** Writes the 8-byte checksum field from the sum, for unusual but valid (or invalid) forms. */
  checksumText?: (sum: number) => string
}

export interface EntrySpec extends HeaderSpec {
  data?: Buffer | string
}

function bytes(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}

function octal(value: number, width: number): Buffer {
  return Buffer.from(`${value.toString(8).padStart(width - 1, '0')}\0`, 'latin1')
}

/** One 512-byte tar header with a correct checksum (unless checksumError is set). */
export function header(spec: HeaderSpec): Buffer {
  const block = Buffer.alloc(BLOCK)
  bytes(spec.name).copy(block, 0, 0, 100)
  ;(spec.modeField ?? octal(spec.mode ?? 0o644, 8)).copy(block, 100, 0, 8)
  octal(0, 8).copy(block, 108)
  octal(0, 8).copy(block, 116)
  ;(spec.sizeField ?? octal(spec.size ?? 0, 12)).copy(block, 124, 0, 12)
  ;(spec.mtimeField ?? octal(spec.mtime ?? 1_700_000_000, 12)).copy(block, 136, 0, 12)
  block.write(spec.type ?? '0', 156, 'latin1')
  if (spec.linkName !== undefined) bytes(spec.linkName).copy(block, 157, 0, 100)
  const magic = spec.magic ?? 'ustar'
  if (magic === 'ustar') block.write('ustar\u000000', 257, 'latin1')
  if (magic === 'gnu') block.write('ustar  \u0000', 257, 'latin1')
  if (spec.prefix !== undefined) block.write(spec.prefix, 345, 155, 'utf8')
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  const checksum = sum + (spec.checksumError ?? 0)
  if (spec.checksumText) block.write(spec.checksumText(checksum), 148, 8, 'latin1')
  else octal(checksum, 7).copy(block, 148)
  return block
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)])
}

/** A header followed by its data, padded to the block size. */
export function entry(spec: EntrySpec): Buffer {
  const data = bytes(spec.data ?? '')
  return Buffer.concat([header({ size: data.length, ...spec }), pad(data)])
}

/** A PAX extended header ('x', or 'g' for global) carrying the given records. */
export function pax(records: Record<string, string | Buffer>, type: 'x' | 'g' = 'x'): Buffer {
  const parts = Object.entries(records).map(([key, value]) => paxRecord(key, bytes(value)))
  return entry({ name: 'PaxHeaders/entry', type, data: Buffer.concat(parts) })
}

/** "LEN key=value\n", where LEN counts its own digits. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')])
  let length = body.length + 1
  while (String(length).length + body.length !== length) length++
  return Buffer.concat([Buffer.from(String(length)), body])
}

/** A GNU long name ('L') or long link name ('K') header, as GNU tar writes it. */
export function gnuLong(value: string | Buffer, type: 'L' | 'K' = 'L'): Buffer {
  const data = Buffer.concat([bytes(value), Buffer.alloc(1)])
  return entry({ name: '././@LongLink', type, magic: 'gnu', data })
}

/** The end-of-archive marker: two zero blocks. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK)
}

/** Concatenates parts and appends the end-of-archive marker. */
export function archive(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, endOfArchive()])
}

/** A size field in GNU base-256 form: 0x80 then the big-endian value. */
export function base256(value: number): Buffer {
  const field = Buffer.alloc(12)
  field[0] = 0x80
  field.writeUIntBE(value, 6, 6)
  return field
}

export interface PythonMember {
  name: string
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'fifo' | 'chr' | 'blk'
  data?: string
  linkName?: string
  mode?: number
}

export interface PythonArchive {
  format: 'gnu' | 'pax' | 'ustar'
  members: PythonMember[]
  /** PAX global header records (written as a 'g' header first). */
  global?: Record<string, string>
}

const PYTHON_WRITER = `
import base64, io, json, sys, tarfile
types = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE,
         'link': tarfile.LNKTYPE, 'fifo': tarfile.FIFOTYPE, 'chr': tarfile.CHRTYPE,
         'blk': tarfile.BLKTYPE}
formats = {'gnu': tarfile.GNU_FORMAT, 'pax': tarfile.PAX_FORMAT, 'ustar': tarfile.USTAR_FORMAT}
def write(spec):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w', format=formats[spec['format']],
                      pax_headers=spec.get('global') or None) as tar:
        for member in spec['members']:
            info = tarfile.TarInfo(member['name'])
            info.type = types[member.get('type', 'file')]
            info.mode = member.get('mode', 0o644)
            info.mtime = 1700000000
            info.linkname = member.get('linkName', '')
            data = member.get('data', '').encode()
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if info.size else None)
    return base64.b64encode(out.getvalue()).decode()
json.dump([write(spec) for spec in json.load(sys.stdin)], sys.stdout)
`

/**
 * Writes archives with Python's tarfile, which writes what it is told, hostile or not.
 * One Python process for all of them: starting Python is the slow part.
 */
export async function pythonTars(archives: PythonArchive[]): Promise<Buffer[]> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      'python3',
      ['-c', PYTHON_WRITER],
      { maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`python3 tarfile failed: ${error.message}\n${stderr}`))
        else resolve(stdout)
      }
    )
    child.stdin?.end(JSON.stringify(archives))
  })
  return (JSON.parse(output) as string[]).map(encoded => Buffer.from(encoded, 'base64'))
}

export async function pythonTar(
  format: PythonArchive['format'],
  members: PythonMember[],
  global?: Record<string, string>
): Promise<Buffer> {
  const [written] = await pythonTars([{ format, members, global }])
  return written
}
