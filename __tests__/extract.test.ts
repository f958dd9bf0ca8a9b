/**
 * The in-process extractor against GNU tar on the same archives (made by GNU tar, bsdtar,
 * BusyBox tar and Python's tarfile), its blob ids against git's, and how it fails: hostile
 * entries, contradictions, truncation, a failing or aborted input, a full disk.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { TarExtractor, type ExtractResult } from '../src/archive/extract.js'
import { ArchiveError, ExpectedError, UnsafeEntryError } from '../src/errors.js'
import { extractTar, extractTarFile } from './support/extract-input.js'
import {
  describeTree,
  expectSameTree,
  gnuTarExtract,
  listedPaths
} from './support/extracted-tree.js'
import { archive, entry, pax, pythonTar, pythonTars } from './support/hostile-tar.js'
import { expectRecordedStats } from './support/file-stats.js'
import { tempDirectory } from './support/temp.js'

const run = promisify(execFile)

let work: string
let sourceTree: string
const unicodeName = `${'ü'.repeat(100)}-名前`
let paxUnicode: Buffer
let withSpecials: Buffer
beforeAll(async () => {
  ;[paxUnicode, withSpecials] = await pythonTars([
    {
      format: 'pax',
      members: [
        { name: 'dir', type: 'dir', mode: 0o755 },
        { name: `dir/${unicodeName}`, data: 'pax\n' }
      ]
    },
    {
      format: 'gnu',
      members: [
        { name: 'before', data: 'a' },
        { name: 'pipe', type: 'fifo' },
        { name: 'null', type: 'chr' },
        { name: 'after', data: 'b' }
      ]
    }
  ])
  work = await tempDirectory('extract-')
  sourceTree = path.join(work, 'source')
  await makeTree(sourceTree)
})

/**
 * What a checkout holds, and what tars get wrong: exec bits, special bits (dropped), long and
 * unicode names, symlinks (with their own times) and a hard link, empty, read-only and
 * private directories, a file larger than one read, times with nanoseconds and before 1970.
 */
