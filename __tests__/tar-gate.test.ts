import { describe, expect, it, beforeAll, afterAll } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { TarGate, type TarGateOptions } from '../src/archive/tar-gate.js'
import { ArchiveError, UnsafeEntryError } from '../src/errors.js'
import {
  archive,
  base256,
  endOfArchive,
  entry,
  gnuLong,
  header,
  pax,
  paxRecord,
  pythonTars,
  type PythonArchive
} from './support/hostile-tar.js'

const run = promisify(execFile)

interface GateRun {
  output: Buffer
  entries: number
  skipped: Array<[string, string]>
  error?: Error
}

/** Streams input through a TarGate in chunks of the given size and collects what comes out. */
async function throughGate(
  input: Buffer,
  chunkSize = 65536,
  options: TarGateOptions = {}
): Promise<GateRun> {
  const chunks: Buffer[] = []
  for (let i = 0; i < input.length; i += chunkSize) chunks.push(input.subarray(i, i + chunkSize))
  const skipped: Array<[string, string]> = []
  const gate = new TarGate({ ...options, onSkip: (name, reason) => skipped.push([name, reason]) })
  const output: Buffer[] = []
  let error: Error | undefined
  try {
    for await (const chunk of Readable.from(chunks).pipe(gate)) output.push(chunk as Buffer)
  } catch (caught) {
    error = caught as Error
  }
  return { output: Buffer.concat(output), entries: gate.entries, skipped, error }
}

/**
 * A whole archive passes unchanged: the output is the input up to its end-of-archive marker
 * (tar writers pad with zero blocks after it), ending in the two-block marker.
 */
function expectUnchanged(output: Buffer, input: Buffer): void {
  expect(output.equals(input.subarray(0, output.length))).toBe(true)
  expect(output.subarray(-1024).every(byte => byte === 0)).toBe(true)
  expect(input.subarray(output.length).every(byte => byte === 0)).toBe(true)
}

async function expectPassed(input: Buffer): Promise<GateRun> {
  const result = await throughGate(input)
  expect(result.error).toBeUndefined()
  expectUnchanged(result.output, input)
  return result
}

/**
 * Expects the gate to refuse `hostile` (placed after `before`) with UnsafeEntryError naming
 * `name`, and to have pushed nothing of it: the output is a prefix of `before`.
 */
async function expectRefused(
  before: Buffer,
  hostile: Buffer,
  name: string,
  reason?: RegExp,
  options: TarGateOptions = {}
) {
  const input = archive(before, hostile, entry({ name: 'after', data: 'x' }))
  for (const chunkSize of [1, 500, 65536]) {
    const result = await throughGate(input, chunkSize, options)
    expect(result.error).toBeInstanceOf(UnsafeEntryError)
    expect((result.error as UnsafeEntryError).entry).toBe(name)
    if (reason) expect(result.error!.message).toMatch(reason)
    expect(result.output.length).toBeLessThanOrEqual(before.length)
    expect(result.output.equals(before.subarray(0, result.output.length))).toBe(true)
  }
}

async function expectArchiveError(input: Buffer, message: RegExp) {
  const result = await throughGate(input, 700)
  expect(result.error).toBeInstanceOf(ArchiveError)
  expect(result.error).not.toBeInstanceOf(UnsafeEntryError)
  expect(result.error!.message).toMatch(message)
}

const file = (name: string, data = 'data') => entry({ name, data })
const dir = (name: string) => entry({ name, type: '5', mode: 0o755 })
const symlink = (name: string, linkName: string) => entry({ name, type: '2', linkName })
const hardLink = (name: string, linkName: string) => entry({ name, type: '1', linkName })

const longName = `${'l'.repeat(150)}/${'ü'.repeat(60)}`
const longFifo = `${'f'.repeat(150)}/fifo`
const climbing = `${'p'.repeat(120)}/../../../evil`

