import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { isMountPoint, prepareStaging, type StagingHooks } from '../src/archive/staging.js'
import { ExpectedError } from '../src/errors.js'

let work: string
beforeEach(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'staging-'))
})
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true })
})

interface Node {
  path: string
  type: 'file' | 'dir' | 'symlink'
  mode: number
  ino: number
  mtimeMs: number
  content?: string
}

/**
 * Everything that identifies a tree below root: the same objects (inode numbers), with the
 * same modes, times, contents and link targets. The root's own times are left out: renaming
 * its children necessarily touches them.
 */
async function snapshot(root: string): Promise<Node[]> {
  const nodes: Node[] = []
  async function walk(relative: string): Promise<void> {
    for (const name of await fs.readdir(path.join(root, relative))) {
      const child = path.join(relative, name)
      const full = path.join(root, child)
      const stat = await fs.lstat(full)
      const base = { path: child, mode: stat.mode, ino: stat.ino, mtimeMs: stat.mtimeMs }
      if (stat.isSymbolicLink()) {
        nodes.push({ ...base, type: 'symlink', content: await fs.readlink(full) })
      } else if (stat.isDirectory()) {
        nodes.push({ ...base, type: 'dir' })
        await walk(child)
      } else {
        nodes.push({ ...base, type: 'file', content: await fs.readFile(full, 'utf8') })
      }
    }
  }
  await walk('')
  return nodes.sort((a, b) => (a.path < b.path ? -1 : 1))
}

/** A small tree like a previous checkout: nested files, an executable, a symlink. */
async function fillOld(root: string): Promise<void> {
  await fs.mkdir(path.join(root, 'src', 'lib'), { recursive: true })
  await fs.writeFile(path.join(root, 'README.md'), 'old readme\n')
  await fs.writeFile(path.join(root, 'src', 'lib', 'old.ts'), 'export const old = 1\n')
  await fs.writeFile(path.join(root, 'build.sh'), '#!/bin/sh\n', { mode: 0o755 })
  await fs.symlink('src/lib', path.join(root, 'lib'))
  await fs.writeFile(path.join(root, '.hidden'), 'old hidden\n')
}

async function fillNew(root: string): Promise<void> {
  await fs.mkdir(path.join(root, '.git', 'objects'), { recursive: true })
  await fs.mkdir(path.join(root, 'src'))
  await fs.writeFile(path.join(root, 'README.md'), 'new readme\n')
  await fs.writeFile(path.join(root, 'src', 'new.ts'), 'export const fresh = 2\n')
  await fs.writeFile(path.join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n')
}

const newTreeFiles = ['.git', '.git/HEAD', '.git/objects', 'README.md', 'src', 'src/new.ts']

async function paths(root: string): Promise<string[]> {
  return (await snapshot(root)).map(node => node.path)
}

/** A rename that fails on its nth call (counting from 0) and on the calls listed in `alsoFail`. */
function failingRename(
  failAt: number,
  alsoFail: number[] = []
): StagingHooks & { calls: () => number } {
  let calls = 0
  return {
    rename: async (from, to) => {
      const call = calls++
      if (call === failAt || alsoFail.includes(call)) {
        throw Object.assign(new Error(`injected failure of rename #${call}`), { code: 'EIO' })
      }
      await fs.rename(from, to)
    },
    calls: () => calls
  }
}

describe('prepareStaging', () => {
  it('creates an absent target, and its missing parents, by renaming', async () => {
    const target = path.join(work, 'a', 'b', 'repo')
    const staging = await prepareStaging(target)
    expect(path.dirname(staging.directory)).toBe(await fs.realpath(work))
    expect(path.basename(staging.directory)).toMatch(/^\.cachew-restore-/)
    await fillNew(staging.directory)
    const stagedRoot = await fs.stat(staging.directory)
    await staging.commit()
    expect(await paths(target)).toEqual(newTreeFiles)
    expect((await fs.stat(target)).ino).toBe(stagedRoot.ino)
    expect((await fs.stat(target)).mode & 0o777).toBe(0o755)
    expect(await fs.readdir(work)).toEqual(['a'])
  })

  it('fills an empty target in place, keeping its inode', async () => {
    const target = path.join(work, 'repo')
    await fs.mkdir(target)
    const before = await fs.stat(target)
    const staging = await prepareStaging(target)
    await fillNew(staging.directory)
    await staging.commit()
    expect(await paths(target)).toEqual(newTreeFiles)
    expect((await fs.stat(target)).ino).toBe(before.ino)
    expect(await fs.readdir(work)).toEqual(['repo'])
  })

  it('replaces a non-empty target only at commit, keeping its inode', async () => {
    const target = path.join(work, 'repo')
    await fs.mkdir(target)
    await fillOld(target)
    const old = await snapshot(target)
    const before = await fs.stat(target)
    const staging = await prepareStaging(target)
    await fillNew(staging.directory)
    expect(await snapshot(target)).toEqual(old)
    await staging.commit()
    expect(await paths(target)).toEqual(newTreeFiles)
    expect(await fs.readFile(path.join(target, 'README.md'), 'utf8')).toBe('new readme\n')
    expect((await fs.stat(target)).ino).toBe(before.ino)
    expect(await fs.readdir(work)).toEqual(['repo'])
  })

  it('works through a symlinked target, leaving the link in place', async () => {
    const real = path.join(work, 'real')
    await fs.mkdir(real)
    await fillOld(real)
    const link = path.join(work, 'link')
    await fs.symlink(real, link)
    const staging = await prepareStaging(link)
    await fillNew(staging.directory)
    await staging.commit()
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true)
    expect(await paths(real)).toEqual(newTreeFiles)
  })

  it('refuses a target that is a file', async () => {
    const target = path.join(work, 'file')
    await fs.writeFile(target, 'x')
    await expect(prepareStaging(target)).rejects.toThrow(ExpectedError)
  })

  it('discard leaves nothing behind and is idempotent', async () => {
    const target = path.join(work, 'repo')
    await fs.mkdir(target)
    await fillOld(target)
    const old = await snapshot(target)
    const staging = await prepareStaging(target)
    await fillNew(staging.directory)
    await staging.discard()
    await staging.discard()
    expect(await fs.readdir(work)).toEqual(['repo'])
    expect(await snapshot(target)).toEqual(old)
    await expect(staging.commit()).rejects.toThrow(/already discarded/)
  })

  it('discard of an absent target creates nothing', async () => {
    const staging = await prepareStaging(path.join(work, 'x', 'y'))
    await fillNew(staging.directory)
    await staging.discard()
    expect(await fs.readdir(work)).toEqual([])
  })
})