async function makeTree(root: string): Promise<void> {
  const deep = path.join(root, 'src', 'a'.repeat(100), 'b'.repeat(100))
  await fs.mkdir(deep, { recursive: true })
  await fs.mkdir(path.join(root, '.git', 'refs', 'heads'), { recursive: true })
  await fs.mkdir(path.join(root, 'empty'))
  await fs.mkdir(path.join(root, 'private'), { mode: 0o700 })
  await fs.mkdir(path.join(root, 'shared'))
  await fs.chmod(path.join(root, 'shared'), 0o2775)
  await fs.writeFile(path.join(deep, `${'c'.repeat(150)}.txt`), 'deep\n')
  await fs.writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  await fs.writeFile(path.join(root, 'setuid'), 'x', { mode: 0o4755 })
  await fs.chmod(path.join(root, 'setuid'), 0o4755)
  await fs.writeFile(path.join(root, 'ünïcødé 名前.txt'), 'unicode\n')
  await fs.writeFile(path.join(root, 'empty-file'), '')
  await fs.writeFile(path.join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  await fs.writeFile(path.join(root, 'data.bin'), Buffer.alloc(3 << 20, 3))
  await fs.symlink('run.sh', path.join(root, 'link'))
  await fs.symlink('missing', path.join(root, 'dangling'))
  await fs.symlink('../../../run.sh', path.join(deep, 'up'))
  await fs.link(path.join(root, 'run.sh'), path.join(root, 'hard.sh'))
  await fs.mkdir(path.join(root, 'read-only'))
  await fs.writeFile(path.join(root, 'read-only', 'inside'), 'ro\n')
  // Times: nanoseconds, whole seconds, before 1970; on files, symlinks and directories.
  await run('touch', ['-d', '2001-02-03 04:05:06.123456789', path.join(root, 'run.sh')])
  await run('touch', ['-d', '1969-07-20 20:17:40', path.join(root, 'empty-file')])
  await run('touch', ['-h', '-d', '2002-03-04 05:06:07.5', path.join(root, 'link')])
  await run('touch', ['-h', '-d', '2003-04-05 06:07:08', path.join(deep, 'up')])
  await run('touch', ['-d', '2004-05-06 07:08:09.987654321', path.join(root, 'read-only')])
  await run('touch', ['-d', '2005-06-07 08:09:10', path.join(root, 'src')])
  await fs.chmod(path.join(root, 'read-only'), 0o555)
}

/** The same tree written by each tar that may have written a snapshot. */
const writers: Array<[string, (file: string, tree: string) => Promise<unknown>]> = [
  [
    'GNU tar, gnu format',
    (file, tree) => run('tar', ['-c', '--format=gnu', '-f', file, '-C', tree, '.'])
  ],
  [
    'GNU tar, posix format',
    (file, tree) => run('tar', ['-c', '--format=posix', '-f', file, '-C', tree, '.'])
  ],
  ['bsdtar', (file, tree) => run('bsdtar', ['-c', '-f', file, '-C', tree, '.'])],
  // The cachew server's image is Alpine: its tar is BusyBox's.
  ['BusyBox tar', (file, tree) => run('busybox', ['tar', '-c', '-f', file, '-C', tree, '.'])],
  ['Python tarfile, gnu format', (file, tree) => pythonTree(file, tree, 'GNU_FORMAT')],
  ['Python tarfile, pax format', (file, tree) => pythonTree(file, tree, 'PAX_FORMAT')]
]

function pythonTree(file: string, tree: string, format: string): Promise<unknown> {
  const script = `import sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.${format}) as tar:
    tar.add(sys.argv[2], arcname='.')`
  return run('python3', ['-c', script, file, tree])
}

async function freshDirectory(name: string): Promise<string> {
  return fs.mkdtemp(path.join(work, `${name}-`))
}

/** Open file descriptors of this process: an extraction must leave none behind. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length
}

describe('TarExtractor makes what GNU tar makes of the same archive', () => {
  it.each(writers)('written by %s', async (_writer, write) => {
    const file = path.join(await freshDirectory('archive'), 'snapshot.tar')
    await write(file, sourceTree)
    const reference = await freshDirectory('gnu-tar')
    await gnuTarExtract(file, reference)
    const directory = await freshDirectory('extracted')
    const result = extractTarFile(file, directory)
    expect(result.skipped).toEqual([])
    const listed = await listedPaths(file)
    expect(result.entries).toBe(listed.size)
    const expected = await describeTree(reference)
    expectSameTree(await describeTree(directory), expected, { timed: path => listed.has(path) })
    // The reference is the source tree, but for the bits GNU tar drops (special bits, and
    // what the umask masks); the hard link is one.
    const umask = process.umask()
    const masked = (mode: string) => (parseInt(mode, 8) & 0o777 & ~umask).toString(8)
    const source = (await describeTree(sourceTree)).lines.map(line =>
      line.replace(/^(\S+\/? )([0-7]+)/, (_all, name: string, mode: string) => name + masked(mode))
    )
    expect(expected.lines).toEqual(source)
    expect(expected.lines.filter(line => / same inode as hard\.sh$/.test(line))).toHaveLength(1)
  })

  it('restores BusyBox archives, the server’s, with exactly the same times', async () => {
    const file = path.join(await freshDirectory('busybox'), 'snapshot.tar')
    await run('busybox', ['tar', '-c', '-f', file, '-C', sourceTree, '.'])
    const reference = await freshDirectory('gnu-tar')
    await gnuTarExtract(file, reference)
    const directory = await freshDirectory('extracted')
    extractTarFile(file, directory)
    expectSameTree(await describeTree(directory), await describeTree(reference), { exact: true })
  })

  it('restores a PAX archive with unicode names byte for byte', async () => {
    const directory = await freshDirectory('pax')
    await extractTar(Readable.from([paxUnicode]), directory)
    const content = await fs.readFile(path.join(directory, 'dir', unicodeName), 'utf8')
    expect(content).toBe('pax\n')
  })

  it('ignores owners and special permission bits from the archive', async () => {
    const input = archive(
      entry({ name: 'setuid', mode: 0o6755, data: '#!/bin/sh\n' }),
      entry({ name: 'world', mode: 0o666, data: 'w' }),
      entry({ name: 'sticky/', type: '5', mode: 0o1777 }),
      entry({ name: 'locked/', type: '5', mode: 0o500 }),
      entry({ name: 'locked/inside', mode: 0o400, data: 'l' })
    )
    const directory = await freshDirectory('modes')
    await extractTar(Readable.from([withOwner(input, 12345)]), directory)
    const mode = async (name: string) => (await fs.stat(path.join(directory, name))).mode & 0o7777
    const umask = process.umask()
    expect(await mode('setuid')).toBe(0o755 & ~umask)
    expect(await mode('world')).toBe(0o666 & ~umask)
    expect(await mode('sticky')).toBe(0o777 & ~umask)
    expect(await mode('locked')).toBe(0o500 & ~umask)
    expect(await mode('locked/inside')).toBe(0o400 & ~umask)
    expect((await fs.stat(path.join(directory, 'setuid'))).uid).toBe(process.getuid!())
  })

  it('replaces an earlier entry of the same path as GNU tar does', async () => {
    const cases = await pythonTars([
      {
        format: 'gnu',
        members: [
          { name: 'a', data: 'one' },
          { name: 'h', type: 'link', linkName: 'a' },
          { name: 'a', data: 'two' }
        ]
      },
      {
        format: 'gnu',
        members: [
          { name: 'a', data: 'one' },
          { name: 'a', type: 'dir', mode: 0o755 }
        ]
      },
      {
        format: 'gnu',
        members: [
          { name: 'a', type: 'dir', mode: 0o755 },
          { name: 'a', data: 'two' }
        ]
      }
    ])
    for (const input of cases) {
      const file = path.join(await freshDirectory('duplicate'), 'archive.tar')
      await fs.writeFile(file, input)
      const reference = await freshDirectory('gnu-tar')
      await gnuTarExtract(file, reference)
      const directory = await freshDirectory('extracted')
      const result = extractTarFile(file, directory)
      expectSameTree(await describeTree(directory), await describeTree(reference), {
        timed: path => path !== '.'
      })
      if (result.blobIds.has('a')) {
        expect(result.blobIds.get('a')).toBe(await hashObject(path.join(directory, 'a')))
      }
    }
  })

  it('writes many entries through writes of any size', async () => {
    const file = path.join(await freshDirectory('chunked'), 'snapshot.tar')
    await run('tar', ['-c', '--format=posix', '-f', file, '-C', sourceTree, '.'])
    const input = await fs.readFile(file)
    const reference = await describeTree(await extractedBy(input, 1 << 20))
    for (const size of [511, 4097]) {
      expectSameTree(await describeTree(await extractedBy(input, size)), reference, {
        timed: path => path !== '.'
      })
    }
  })
})

/** Extracts input written in pieces of `size`, through one buffer overwritten after each. */
async function extractedBy(input: Buffer, size: number): Promise<string> {
  const directory = await freshDirectory(`pieces-${size}`)
  const extractor = new TarExtractor(directory, {})
  const buffer = Buffer.alloc(size)
  for (let at = 0; at < input.length; at += size) {
    extractor.write(buffer.subarray(0, input.copy(buffer, 0, at, at + size)))
    buffer.fill(0x5a)
  }
  extractor.end()
  return directory
}

async function hashObject(file: string): Promise<string> {
  return (await run('git', ['hash-object', '--no-filters', file])).stdout.trim()
}

/** The blob ids git's index holds: path (as latin1 of its bytes) to id. */
async function indexIds(repository: string): Promise<Map<string, string>> {
  const { stdout } = await run('git', ['-C', repository, 'ls-files', '-s', '-z'], {
    encoding: 'latin1'
  })
  const ids = new Map<string, string>()
  for (const record of stdout.split('\0').filter(Boolean)) {
    const [meta, name] = record.split('\t')
    ids.set(name, meta.split(' ')[1])
  }
  return ids
}

/** A repository with what git stores: files, an executable, a symlink, unicode, a big file. */
async function makeRepository(root: string, objectFormat: 'sha1' | 'sha256'): Promise<void> {
  await fs.mkdir(path.join(root, 'src', 'deep'), { recursive: true })
  await fs.writeFile(path.join(root, 'README.md'), '# readme\n')
  await fs.writeFile(path.join(root, 'src', 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  await fs.writeFile(path.join(root, 'src', 'deep', `${'x'.repeat(120)}.txt`), 'long\n')
  await fs.writeFile(path.join(root, 'ünïcødé 名前.txt'), 'unicode\n')
  await fs.writeFile(path.join(root, 'empty'), '')
  await fs.writeFile(path.join(root, 'big.bin'), Buffer.alloc(3 << 20, 9))
  await fs.symlink('src/run.sh', path.join(root, 'link'))
  await fs.link(path.join(root, 'README.md'), path.join(root, 'hard.md'))
  await run('git', ['init', '-q', `--object-format=${objectFormat}`, root])
  await run('git', ['-C', root, 'add', '-A'])
  await run('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'c'])
}

describe('Blob ids', () => {
  it('are git’s ids of every working-tree file and symlink, and nothing in .git', async () => {
    const repository = path.join(await freshDirectory('repository'), 'repo')
    await makeRepository(repository, 'sha1')
    const file = path.join(work, 'repository.tar')
    await run('tar', ['-cf', file, '-C', repository, '.'])
    const directory = await freshDirectory('extracted')
    const { blobIds } = extractTarFile(file, directory)
    const expected = await indexIds(repository)
    expect(expected.size).toBe(8)
    expect(new Map([...blobIds].sort())).toEqual(new Map([...expected].sort()))
    const unicode = Buffer.from('ünïcødé 名前.txt').toString('latin1')
    expect(blobIds.get(unicode)).toBe(await hashObject(path.join(directory, 'ünïcødé 名前.txt')))
    expect(blobIds.get('big.bin')).toBe(await hashObject(path.join(directory, 'big.bin')))
    expect(blobIds.get('link')).toMatch(/^[0-9a-f]{40}$/)
  })

  it('use SHA-256 once the archive’s .git/config says so; files before it get none', async () => {
    const repository = path.join(await freshDirectory('repository'), 'repo')
    await makeRepository(repository, 'sha256')
    const expected = await indexIds(repository)
    const file = path.join(work, 'sha256.tar')
    // .git first: every id is SHA-256.
    const rest = [...expected.keys()].filter(name => !name.includes('/') && /^[ -~]+$/.test(name))
    await run('tar', ['-cf', file, '-C', repository, '.git', 'src', ...rest])
    const first = extractTarFile(file, await freshDirectory('sha256'))
    expect(first.blobIds.get('README.md')).toBe(expected.get('README.md'))
    expect(first.blobIds.get('src/run.sh')).toMatch(/^[0-9a-f]{64}$/)
    expect(first.blobIds.get('src/run.sh')).toBe(expected.get('src/run.sh'))
    expect(first.blobIds.get('link')).toBe(expected.get('link'))
    // .git after README.md: README.md was hashed with SHA-1, which is dropped.
    await run('tar', ['-cf', file, '-C', repository, 'README.md', '.git', 'src'])
    const laterDirectory = await freshDirectory('sha256-later')
    const later = extractTarFile(file, laterDirectory)
    expect(later.blobIds.has('README.md')).toBe(false)
    expect(later.blobIds.get('src/run.sh')).toBe(expected.get('src/run.sh'))
    expect([...later.blobIds.keys()].sort()).toEqual([
      'src/deep/' + 'x'.repeat(120) + '.txt',
      'src/run.sh'
    ])
    // The stat data follows the ids: README.md has none.
    expectRecordedStats(later, laterDirectory, [])
  })
})

describe('Stat data of the extracted files', () => {
  it('is what lstat gives for each file with an id; none for symlinks and hard links', async () => {
    const repository = path.join(await freshDirectory('repository'), 'repo')
    await makeRepository(repository, 'sha1')
    const file = path.join(work, 'stats.tar')
    await run('tar', ['-cf', file, '-C', repository, '.'])
    const directory = await freshDirectory('stats')
    const result = extractTarFile(file, directory)
    expect(result.blobIds.size).toBe(8)
    // hard.md and README.md are one file, whichever of them tar wrote as the link.
    expectRecordedStats(result, directory, ['link', 'hard.md', 'README.md'])
  })

  it('follows the ids when a path is written again, replaced, or linked to', async () => {
    const input = await pythonTar('gnu', [
      { name: 'rewritten', data: 'one' },
      { name: 'rewritten', data: 'two' },
      { name: 'linked', data: 'one' },
      { name: 'link', type: 'link', linkName: 'linked' },
      { name: 'relinked', data: 'two' },
      { name: 'keeps-old', type: 'link', linkName: 'relinked' },
      { name: 'relinked', data: 'three' },
      { name: 'now-a-symlink', data: 'file first' },
      { name: 'now-a-symlink', type: 'symlink', linkName: 'rewritten' },
      { name: 'link-target', data: 'target' },
      { name: 'now-a-link', data: 'file first' },
      { name: 'now-a-link', type: 'link', linkName: 'link-target' },
      { name: 'from-git', data: 'x' },
      { name: '.git/', type: 'dir', mode: 0o755 },
      { name: '.git/linked', type: 'link', linkName: 'from-git' },
      { name: 'plain', data: 'plain' }
    ])
    const directory = await freshDirectory('stats-replaced')
    const result = await extractTar(Readable.from([input]), directory)
    expect([...result.blobIds.keys()].sort()).toEqual([
      'from-git',
      'keeps-old',
      'link',
      'link-target',
      'linked',
      'now-a-link',
      'now-a-symlink',
      'plain',
      'relinked',
      'rewritten'
    ])
    // A link changes its target's ctime: both names are left to lstat. A file written again
    // is a new inode, recorded afresh (the old one lives on as 'keeps-old').
    expectRecordedStats(result, directory, [
      'link',
      'linked',
      'keeps-old',
      'now-a-symlink',
      'now-a-link',
      'link-target',
      'from-git'
    ])
  })
})

describe('extractTar, from a stream', () => {
  it('refuses a hostile entry, writes nothing outside, and leaves no file open', async () => {
    const sandbox = await freshDirectory('sandbox')
    const directory = path.join(sandbox, 'target')
    await fs.mkdir(directory)
    const input = archive(
      entry({ name: 'fine', data: 'ok' }),
      entry({ name: 'escape', type: '2', linkName: '..' }),
      entry({ name: 'escape/outside', data: 'pwned' })
    )
    const open = openDescriptors()
    const failure = extractTar(
      Readable.from([input.subarray(0, 700), input.subarray(700)]),
      directory
    )
    await expect(failure).rejects.toThrow(UnsafeEntryError)
    await expect(failure).rejects.toThrow(/'escape'/)
    expect(openDescriptors()).toBe(open)
    expect(await fs.readdir(sandbox)).toEqual(['target'])
    expect(await fs.readdir(directory)).toEqual(['fine'])
  })

  it('explains entries that contradict earlier ones, naming the entry', async () => {
    // A file, then an entry that needs it to be a directory: GNU tar fails there too.
    const input = archive(entry({ name: 'a', data: 'file' }), entry({ name: 'a/b', data: 'x' }))
    const failure = extractTar(Readable.from([input]), await freshDirectory('conflict'))
    await expect(failure).rejects.toThrow(ArchiveError)
    await expect(failure).rejects.toThrow(/Cannot extract 'a\/b': 'a' is not a directory/)
    // A directory with something in it cannot become a file (GNU tar: "File exists").
    const nonEmpty = archive(
      entry({ name: 'd/', type: '5', mode: 0o755 }),
      entry({ name: 'd/x', data: 'x' }),
      entry({ name: 'd', data: 'file' })
    )
    const second = extractTar(Readable.from([nonEmpty]), await freshDirectory('conflict'))
    await expect(second).rejects.toThrow(ArchiveError)
    await expect(second).rejects.toThrow(/Cannot extract 'd': .*ENOTEMPTY/)
  })

  it('names the entry when the filesystem refuses it', async () => {
    const name = `${'n'.repeat(300)}.txt`
    const input = archive(
      entry({ name: 'ok', data: 'x' }),
      Buffer.concat([pax({ path: name }), entry({ name: 'short', data: 'y' })])
    )
    const failure = extractTar(Readable.from([input]), await freshDirectory('too-long'))
    await expect(failure).rejects.toThrow(ExpectedError)
    await expect(failure).rejects.toThrow(new RegExp(`Cannot extract '${name}': ENAMETOOLONG`))
  })

  it('rejects with the input’s error when the input fails, leaving no file open', async () => {
    const boom = new Error('download failed')
    const partial = entry({ name: 'partial', data: 'x'.repeat(4000) }).subarray(0, 2048)
    async function* failing() {
      yield partial
      throw boom
    }
    const open = openDescriptors()
    const directory = await freshDirectory('input-error')
    await expect(extractTar(Readable.from(failing()), directory)).rejects.toBe(boom)
    expect(openDescriptors()).toBe(open)
    expect(await fs.readdir(directory)).toEqual(['partial'])
  })

  it('rejects with the abort reason on abort, leaving no file open', async () => {
    const controller = new AbortController()
    const reason = new Error('cancelled by test')
    const partial = entry({ name: 'partial', data: 'x'.repeat(4000) }).subarray(0, 2048)
    async function* stalling() {
      yield partial
      controller.abort(reason)
      await new Promise(() => undefined)
    }
    const open = openDescriptors()
    const extraction = extractTar(Readable.from(stalling()), await freshDirectory('abort'), {
      signal: controller.signal
    })
    await expect(extraction).rejects.toBe(reason)
    expect(openDescriptors()).toBe(open)
  })

  it('skips FIFOs and devices and reports them', async () => {
    const directory = await freshDirectory('skip')
    const reported: string[] = []
    const result: ExtractResult = await extractTar(Readable.from([withSpecials]), directory, {
      onSkip: (name, reason) => reported.push(`${name}: ${reason}`)
    })
    expect(result.entries).toBe(2)
    expect(result.skipped).toEqual(['pipe', 'null'])
    expect([...result.blobIds.keys()]).toEqual(['before', 'after'])
    expect(reported).toEqual([
      'pipe: FIFO entries are not extracted',
      'null: character device entries are not extracted'
    ])
    expect((await fs.readdir(directory)).sort()).toEqual(['after', 'before'])
  })

  it('refuses a directory that is not empty', async () => {
    const directory = await freshDirectory('not-empty')
    await fs.writeFile(path.join(directory, 'x'), 'x')
    const input = Readable.from([archive(entry({ name: 'a', data: 'a' }))])
    await expect(extractTar(input, directory)).rejects.toThrow(/not empty/)
    expect(input.destroyed).toBe(true)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const directory = await freshDirectory('pre-aborted')
    const reason = new Error('already cancelled')
    const input = Readable.from([archive(entry({ name: 'a', data: 'a' }))])
    const failure = extractTar(input, directory, { signal: AbortSignal.abort(reason) })
    await expect(failure).rejects.toBe(reason)
    expect(await fs.readdir(directory)).toEqual([])
  })
})

/**
 * A download cut short must never pass for a whole snapshot. GNU tar takes some of these
 * cuts (inside a header, at a header boundary) for the end of the archive; the extractor
 * refuses them all.
 */
describe('Truncated archives', () => {
  // A PAX header and its file, then a second file, then the end-of-archive marker.
  const whole = archive(
    Buffer.concat([pax({ path: 'paxed' }), entry({ name: 'p', data: 'd'.repeat(1000) })]),
    entry({ name: 'second', data: 's' })
  )
  const dataStart = 512 * 3
  const endMarker = whole.length - 1024
  it.each([
    ['inside the extended header block', 100, /truncated/],
    ['inside the extended header data', 512 + 20, /truncated/],
    ['between an extended header and its entry', 1024, /truncated/],
    ['inside a header', 1024 + 300, /truncated/],
    ['after a header, before its data', dataStart, /truncated/],
    ['inside data', dataStart + 500, /truncated/],
    ['inside the padding after data', dataStart + 1010, /truncated/],
    ['between entries, without an end marker', endMarker - 1024, /without an end-of-archive/],
    ['after the last entry, without an end marker', endMarker, /without an end-of-archive/]
  ])('%s', async (_label, length, message) => {
    const input = whole.subarray(0, length)
    for (const size of [1, 100, 1 << 20]) {
      const open = openDescriptors()
      const directory = await freshDirectory('truncated')
      const extractor = new TarExtractor(directory, {})
      const failure = () => {
        for (let at = 0; at < input.length; at += size) {
          extractor.write(input.subarray(at, at + size))
        }
        extractor.end()
      }
      expect(failure).toThrow(ArchiveError)
      expect(failure).toThrow(message)
      expect(openDescriptors()).toBe(open)
    }
  })

  it('accepts an archive cut after its first zero block, as tar does', async () => {
    const directory = await freshDirectory('lone-zero-block')
    const extractor = new TarExtractor(directory, {})
    extractor.write(whole.subarray(0, whole.length - 512))
    extractor.end()
    expect(extractor.result.entries).toBe(2)
  })
})

describe('A full disk', () => {
  /** A small tmpfs, mounted for the test and unmounted after it. */
  async function withSmallDisk(options: string, test: (mount: string) => Promise<void>) {
    const mount = await freshDirectory('small-disk')
    await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mount])
    try {
      await test(mount)
    } finally {
      await run('umount', [mount])
    }
  }

  it('is explained: the directory, its free space, and what was being written', async () => {
    await withSmallDisk('size=1m', async mount => {
      const directory = path.join(mount, 'staging')
      await fs.mkdir(directory)
      const input = archive(
        entry({ name: 'small', data: 'x' }),
        entry({ name: 'large.bin', data: Buffer.alloc(2 << 20, 1) })
      )
      const open = openDescriptors()
      const failure = extractTar(Readable.from([input]), directory)
      await expect(failure).rejects.toThrow(ExpectedError)
      await expect(failure).rejects.toThrow(
        new RegExp(
          `^Not enough disk space to extract the snapshot: the filesystem of ${directory} ` +
            `ran out \\([0-9.]+ KiB free of 1\\.0 MiB\\) after .* while writing 'large\\.bin'; ` +
            'the tree needs at least 2\\.0 MiB\\.'
        )
      )
      expect(openDescriptors()).toBe(open)
    })
  })

  it('says so when it ran out of inodes', async () => {
    await withSmallDisk('size=10m,nr_inodes=8', async mount => {
      const directory = path.join(mount, 'staging')
      await fs.mkdir(directory)
      const files = Array.from({ length: 20 }, (_, i) => entry({ name: `f${i}`, data: 'x' }))
      const failure = extractTar(Readable.from([archive(...files)]), directory)
      await expect(failure).rejects.toThrow(/no free inodes\) after .* while writing 'f\d+'/)
    })
  })
})

/** Rewrites every header's uid/gid fields (and checksum) to the given owner. */
function withOwner(input: Buffer, id: number): Buffer {
  const out = Buffer.from(input)
  for (let at = 0; at + 512 <= out.length; at += 512) {
    const block = out.subarray(at, at + 512)
    if (block.every(byte => byte === 0) || block.toString('latin1', 257, 262) !== 'ustar') continue
    const field = `${id.toString(8).padStart(7, '0')}\0`
    block.write(field, 108, 'latin1')
    block.write(field, 116, 'latin1')
    block.fill(0x20, 148, 156)
    const sum = block.reduce((total, byte) => total + byte, 0)
    block.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1')
  }
  return out
}