/** Archives written by Python's tarfile, built in one Python run. */
const pythonSpecs = {
  ...Object.fromEntries(
    (['gnu', 'pax', 'ustar'] as const).map((format): [string, PythonArchive] => {
      const long = format === 'ustar' ? 'short' : longName
      const members = [
        { name: './', type: 'dir' as const, mode: 0o755 },
        { name: 'dir', type: 'dir' as const, mode: 0o755 },
        { name: `dir/${long}`, data: 'long name' },
        { name: 'dir/link', type: 'symlink' as const, linkName: format === 'ustar' ? 'x' : long },
        { name: 'hard', type: 'link' as const, linkName: `dir/${long}` }
      ]
      return [format, { format, members }]
    })
  ),
  globalComment: {
    format: 'pax',
    members: [{ name: 'a', data: 'x' }],
    global: { comment: 'test' }
  },
  hostileGnu: {
    format: 'gnu',
    members: [
      { name: 'ok', data: 'x' },
      { name: climbing, data: 'y' }
    ]
  },
  hostilePax: {
    format: 'pax',
    members: [
      { name: 'ok', data: 'x' },
      { name: climbing, data: 'y' }
    ]
  },
  devices: {
    format: 'pax',
    members: [
      { name: 'before', data: 'a' },
      { name: longFifo, type: 'fifo' },
      { name: 'dev/null', type: 'chr' },
      { name: 'dev/sda', type: 'blk' },
      { name: 'after', data: 'b' }
    ]
  }
} satisfies Record<string, PythonArchive>
const python: Record<string, Buffer> = {}

let work: string
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'tar-gate-'))
  const built = await pythonTars(Object.values(pythonSpecs))
  Object.keys(pythonSpecs).forEach((name, i) => (python[name] = built[i]))
})
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true })
})

