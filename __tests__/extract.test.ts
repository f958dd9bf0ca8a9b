import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { detectTar, extractTar, extractTarWith, type TarProgram } from '../src/archive/extract.js'
import { ArchiveError, ExpectedError, UnsafeEntryError } from '../src/errors.js'
import { archive, entry, pythonTars } from './support/hostile-tar.js'

const run = promisify(execFile)

let work: string
let sourceTree: string
let snapshot: string
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
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'extract-'))
  sourceTree = path.join(work, 'source')
  await makeTree(sourceTree)
  snapshot = path.join(work, 'snapshot.tar')
  // As the cachew server writes it: GNU tar -cpf - -C DIR .
  await run('tar', ['-cpf', snapshot, '-C', sourceTree, '.'])
})
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true })
})

async function makeTree(root: string): Promise<void> {
  const deep = path.join(root, 'src', 'a'.repeat(100), 'b'.repeat(100))
  await fs.mkdir(deep, { recursive: true })
  await fs.mkdir(path.join(root, '.git', 'refs', 'heads'), { recursive: true })
  await fs.mkdir(path.join(root, 'empty'))
  await fs.writeFile(path.join(deep, `${'c'.repeat(150)}.txt`), 'deep\n')
  await fs.writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  await fs.writeFile(path.join(root, 'ünïcødé 名前.txt'), 'unicode\n')
  await fs.writeFile(path.join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  await fs.writeFile(path.join(root, 'data.bin'), Buffer.alloc(1 << 20, 3))
  await fs.symlink('run.sh', path.join(root, 'link'))
  await fs.symlink('../../../run.sh', path.join(deep, 'up'))
  await fs.link(path.join(root, 'run.sh'), path.join(root, 'hard.sh'))
}

async function freshDirectory(name: string): Promise<string> {
  const directory = await fs.mkdtemp(path.join(work, `${name}-`))
  return directory
}

/** A tar that records its pid, so a test can tell whether it still runs. */
async function recordingTar(
  flavour: 'gnu' | 'bsd'
): Promise<{ program: TarProgram; pids: string }> {
  const pids = path.join(await freshDirectory('pids'), 'pids')
  const script = path.join(path.dirname(pids), 'tar.sh')
  const real = flavour === 'gnu' ? 'tar' : 'bsdtar'
  await fs.writeFile(script, `#!/bin/sh\necho $$ >> "${pids}"\nexec ${real} "$@"\n`, {
    mode: 0o755
  })
  return { program: { command: script, flavour }, pids }
}

async function expectNotRunning(pidFile: string): Promise<void> {
  const pids = (await fs.readFile(pidFile, 'utf8')).trim().split('\n').map(Number)
  expect(pids.length).toBe(1)
  expect(pids[0]).toBeGreaterThan(1)
  expect(() => process.kill(pids[0], 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
}

/**
 * Waits (without a deadline: jest's timeout is the limit) until the tar wrapper has written
 * its pid: a whole line, not just the file the shell creates before writing to it.
 */
async function fileAppears(file: string): Promise<void> {
  const written = async () => (await fs.readFile(file, 'utf8').catch(() => '')).endsWith('\n')
  while (!(await written())) await new Promise(resolve => setTimeout(resolve, 10))
}

/** The first half of an entry: tar is waiting for the rest. */
const partialEntry = entry({ name: 'partial', data: 'x'.repeat(4000) }).subarray(0, 2048)

const flavours: Array<[string, 'gnu' | 'bsd']> = [
  ['GNU tar', 'gnu'],
  ['bsdtar', 'bsd']
]

describe('detectTar', () => {
  it('tells GNU tar from bsdtar', async () => {
    expect(await detectTar('tar')).toEqual({ command: 'tar', flavour: 'gnu' })
    expect(await detectTar('bsdtar')).toEqual({ command: 'bsdtar', flavour: 'bsd' })
  })

  it('explains a missing or unknown tar', async () => {
    await expect(detectTar(path.join(work, 'no-such-tar'))).rejects.toThrow(ExpectedError)
    await expect(detectTar('true')).rejects.toThrow(/neither GNU tar nor bsdtar/)
  })
})

describe.each(flavours)('extractTarWith %s', (_label, flavour) => {
  const program = (): TarProgram => ({ command: flavour === 'gnu' ? 'tar' : 'bsdtar', flavour })

  it('restores a GNU tar snapshot exactly', async () => {
    const directory = await freshDirectory('exact')
    const result = await extractTarWith(program(), createReadStream(snapshot), directory)
    expect(result.skipped).toEqual([])
    const listed = (await run('tar', ['-tf', snapshot])).stdout.trim().split('\n')
    expect(result.entries).toBe(listed.length)
    expect(await manifest(directory)).toEqual(await manifest(sourceTree))
    const [run1, hard] = await Promise.all(
      ['run.sh', 'hard.sh'].map(name => fs.stat(path.join(directory, name)))
    )
    expect(hard.ino).toBe(run1.ino)
  })

  it('restores a PAX archive with unicode names whatever the locale', async () => {
    const directory = await freshDirectory('pax')
    const saved = { LANG: process.env.LANG, LC_ALL: process.env.LC_ALL }
    process.env.LC_ALL = 'C'
    delete process.env.LANG
    try {
      await extractTarWith(program(), Readable.from([paxUnicode]), directory)
    } finally {
      restoreEnvironment(saved)
    }
    const content = await fs.readFile(path.join(directory, 'dir', unicodeName), 'utf8')
    expect(content).toBe('pax\n')
  })

  it('ignores owners and special permission bits from the archive', async () => {
    const input = archive(
      entry({ name: 'setuid', mode: 0o6755, data: '#!/bin/sh\n' }),
      entry({ name: 'world', mode: 0o666, data: 'w' }),
      entry({ name: 'sticky/', type: '5', mode: 0o1777 })
    )
    const directory = await freshDirectory('modes')
    await extractTarWith(program(), Readable.from([withOwner(input, 12345)]), directory)
    const mode = async (name: string) => (await fs.stat(path.join(directory, name))).mode & 0o7777
    const umask = process.umask()
    expect(await mode('setuid')).toBe(0o755 & ~umask)
    expect(await mode('world')).toBe(0o666 & ~umask)
    expect(await mode('sticky')).toBe(0o777 & ~umask)
    expect((await fs.stat(path.join(directory, 'setuid'))).uid).toBe(process.getuid!())
  })

  it('refuses a hostile entry, writes nothing outside, and leaves no tar running', async () => {
    const sandbox = await freshDirectory('sandbox')
    const directory = path.join(sandbox, 'target')
    await fs.mkdir(directory)
    const input = archive(
      entry({ name: 'fine', data: 'ok' }),
      entry({ name: 'escape', type: '2', linkName: '..' }),
      entry({ name: 'escape/outside', data: 'pwned' })
    )
    const { program: tar, pids } = await recordingTar(flavour)
    const hostileAt = 1024 // after the header and data block of "fine"
    async function* delivered() {
      yield input.subarray(0, hostileAt)
      await fileAppears(pids)
      yield input.subarray(hostileAt)
    }
    const failure = extractTarWith(tar, Readable.from(delivered()), directory)
    await expect(failure).rejects.toThrow(UnsafeEntryError)
    await expect(failure).rejects.toThrow(/'escape'/)
    await expectNotRunning(pids)
    expect(await fs.readdir(sandbox)).toEqual(['target'])
    expect(await fs.readdir(directory)).not.toContain('escape')
  })

  it('reports what tar said when it fails', async () => {
    // A file, then an entry that needs it to be a directory: the gate passes it, tar fails.
    const input = archive(entry({ name: 'a', data: 'file' }), entry({ name: 'a/b', data: 'x' }))
    const directory = await freshDirectory('tar-fails')
    const failure = extractTarWith(program(), Readable.from([input]), directory)
    await expect(failure).rejects.toThrow(ArchiveError)
    await expect(failure).rejects.toThrow(
      /tar failed to extract the archive \(exit code [12]\):\n.*a\/b/
    )
  })

  it('kills tar when the input fails, and rejects with the input error', async () => {
    const { program: tar, pids } = await recordingTar(flavour)
    const boom = new Error('download failed')
    async function* failing() {
      yield partialEntry
      await fileAppears(pids)
      throw boom
    }
    const directory = await freshDirectory('input-error')
    await expect(extractTarWith(tar, Readable.from(failing()), directory)).rejects.toBe(boom)
    await expectNotRunning(pids)
  })

  it('kills tar on abort, and rejects with the abort reason', async () => {
    const { program: tar, pids } = await recordingTar(flavour)
    const controller = new AbortController()
    const reason = new Error('cancelled by test')
    async function* stalling() {
      yield partialEntry
      await fileAppears(pids)
      controller.abort(reason)
    }
    const directory = await freshDirectory('abort')
    const extraction = extractTarWith(tar, Readable.from(stalling()), directory, {
      signal: controller.signal
    })
    await expect(extraction).rejects.toBe(reason)
    await expectNotRunning(pids)
  })

  it('skips FIFOs and devices and reports them', async () => {
    const directory = await freshDirectory('skip')
    const reported: string[] = []
    const result = await extractTarWith(program(), Readable.from([withSpecials]), directory, {
      onSkip: (name, reason) => reported.push(`${name}: ${reason}`)
    })
    expect(result).toEqual({ entries: 2, skipped: ['pipe', 'null'] })
    expect(reported).toEqual([
      'pipe: FIFO entries are not extracted',
      'null: character device entries are not extracted'
    ])
    expect((await fs.readdir(directory)).sort()).toEqual(['after', 'before'])
  })

  it('rejects a truncated archive', async () => {
    const whole = await fs.readFile(snapshot)
    const directory = await freshDirectory('truncated')
    const failure = extractTarWith(
      program(),
      Readable.from([whole.subarray(0, 700_000)]),
      directory
    )
    await expect(failure).rejects.toThrow(ArchiveError)
  })
})

describe('extractTar', () => {
  it('uses the runner tar, ignoring TAR_OPTIONS', async () => {
    const directory = await freshDirectory('default')
    // --to-stdout would make tar write every file to stdout instead of the directory.
    process.env.TAR_OPTIONS = '--to-stdout'
    try {
      const result = await extractTar(createReadStream(snapshot), directory)
      expect(result.entries).toBeGreaterThan(10)
    } finally {
      delete process.env.TAR_OPTIONS
    }
    expect(await manifest(directory)).toEqual(await manifest(sourceTree))
  })

  it('refuses a directory that is not empty', async () => {
    const directory = await freshDirectory('not-empty')
    await fs.writeFile(path.join(directory, 'x'), 'x')
    const input = createReadStream(snapshot)
    await expect(extractTar(input, directory)).rejects.toThrow(/not empty/)
    expect(input.destroyed).toBe(true)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const directory = await freshDirectory('pre-aborted')
    const reason = new Error('already cancelled')
    const failure = extractTar(createReadStream(snapshot), directory, {
      signal: AbortSignal.abort(reason)
    })
    await expect(failure).rejects.toBe(reason)
    expect(await fs.readdir(directory)).toEqual([])
  })
})

/** Every path below root with its type, permission bits, and content or link target. */
async function manifest(root: string): Promise<string[]> {
  const lines: string[] = []
  async function walk(relative: string): Promise<void> {
    for (const name of await fs.readdir(path.join(root, relative))) {
      const child = path.join(relative, name)
      const full = path.join(root, child)
      const stat = await fs.lstat(full)
      const mode = (stat.mode & 0o7777).toString(8)
      if (stat.isSymbolicLink()) lines.push(`${child} -> ${await fs.readlink(full)}`)
      else if (stat.isDirectory()) {
        lines.push(`${child}/ ${mode}`)
        await walk(child)
      } else {
        const digest = createHash('sha256')
          .update(await fs.readFile(full))
          .digest('hex')
        lines.push(`${child} ${mode} ${digest}`)
      }
    }
  }
  await walk('')
  return lines.sort()
}

function restoreEnvironment(saved: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
}

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
