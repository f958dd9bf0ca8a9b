/**
 * The gate's rules, through the extractor that applies them: every archive a tar reads one
 * way is extracted as GNU tar extracts it, every unsafe entry is refused by name before
 * anything of it is written (and nothing is written outside the directory), damaged archives
 * are refused, devices and FIFOs are skipped.
 */
import { describe, expect, it, beforeAll } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'
import {
  TarExtractor,
  type ExtractResult,
  type TarExtractorOptions
} from '../src/archive/extract.js'
import { ArchiveError, UnsafeEntryError } from '../src/errors.js'
import {
  describeTree,
  expectSameTree,
  gnuTarExtract,
  listedPaths
} from './support/extracted-tree.js'
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
import { tempDirectory } from './support/temp.js'

const run = promisify(execFile)

interface Extraction {
  /** The staging directory, and the sandbox that holds only it. */
  root: string
  sandbox: string
  result: ExtractResult
  skipped: Array<[string, string]>
  error?: Error
}

/**
 * Extracts input into a fresh directory, written in pieces of chunkSize through one buffer
 * that is overwritten after every write, as a real caller reuses its memory: whatever the
 * extractor keeps across writes (split headers, extended headers) it must have copied.
 */
async function extractChunked(
  input: Buffer,
  chunkSize = 65536,
  options: TarExtractorOptions = {}
): Promise<Extraction> {
  const sandbox = await tempDirectory('tar-gate-')
  const root = path.join(sandbox, 'root')
  await fs.mkdir(root)
  const skipped: Array<[string, string]> = []
  const extractor = new TarExtractor(root, {
    ...options,
    onSkip: (name, reason) => skipped.push([name, reason])
  })
  const buffer = Buffer.alloc(chunkSize)
  let error: Error | undefined
  try {
    for (let at = 0; at < input.length; at += chunkSize) {
      const length = input.copy(buffer, 0, at, at + chunkSize)
      extractor.write(buffer.subarray(0, length))
      buffer.fill(0xa5)
    }
    extractor.end()
  } catch (caught) {
    error = caught as Error
  } finally {
    extractor.close()
  }
  return { root, sandbox, result: extractor.result, skipped, error }
}

/** What GNU tar makes of the same bytes, and the paths it lists. */
async function gnuTarTree(input: Buffer) {
  const directory = await tempDirectory('gnu-tar-')
  const file = path.join(directory, 'archive.tar')
  await fs.writeFile(file, input)
  await gnuTarExtract(file, path.join(directory, 'out'))
  return { ...(await describeTree(path.join(directory, 'out'))), listed: await listedPaths(file) }
}

/**
 * Extracts input without error into the tree GNU tar makes of it, with the same mtimes on
 * every path the archive lists (and `timed` accepts).
 */
async function expectExtracted(
  input: Buffer,
  chunkSize?: number,
  timed: (relative: string) => boolean = () => true
): Promise<Extraction> {
  const extraction = await extractChunked(input, chunkSize)
  expect(extraction.error).toBeUndefined()
  const reference = await gnuTarTree(input)
  expectSameTree(await describeTree(extraction.root), reference, {
    timed: relative => reference.listed.has(relative) && timed(relative)
  })
  return extraction
}

/** The tree without directory modes, which are set only at the end of an extraction. */
async function structure(root: string): Promise<string[]> {
  return (await describeTree(root)).lines.map(line => line.replace(/\/ [0-7]+$/, '/'))
}

/**
 * Expects `hostile` (placed after `before`) refused with UnsafeEntryError naming `name`, and
 * nothing of it written: the directory holds what `before` alone makes, and the sandbox
 * around it holds nothing else.
 */
async function expectRefused(
  before: Buffer,
  hostile: Buffer,
  name: string,
  reason?: RegExp,
  options: TarExtractorOptions = {}
) {
  const input = archive(before, hostile, entry({ name: 'after', data: 'x' }))
  const beforeAlone = (await gnuTarTree(archive(before))).lines.map(line =>
    line.replace(/\/ [0-7]+$/, '/')
  )
  for (const chunkSize of [1, 500, 65536]) {
    const extraction = await extractChunked(input, chunkSize, options)
    expect(extraction.error).toBeInstanceOf(UnsafeEntryError)
    expect((extraction.error as UnsafeEntryError).entry).toBe(name)
    if (reason) expect(extraction.error!.message).toMatch(reason)
    expect(await fs.readdir(extraction.sandbox)).toEqual(['root'])
    expect(await structure(extraction.root)).toEqual(beforeAlone)
  }
}