/** A tree with what a git checkout has: exec bits, symlinks, long and unicode names, empty dirs. */
async function makeTree(root: string): Promise<void> {
  const deep = path.join(root, 'src', 'd'.repeat(90), 'e'.repeat(90), 'f'.repeat(90))
  await fs.mkdir(deep, { recursive: true })
  await fs.mkdir(path.join(root, '.git', 'objects', 'pack'), { recursive: true })
  await fs.mkdir(path.join(root, 'empty'))
  await fs.writeFile(path.join(deep, `${'n'.repeat(120)}.txt`), 'deep file\n')
  await fs.writeFile(path.join(root, 'script.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
  await fs.writeFile(path.join(root, 'ünïcødé-名前.md'), 'unicode\n')
  await fs.writeFile(path.join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  await fs.writeFile(path.join(root, 'big.bin'), Buffer.alloc(100_000, 7))
  await fs.symlink('script.sh', path.join(root, 'link-to-script'))
  await fs.symlink(
    `../../${'d'.repeat(90)}`,
    path.join(root, 'src', 'd'.repeat(90), 'e'.repeat(90), 'up')
  )
  await fs.link(path.join(root, 'script.sh'), path.join(root, 'hard-link.sh'))
}

describe('TarGate passes real archives through unchanged', () => {
  it.each(['gnu', 'posix', 'ustar', 'oldgnu'])('GNU tar --format=%s', async format => {
    const root = path.join(work, `tree-${format}`)
    await makeTree(root)
    const tarFile = path.join(work, `${format}.tar`)
    // ustar cannot store the 120-byte deep file name; leave it out there.
    const exclude = format === 'ustar' ? ['--exclude=src'] : []
    await run('tar', ['-c', `--format=${format}`, ...exclude, '-f', tarFile, '-C', root, '.'])
    const input = await fs.readFile(tarFile)
    const listed = (await run('tar', ['-tf', tarFile])).stdout.trim().split('\n')
    for (const chunkSize of [7, 511, 513, 4096, 1 << 20]) {
      const result = await throughGate(input, chunkSize)
      expect(result.error).toBeUndefined()
      expectUnchanged(result.output, input)
      expect(result.entries).toBe(listed.length)
    }
  })

  it.each(['gnu', 'pax', 'ustar'] as const)('Python tarfile, %s format', async format => {
    const input = python[format]
    const result = await expectPassed(input)
    expect(result.entries).toBe(5)
    expect(await tarList(result.output)).toHaveLength(5)
  })

  it('accepts only odd forms that GNU tar and bsdtar read alike', async () => {
    // Each size field declares 15 or 17 bytes; each file holds that many.
    const sizeFields = ['     17 \0\0\0\0', '00000000021\0', '000000000021', '21 garbage\0\0'].map(
      text => Buffer.from(text, 'latin1')
    )
    const leadingZeros = Buffer.from('00000000023 path=zeros\n')
    const input = archive(
      ...sizeFields.map((sizeField, i) =>
        entry({ name: `size${i}`, sizeField, data: sizeData(i) })
      ),
      entry({ name: 'base256', sizeField: base256(17), data: 'b'.repeat(17) }),
      entry({
        name: 'sum',
        data: 's',
        checksumText: sum => `${sum.toString(8).padStart(7, ' ')}\0`
      }),
      entry({ name: 'v7', magic: 'v7', type: '\0', data: 'v' }),
      entry({ name: 'contiguous', type: '7', data: 'c' }),
      entry({ name: 'file', prefix: 'prefixed', data: 'p' }),
      entry({ name: 'old-style-dir/', type: '0' }),
      Buffer.concat([gnuLong('agreed'), pax({ path: 'agreed' }), file('ignored', 'a')]),
      Buffer.concat([
        entry({ name: 'PaxHeaders/z', type: 'x', data: leadingZeros }),
        file('z', 'z')
      ]),
      // A long name truncated to its directory in the ustar field: still a file with data.
      Buffer.concat([
        gnuLong('gnu-cut/file'),
        entry({ name: 'gnu-cut/', magic: 'gnu', data: 'g' })
      ]),
      Buffer.concat([pax({ path: 'pax-cut/file' }), entry({ name: 'pax-cut/', data: 'p' })])
    )
    await expectPassed(input)
    const listings = await Promise.all(['tar', 'bsdtar'].map(tar => extractAndList(tar, input)))
    expect(listings[0]).toEqual([
      'agreed f 1',
      'base256 f 17',
      'contiguous f 1',
      'gnu-cut d',
      'gnu-cut/file f 1',
      'old-style-dir d',
      'pax-cut d',
      'pax-cut/file f 1',
      'prefixed d',
      'prefixed/file f 1',
      'size0 f 15',
      'size1 f 17',
      'size2 f 17',
      'size3 f 17',
      'sum f 1',
      'v7 f 1',
      'zeros f 1'
    ])
    expect(listings[1]).toEqual(listings[0])
  })

  it('never parses file data: a file holding a hostile header is just data', async () => {
    const inner = archive(file('../../escaped', 'x'))
    const input = archive(entry({ name: 'fixture.tar', data: inner }), file('next'))
    const result = await expectPassed(input)
    expect(result.entries).toBe(2)
    expect(result.output.equals(input)).toBe(true)
  })

  it('accepts the root entry, ./a//b/ forms, contiguous files and old-style NUL types', async () => {
    const input = archive(
      dir('./'),
      dir('./a//b/'),
      entry({ name: './a//b//c', type: '7', data: 'contiguous' }),
      entry({ name: 'a/b/old', type: '\0', data: 'old' }),
      entry({ name: 'a/b/v7', magic: 'v7', data: 'v7' }),
      symlink('a/b/up', '../..'),
      symlink('a/here', '.'),
      hardLink('./a/b/hard', 'a//b/./c')
    )
    expect((await expectPassed(input)).entries).toBe(8)
  })

  it('joins the POSIX prefix field only for POSIX ustar headers', async () => {
    // With POSIX magic the name is prefix + '/' + name; a GNU header ignores the field.
    const posix = header({ name: 'x', prefix: '..', magic: 'ustar' })
    await expectRefused(Buffer.alloc(0), Buffer.concat([posix]), '../x', /'\.\.'/)
    const gnu = archive(entry({ name: 'x', prefix: '..', magic: 'gnu', data: 'g' }))
    await expectPassed(gnu)
  })

  it('ends the stream at the first zero block and ignores what follows, as tar does', async () => {
    const good = file('good')
    const input = Buffer.concat([good, Buffer.alloc(512), file('../after-end'), endOfArchive()])
    const result = await throughGate(input, 100)
    expect(result.error).toBeUndefined()
    expect(result.output.equals(Buffer.concat([good, Buffer.alloc(1024)]))).toBe(true)
    expect(result.entries).toBe(1)
  })

  it('accepts a global PAX header that does not rename entries', async () => {
    const input = python.globalComment
    expect(input.subarray(156, 157).toString()).toBe('g')
    expect((await expectPassed(input)).entries).toBe(1)
  })
})

describe('TarGate refuses entries that would write outside the directory', () => {
  const before = Buffer.concat([dir('./'), file('ok')])

  it.each([
    ['/etc/passwd', /absolute/],
    ['\\windows\\evil', /absolute/],
    ['C:\\evil', /absolute/],
    ['c:evil', /absolute/],
    ['../evil', /'\.\.'/],
    ['a/../../evil', /'\.\.'/],
    ['a/..', /'\.\.'/],
    ['a\\..\\..\\evil', /'\.\.'/],
    ['a/.../b', /'\.\.\.'/],
    ['a/.. /b', /'\.\. '/]
  ])('name %j', async (name, reason) => {
    await expectRefused(before, file(name), name, reason)
  })

  it('escapes control characters in the name it reports', async () => {
    const forged = '../x\n::error::forged'
    await expectRefused(before, file(forged), '../x\\x0a::error::forged')
  })

  it('refuses an empty name and a file in place of the root', async () => {
    await expectRefused(before, header({ name: '' }), '', /empty/)
    await expectRefused(before, file('.'), '.', /root/)
    await expectRefused(before, symlink('./', 'ok'), './', /root/)
  })

  it('refuses a write through a symlink the archive created earlier', async () => {
    const link = Buffer.concat([before, dir('sub/'), symlink('link', 'sub')])
    await expectRefused(link, file('link/x'), 'link/x', /through a symlink/)
    await expectRefused(link, dir('link/deeper/'), 'link/deeper/', /through a symlink/)
    await expectRefused(link, file('./link//x'), './link//x', /through a symlink/)
  })

  it('folds names as macOS and Windows filesystems do, when asked', async () => {
    const link = Buffer.concat([before, dir('sub/'), symlink('link', 'sub')])
    const folded = { caseInsensitive: true }
    const refuse = (hostile: Buffer, name: string) =>
      expectRefused(link, hostile, name, /through a symlink/, folded)
    await refuse(file('LINK/x'), 'LINK/x')
    await refuse(file('link./x'), 'link./x')
    await refuse(file('li\u200cnk/x'), 'li\u200cnk/x')
    const nfd = Buffer.concat([before, symlink('cafe\u0301', 'sub')])
    await expectRefused(nfd, file('caf\u00e9/x'), 'caf\u00e9/x', /through a symlink/, folded)
    // On a case-sensitive filesystem 'LINK' is another directory.
    const exact = await throughGate(archive(link, file('LINK/x')), 512, { caseInsensitive: false })
    expect(exact.error).toBeUndefined()
  })

  it('refuses to replace a symlink, or to put a symlink over a directory', async () => {
    const link = Buffer.concat([before, symlink('link', 'ok')])
    await expectRefused(link, dir('link/'), 'link/', /replace a symlink/)
    await expectRefused(link, file('link'), 'link', /replace a symlink/)
    const withDir = Buffer.concat([before, file('d/inner')])
    await expectRefused(withDir, symlink('d', 'ok'), 'd', /replace a directory/)
  })

  it.each([
    ['/etc', 'l', /absolute/],
    ['C:\\Windows', 'l', /absolute/],
    ['..', 'l', /outside/],
    ['../..', 'a/l', /outside/],
    ['../../../etc', 'a/b/l', /outside/],
    ['a/../..', 'l', /after a directory name/],
    ['', 'l', /empty/],
    ['...', 'l', /component/]
  ])('symlink target %j from %j', async (target, name, reason) => {
    await expectRefused(before, symlink(name, target), name, reason)
  })

  it('refuses a symlink that climbs out through another symlink', async () => {
    // 's' -> '.' is harmless; 't' -> 's/..' looks like the root but is the root's parent.
    const self = Buffer.concat([before, symlink('s', '.')])
    await expectRefused(self, symlink('t', 's/..'), 't', /after a directory name/)
  })

  it('accepts symlinks that stay inside', async () => {
    const input = archive(
      before,
      symlink('a/b/up2', '../../ok'),
      symlink('a/b/down', 'c/d'),
      symlink('a/self', '.'),
      symlink('a/b/chain', '../self')
    )
    expect((await expectPassed(input)).entries).toBe(6)
  })

  it.each([
    ['/etc/passwd', /absolute/],
    ['../ok', /'\.\.'/],
    ['missing', /not a file the archive created/],
    ['sub', /not a file the archive created/],
    ['link', /symlink/],
    ['link/f', /symlink/]
  ])('hard link to %j', async (target, reason) => {
    const tree = Buffer.concat([before, file('sub/f'), symlink('link', 'sub')])
    await expectRefused(tree, hardLink('h', target), 'h', reason)
  })

  it('refuses a hard link whose own path passes through a symlink', async () => {
    const tree = Buffer.concat([before, file('sub/f'), symlink('link', 'sub')])
    await expectRefused(tree, hardLink('link/h', 'ok'), 'link/h', /through a symlink/)
  })

  it('applies PAX and GNU long names and link names before judging', async () => {
    const hidden = file('innocent')
    await expectRefused(before, Buffer.concat([pax({ path: '../evil' }), hidden]), '../evil')
    await expectRefused(before, Buffer.concat([gnuLong('/abs/evil'), hidden]), '/abs/evil')
    const link = symlink('innocent-link', 'fine')
    await expectRefused(
      before,
      Buffer.concat([pax({ linkpath: '/etc' }), link]),
      'innocent-link',
      /absolute/
    )
    await expectRefused(
      before,
      Buffer.concat([gnuLong('../../..', 'K'), link]),
      'innocent-link',
      /outside/
    )
    const long = `${'x'.repeat(200)}/../../evil`
    await expectRefused(before, Buffer.concat([pax({ path: long }), hidden]), long)
  })

  it('refuses hostile archives written by Python tarfile', async () => {
    for (const input of [python.hostileGnu, python.hostilePax]) {
      const result = await throughGate(input)
      expect(result.error).toBeInstanceOf(UnsafeEntryError)
      expect(result.entries).toBe(1)
      expect(result.output.includes(Buffer.from('p'.repeat(120)))).toBe(false)
    }
  })

  it('refuses a global PAX header that sets path, linkpath or size', async () => {
    for (const key of ['path', 'linkpath', 'size']) {
      const global = pax({ [key]: key === 'size' ? '0' : 'evil' }, 'g')
      await expectRefused(before, global, key === 'size' ? '0' : 'evil', /global/)
    }
  })

  it('checks the names a PAX path overrides too', async () => {
    const hiddenUstar = Buffer.concat([pax({ path: 'innocent' }), file('../evil')])
    await expectRefused(before, hiddenUstar, 'innocent', /also names it '\.\.\/evil'/)
    const hiddenGnu = Buffer.concat([gnuLong('innocent'), file('/etc/evil')])
    await expectRefused(before, hiddenGnu, 'innocent', /also names it/)
    // Writers truncate long names into the ustar field, possibly right after '..' of '..foo'.
    const truncated = Buffer.concat([gnuLong('dir/..foo'), entry({ name: 'dir/..', data: 'x' })])
    expect((await expectPassed(archive(truncated))).entries).toBe(1)
  })

  it('refuses GNU and PAX long names that disagree', async () => {
    const both = Buffer.concat([gnuLong('one'), pax({ path: 'two' }), file('x')])
    await expectRefused(before, both, 'two', /differ/)
  })

  it.each([
    ['S', /sparse/],
    ['M', /multi-volume/],
    ['D', /dump/],
    ['N', /long name/],
    ['X', /'X'/],
    ['9', /'9'/]
  ])('refuses entry type %s', async (type, reason) => {
    await expectRefused(before, entry({ name: 'odd', type, data: 'x' }), 'odd', reason)
  })

  it('refuses PAX sparse files', async () => {
    const sparse = Buffer.concat([pax({ 'GNU.sparse.size': '1000' }), file('sparse')])
    await expectRefused(before, sparse, 'sparse', /GNU\.sparse\.size/)
  })

  it('refuses data on entries that have none, where the two tars disagree on skipping it', async () => {
    await expectRefused(before, entry({ name: 'd', type: '5', data: 'x' }), 'd', /data/)
    await expectRefused(
      before,
      entry({ name: 'l', type: '2', linkName: 'ok', data: 'x' }),
      'l',
      /data/
    )
    await expectRefused(
      before,
      entry({ name: 'h', type: '1', linkName: 'ok', data: 'x' }),
      'h',
      /data/
    )
    await expectRefused(before, entry({ name: 'dir/', data: 'x' }), 'dir/', /data/)
    await expectRefused(
      before,
      Buffer.concat([pax({ size: '1' }), symlink('l', 'ok')]),
      'l',
      /data/
    )
  })
})

describe('TarGate skips devices and FIFOs', () => {
  it('drops them with their extended headers and reports each', async () => {
    const result = await throughGate(python.devices, 333)
    expect(result.error).toBeUndefined()
    expect(result.entries).toBe(2)
    expect(result.skipped.map(([name]) => name)).toEqual([longFifo, 'dev/null', 'dev/sda'])
    expect(result.skipped[0][1]).toMatch(/FIFO/)
    expect(result.skipped[1][1]).toMatch(/character device/)
    expect(result.output.includes(Buffer.from('f'.repeat(150)))).toBe(false)
    const listing = await tarList(result.output)
    expect(listing).toEqual(['before', 'after'])
  })

  it('skips a volume label', async () => {
    const input = archive(entry({ name: 'My Volume', type: 'V', magic: 'gnu' }), file('a'))
    const result = await throughGate(input)
    expect(result.error).toBeUndefined()
    expect(result.skipped).toEqual([['My Volume', 'volume label entries are not extracted']])
    expect(await tarList(result.output)).toEqual(['a'])
  })

  it('still refuses a device with an unsafe name', async () => {
    await expectRefused(Buffer.alloc(0), entry({ name: '../dev', type: '3' }), '../dev')
  })
})

describe('TarGate rejects damaged archives', () => {
  it('bad header checksum', async () => {
    await expectArchiveError(archive(file('a'), entry({ name: 'b', checksumError: 1 })), /checksum/)
  })

  it.each([
    ['octal with a stray character', '0000000001x\0'],
    ['digit 8', '00000000018\0'],
    ['leading NUL then digits', '\0 0000000001'],
    ['all blanks', '            '],
    ['base-64 (+)', '+00000000001'],
    ['negative base-256', '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff']
  ])('size field: %s', async (_label, raw) => {
    const sizeField = Buffer.from(raw, 'latin1')
    await expectArchiveError(archive(entry({ name: 'a', sizeField })), /Malformed numeric field/)
  })

  it.each([
    ['no length', Buffer.from('path=a\n')],
    ['wrong length', Buffer.from('99 path=a\n')],
    ['no newline', Buffer.from('10 path=ab')],
    ['no key', Buffer.from('5 =a\n')],
    ['leading blank', Buffer.from(' 9 path=a\n')],
    [
      'key twice',
      Buffer.concat([paxRecord('path', Buffer.from('a')), paxRecord('path', Buffer.from('b'))])
    ],
    ['NUL in path', paxRecord('path', Buffer.from('a\0b'))]
  ])('PAX header: %s', async (_label, data) => {
    const input = archive(entry({ name: 'PaxHeaders/x', type: 'x', data }), file('x'))
    await expectArchiveError(input, /Malformed PAX/)
  })

  it('NUL padding after the last PAX record (libarchive then drops the whole header)', async () => {
    const data = Buffer.concat([paxRecord('path', Buffer.from('padded')), Buffer.alloc(20)])
    const input = archive(entry({ name: 'PaxHeaders/x', type: 'x', data }), file('x'))
    await expectArchiveError(input, /Malformed PAX/)
  })

  it('a checksum field with anything but octal digits, spaces and NULs', async () => {
    const text = (sum: number) => `${sum.toString(8).padStart(6, '0')}\0X`
    await expectArchiveError(
      archive(entry({ name: 'a', data: 'x', checksumText: text })),
      /checksum/
    )
  })

  it('malformed PAX size', async () => {
    await expectArchiveError(archive(pax({ size: '12k' }), file('x')), /Malformed PAX size/)
  })

  it('two extended headers of one kind for one entry', async () => {
    await expectArchiveError(archive(gnuLong('a'), gnuLong('b'), file('x')), /Two GNU long name/)
    await expectArchiveError(archive(pax({ path: 'a' }), pax({ mtime: '1' }), file('x')), /Two PAX/)
  })

  it('a global header between an entry and its extended headers', async () => {
    await expectArchiveError(archive(gnuLong('a'), pax({ comment: 'c' }, 'g'), file('x')), /global/)
  })

  it('an extended header with no entry after it', async () => {
    await expectArchiveError(archive(file('a'), gnuLong('dangling')), /without an entry/)
  })

  it('an oversized extended header', async () => {
    const huge = entry({ name: 'PaxHeaders/x', type: 'x', data: Buffer.alloc(2 << 20, 0x41) })
    await expectArchiveError(archive(huge, file('x')), /Extended tar header of/)
  })

  it('truncated inside an entry, or without the end-of-archive marker', async () => {
    const whole = archive(file('a', 'x'.repeat(2000)))
    await expectArchiveError(whole.subarray(0, 1000), /truncated/)
    await expectArchiveError(whole.subarray(0, 512 * 5), /without an end-of-archive marker/)
    await expectArchiveError(whole.subarray(0, 100), /truncated/)
  })
})

let saved = 0
function sizeData(i: number): string {
  return String.fromCharCode(0x61 + i).repeat(i === 0 ? 15 : 17)
}

/** Extracts with the given tar (no gate) and lists 'path type [size]' for everything made. */
async function extractAndList(tar: string, data: Buffer): Promise<string[]> {
  const out = await fs.mkdtemp(path.join(work, `${tar}-`))
  await run(tar, ['-x', '-f', await save(`${tar}-${saved}.tar`, data), '-C', out])
  const { stdout } = await run('find', ['.', '-mindepth', '1', '-printf', '%P %y %s\\n'], {
    cwd: out
  })
  return stdout
    .trim()
    .split('\n')
    .map(line => line.replace(/ (d|l) \d+$/, ' $1'))
    .sort()
}

async function save(name: string, data: Buffer): Promise<string> {
  const file = path.join(work, name)
  await fs.writeFile(file, data)
  return file
}

async function tarList(data: Buffer): Promise<string[]> {
  const { stdout } = await run('tar', ['-tf', await save(`list-${saved++}.tar`, data)])
  return stdout.trim().split('\n')
}