describe('a failed commit leaves the target exactly as it was', () => {
  /** Renames in a full swap: every old child out, every staged child in. */
  const renames = 5 + 3

  it.each(Array.from({ length: renames }, (_, i) => i))('rename #%i fails', async failAt => {
    const target = path.join(work, 'repo')
    await fs.mkdir(target)
    await fillOld(target)
    const old = await snapshot(target)
    const hooks = failingRename(failAt)
    const staging = await prepareStaging(target, hooks)
    await fillNew(staging.directory)
    await expect(staging.commit()).rejects.toThrow(`injected failure of rename #${failAt}`)
    expect(await snapshot(target)).toEqual(old)
    expect(await fs.readdir(work)).toEqual(['repo'])
    // The failure came mid-swap (not before it): `failAt` moves were made and undone.
    expect(hooks.calls()).toBe(failAt + 1 + failAt)
  })

  it('names where the old content is when undoing fails too', async () => {
    const target = path.join(work, 'repo')
    await fs.mkdir(target)
    await fillOld(target)
    // Fail the 4th move out, then the first move back.
    const staging = await prepareStaging(target, failingRename(3, [4]))
    await fillNew(staging.directory)
    const failure = staging.commit()
    await expect(failure).rejects.toThrow(ExpectedError)
    await expect(failure).rejects.toThrow(/previous content may be in .*\.cachew-backup-/)
    const backup = (await fs.readdir(work)).find(name => name.startsWith('.cachew-backup-'))
    expect(backup).toBeDefined()
    expect((await fs.readdir(path.join(work, backup!))).length).toBe(1)
  })

  it('an absent target stays absent, with no parents left behind', async () => {
    const staging = await prepareStaging(path.join(work, 'a', 'b', 'repo'), failingRename(0))
    await fillNew(staging.directory)
    await expect(staging.commit()).rejects.toThrow(/injected/)
    expect(await fs.readdir(work)).toEqual([])
  })
})

describe('a target that is a mount point', () => {
  const mountPoint: StagingHooks = { isMountPoint: async () => true }

  it('stages inside the target and swaps its children', async () => {
    const target = path.join(work, 'mnt')
    await fs.mkdir(target)
    await fillOld(target)
    const staging = await prepareStaging(target, mountPoint)
    expect(path.dirname(staging.directory)).toBe(await fs.realpath(target))
    await fillNew(staging.directory)
    await staging.commit()
    expect(await paths(target)).toEqual(newTreeFiles)
    expect(await fs.readdir(work)).toEqual(['mnt'])
  })

  it.each([0, 4, 6])('rolls back when rename #%i fails', async failAt => {
    const target = path.join(work, 'mnt')
    await fs.mkdir(target)
    await fillOld(target)
    const old = await snapshot(target)
    const staging = await prepareStaging(target, { ...mountPoint, ...failingRename(failAt) })
    await fillNew(staging.directory)
    await expect(staging.commit()).rejects.toThrow(/injected/)
    expect(await snapshot(target)).toEqual(old)
  })

  it('is detected by device number', async () => {
    // '/' is its own parent; /dev is a separate filesystem on Linux and macOS alike.
    expect(await isMountPoint('/')).toBe(true)
    expect(await isMountPoint('/dev')).toBe(true)
    expect(await isMountPoint(work)).toBe(false)
  })
})