async function expectArchiveError(input: Buffer, message: RegExp) {
  const extraction = await extractChunked(input, 700)
  expect(extraction.error).toBeInstanceOf(ArchiveError)
  expect(extraction.error).not.toBeInstanceOf(UnsafeEntryError)
  expect(extraction.error!.message).toMatch(message)
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
  work = await tempDirectory('tar-gate-work-')
  const built = await pythonTars(Object.values(pythonSpecs))
  Object.keys(pythonSpecs).forEach((name, i) => (python[name] = built[i]))
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

describe('The extractor reads real archives as GNU tar does', () => {
  it.each(['gnu', 'posix', 'ustar', 'oldgnu'])('GNU tar --format=%s', async format => {
    const root = path.join(work, `tree-${format}`)
    await makeTree(root)
    const tarFile = path.join(work, `${format}.tar`)
    // ustar cannot store the 120-byte deep file name; leave it out there.
    const exclude = format === 'ustar' ? ['--exclude=src'] : []
    await run('tar', ['-c', `--format=${format}`, ...exclude, '-f', tarFile, '-C', root, '.'])
    const input = await fs.readFile(tarFile)
    const listed = (await run('tar', ['-tf', tarFile])).stdout.trim().split('\n')
    const reference = await gnuTarTree(input)
    for (const chunkSize of [7, 511, 513, 4096, 1 << 20]) {
      const extraction = await extractChunked(input, chunkSize)
      expect(extraction.error).toBeUndefined()
      expect(extraction.result.entries).toBe(listed.length)
      expectSameTree(await describeTree(extraction.root), reference)
    }
  })

  it.each(['gnu', 'pax', 'ustar'] as const)('Python tarfile, %s format', async format => {
    const extraction = await expectExtracted(python[format])
    expect(extraction.result.entries).toBe(5)
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
    const extraction = await expectExtracted(input)
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
    expect(await listTree(extraction.root)).toEqual(listings[0])
  })

  it('never parses file data: a file holding a hostile header is just data', async () => {
    const inner = archive(file('../../escaped', 'x'))
    const input = archive(entry({ name: 'fixture.tar', data: inner }), file('next'))
    const extraction = await expectExtracted(input)
    expect(extraction.result.entries).toBe(2)
    expect((await fs.readFile(path.join(extraction.root, 'fixture.tar'))).equals(inner)).toBe(true)
    expect(await fs.readdir(extraction.sandbox)).toEqual(['root'])
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
    // GNU tar leaves 'a/b' with the time of extraction: it sets the time of the directory it
    // spelled './a//b/', then replaces the placeholder of the delayed symlink 'a/b/up' in it.
    const extraction = await expectExtracted(input, 100, relative => relative !== 'a/b')
    expect(extraction.result.entries).toBe(8)
    const time = await fs.lstat(path.join(extraction.root, 'a/b'))
    expect(time.mtimeMs).toBe(1_700_000_000_000)
  })

  it('joins the POSIX prefix field only for POSIX ustar headers', async () => {
    // With POSIX magic the name is prefix + '/' + name; a GNU header ignores the field.
    const posix = header({ name: 'x', prefix: '..', magic: 'ustar' })
    await expectRefused(Buffer.alloc(0), Buffer.concat([posix]), '../x', /'\.\.'/)
    const gnu = archive(entry({ name: 'x', prefix: '..', magic: 'gnu', data: 'g' }))
    const extraction = await expectExtracted(gnu)
    expect(await fs.readFile(path.join(extraction.root, 'x'), 'utf8')).toBe('g')
  })

  it('stops at the first zero block and ignores what follows, as tar does', async () => {
    const input = Buffer.concat([
      file('good'),
      Buffer.alloc(512),
      file('../after-end'),
      endOfArchive()
    ])
    const extraction = await extractChunked(input, 100)
    expect(extraction.error).toBeUndefined()
    expect(extraction.result.entries).toBe(1)
    expect(await fs.readdir(extraction.root)).toEqual(['good'])
    expect(await fs.readdir(extraction.sandbox)).toEqual(['root'])
  })

  it('accepts a global PAX header that does not rename or re-date entries', async () => {
    const input = python.globalComment
    expect(input.subarray(156, 157).toString()).toBe('g')
    expect((await expectExtracted(input)).result.entries).toBe(1)
  })

  it('takes the mtime from a PAX record, fraction included, and from base-256 before 1970', async () => {
    const input = archive(
      Buffer.concat([pax({ mtime: '1234567890.5' }), file('pax-time')]),
      entry({ name: 'old', data: 'o', mtimeField: negativeBase256(-86400 * 365) })
    )
    const extraction = await expectExtracted(input)
    const time = async (name: string) =>
      (await fs.lstat(path.join(extraction.root, name), { bigint: true })).mtimeNs
    expect(await time('pax-time')).toBe(1234567890_500000000n)
    expect(await time('old')).toBe(-86400n * 365n * 1_000_000_000n)
  })
})

describe('The extractor refuses entries that would write outside the directory', () => {
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

  it('refuses a write through a symlink that escapes, with nothing written outside', async () => {
    // Were the symlink made and followed, 'outside' would land in the sandbox.
    const escape = Buffer.concat([before, symlink('escape', '..')])
    await expectRefused(before, escape, 'escape', /outside/)
    const inside = Buffer.concat([before, dir('d/'), symlink('d/up', '..')])
    await expectRefused(inside, file('d/up/../../outside'), 'd/up/../../outside', /'\.\.'/)
    await expectRefused(inside, file('d/up/x'), 'd/up/x', /through a symlink/)
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
    const exact = await extractChunked(archive(link, file('LINK/x')), 512, {
      caseInsensitive: false
    })
    expect(exact.error).toBeUndefined()
    expect(await fs.readFile(path.join(exact.root, 'LINK', 'x'), 'utf8')).toBe('data')
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
    expect((await expectExtracted(input)).result.entries).toBe(6)
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
      const extraction = await extractChunked(input)
      expect(extraction.error).toBeInstanceOf(UnsafeEntryError)
      expect((extraction.error as UnsafeEntryError).entry).toBe(climbing)
      expect(extraction.result.entries).toBe(1)
      expect(await fs.readdir(extraction.root)).toEqual(['ok'])
      expect(await fs.readdir(extraction.sandbox)).toEqual(['root'])
    }
  })

  it('refuses a global PAX header that sets path, linkpath, size or mtime', async () => {
    for (const key of ['path', 'linkpath', 'size', 'mtime']) {
      const value = key === 'size' || key === 'mtime' ? '0' : 'evil'
      await expectRefused(before, pax({ [key]: value }, 'g'), value, /global/)
    }
  })

  it('checks the names a PAX path overrides too', async () => {
    const hiddenUstar = Buffer.concat([pax({ path: 'innocent' }), file('../evil')])
    await expectRefused(before, hiddenUstar, 'innocent', /also names it '\.\.\/evil'/)
    const hiddenGnu = Buffer.concat([gnuLong('innocent'), file('/etc/evil')])
    await expectRefused(before, hiddenGnu, 'innocent', /also names it/)
    // Writers truncate long names into the ustar field, possibly right after '..' of '..foo'.
    const truncated = Buffer.concat([gnuLong('dir/..foo'), entry({ name: 'dir/..', data: 'x' })])
    expect((await expectExtracted(archive(truncated))).result.entries).toBe(1)
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

describe('The extractor skips devices and FIFOs', () => {
  it('drops them with their extended headers and reports each', async () => {
    const extraction = await extractChunked(python.devices, 333)
    expect(extraction.error).toBeUndefined()
    expect(extraction.result.entries).toBe(2)
    expect(extraction.result.skipped).toEqual([longFifo, 'dev/null', 'dev/sda'])
    expect(extraction.skipped.map(([name]) => name)).toEqual([longFifo, 'dev/null', 'dev/sda'])
    expect(extraction.skipped[0][1]).toMatch(/FIFO/)
    expect(extraction.skipped[1][1]).toMatch(/character device/)
    expect((await fs.readdir(extraction.root)).sort()).toEqual(['after', 'before'])
  })

  it('skips a volume label', async () => {
    const input = archive(entry({ name: 'My Volume', type: 'V', magic: 'gnu' }), file('a'))
    const extraction = await extractChunked(input)
    expect(extraction.error).toBeUndefined()
    expect(extraction.skipped).toEqual([['My Volume', 'volume label entries are not extracted']])
    expect(await fs.readdir(extraction.root)).toEqual(['a'])
  })

  it('still refuses a device with an unsafe name', async () => {
    await expectRefused(Buffer.alloc(0), entry({ name: '../dev', type: '3' }), '../dev')
  })
})

describe('The extractor rejects damaged archives', () => {
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

  it('a malformed mode or mtime field', async () => {
    const modeField = Buffer.from('0000x44\0', 'latin1')
    await expectArchiveError(archive(entry({ name: 'a', modeField })), /Malformed numeric field/)
    const mtimeField = Buffer.from('1234567890z\0', 'latin1')
    await expectArchiveError(archive(entry({ name: 'a', mtimeField })), /Malformed numeric field/)
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

  it('malformed PAX size and mtime', async () => {
    await expectArchiveError(archive(pax({ size: '12k' }), file('x')), /Malformed PAX size/)
    await expectArchiveError(archive(pax({ mtime: '1e9' }), file('x')), /Malformed PAX mtime/)
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
})

function sizeData(i: number): string {
  return String.fromCharCode(0x61 + i).repeat(i === 0 ? 15 : 17)
}

/** GNU base-256 for a negative number: 0xff, then the rest of the two's complement. */
function negativeBase256(value: number): Buffer {
  const field = Buffer.alloc(12, 0xff)
  field.writeIntBE(value, 6, 6)
  return field
}

/** 'path type [size]' for everything below root, as find prints it. */
async function listTree(root: string): Promise<string[]> {
  const { stdout } = await run('find', ['.', '-mindepth', '1', '-printf', '%P %y %s\\n'], {
    cwd: root
  })
  return stdout
    .trim()
    .split('\n')
    .map(line => line.replace(/ (d|l) \d+$/, ' $1'))
    .sort()
}

let saved = 0
/** Extracts with the given tar (no gate) and lists what it made. */
async function extractAndList(tar: string, data: Buffer): Promise<string[]> {
  const out = await fs.mkdtemp(path.join(work, `${tar}-`))
  const file = path.join(work, `${tar}-${saved++}.tar`)
  await fs.writeFile(file, data)
  await run(tar, ['-x', '-f', file, '-C', out])
  return listTree(out)
}
