/**
 * installLfsSnapshot on archives made by real tar and zstd from `.git` directories laid out as
 * git-lfs lays them out: objects verified against their names before anything moves, objects the
 * clone already has kept, anything outside lfs/objects left behind, and no way out of .git.
 */
import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { installLfsSnapshot, LfsObjectError } from '../src/archive/lfs-snapshot.js'
import { Spool } from '../src/download/spool.js'
import { makeLfsSnapshot } from './support/fixtures.js'
import { tempDirectory } from './support/temp.js'

function oidOf(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function objectPath(oid: string): string {
  return path.join('lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
}

/** A `.git` holding the given objects (at their OID's place unless `at` says otherwise). */
async function gitDirWith(objects: Array<{ data: Buffer; at?: string }>): Promise<string> {
  const dir = await tempDirectory('lfs-src-')
  await fs.mkdir(path.join(dir, 'lfs', 'tmp'), { recursive: true })
  for (const { data, at } of objects) {
    const file = path.join(dir, at ?? objectPath(oidOf(data)))
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, data)
  }
  return dir
}

/** A staged clone: a directory with a `.git`. */
async function stagedClone(): Promise<string> {
  const dir = await tempDirectory('lfs-stage-')
  await fs.mkdir(path.join(dir, '.git'))
  return dir
}

async function install(gitDir: string, clone: string) {
  const archive = path.join(await tempDirectory('lfs-archive-'), 'lfs.tar.zst')
  await makeLfsSnapshot(gitDir, archive)
  const handle = await fs.open(archive, 'r')
  const spool = Spool.complete(archive, handle, (await handle.stat()).size)
  try {
    return await installLfsSnapshot({ source: spool, complete: Promise.resolve() }, clone, {
      controller: new AbortController()
    })
  } finally {
    await spool.close()
  }
}

async function gitEntries(clone: string): Promise<string[]> {
  return (await fs.readdir(path.join(clone, '.git'))).sort()
}

describe('installLfsSnapshot', () => {
  it('moves verified objects into .git/lfs/objects and removes its temp directory', async () => {
    const one = randomBytes(5000)
    const two = randomBytes(300_000)
    const clone = await stagedClone()
    const result = await install(await gitDirWith([{ data: one }, { data: two }]), clone)
    expect(result).toEqual({ objects: 2, bytes: 305_000 })
    expect(await fs.readFile(path.join(clone, '.git', objectPath(oidOf(one))))).toEqual(one)
    expect(await fs.readFile(path.join(clone, '.git', objectPath(oidOf(two))))).toEqual(two)
    expect(await gitEntries(clone)).toEqual(['lfs'])
    // lfs/tmp of the archive stays behind with the temp directory.
    expect(await fs.readdir(path.join(clone, '.git', 'lfs'))).toEqual(['objects'])
  })

  it('keeps an object the clone already has', async () => {
    const one = randomBytes(1000)
    const clone = await stagedClone()
    const existing = path.join(clone, '.git', objectPath(oidOf(one)))
    await fs.mkdir(path.dirname(existing), { recursive: true })
    await fs.writeFile(existing, one)
    const before = await fs.stat(existing)
    expect(await install(await gitDirWith([{ data: one }]), clone)).toEqual({
      objects: 0,
      bytes: 0
    })
    expect((await fs.stat(existing)).ino).toBe(before.ino)
  })

  it('refuses a damaged object, naming it, and moves nothing', async () => {
    const good = randomBytes(2000)
    const bad = randomBytes(2000)
    const oid = oidOf(bad)
    const damaged = Buffer.from(bad)
    damaged[7] ^= 1
    const clone = await stagedClone()
    const source = await gitDirWith([{ data: good }, { data: damaged, at: objectPath(oid) }])
    const error = await install(source, clone).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LfsObjectError)
    expect((error as Error).message).toBe(
      `The LFS snapshot's object ${oid} is damaged: its content hashes to ${oidOf(damaged)} ` +
        `(lfs/objects/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}); nothing was restored.`
    )
    expect(await gitEntries(clone)).toEqual([])
  })

  it('refuses an object that is not at its OID’s place', async () => {
    const data = randomBytes(100)
    const oid = oidOf(data)
    const misplaced = path.join('lfs', 'objects', 'ff', 'ff', oid)
    const clone = await stagedClone()
    await expect(install(await gitDirWith([{ data, at: misplaced }]), clone)).rejects.toThrow(
      `The LFS snapshot holds 'lfs/objects/ff/ff/${oid}', which is not an object's place`
    )
    expect(await gitEntries(clone)).toEqual([])
  })

  it('refuses to follow a .git/lfs symlink out of .git', async () => {
    const data = randomBytes(100)
    const clone = await stagedClone()
    await fs.mkdir(path.join(clone, 'elsewhere'))
    await fs.symlink('../elsewhere', path.join(clone, '.git', 'lfs'))
    await expect(install(await gitDirWith([{ data }]), clone)).rejects.toThrow(/leads out of \.git/)
    const left = await fs.readdir(path.join(clone, 'elsewhere'), { recursive: true })
    expect(left.filter(name => name.endsWith(oidOf(data)))).toEqual([])
  })

  it('installs nothing from an archive without objects', async () => {
    const clone = await stagedClone()
    expect(await install(await gitDirWith([]), clone)).toEqual({ objects: 0, bytes: 0 })
    expect(await gitEntries(clone)).toEqual([])
  })
})
