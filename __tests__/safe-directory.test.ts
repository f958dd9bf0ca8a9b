/**
 * The safe.directory entry with real git, in a HOME of the test's own: the value git will
 * compare (symlinks resolved, even before the directory exists), added once, removed once.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  addSafeDirectory,
  globalSafeDirectories,
  physicalPath,
  removeSafeDirectory
} from '../src/git/safe-directory.js'
import { tempDirectory } from './support/temp.js'

const savedHome = process.env.HOME
let home: string

beforeEach(async () => {
  home = await tempDirectory('home-')
  process.env.HOME = home
})
afterEach(() => {
  process.env.HOME = savedHome
})

describe('safe.directory', () => {
  it('resolves symlinks in the part of the path that exists', async () => {
    const real = await fs.realpath(await tempDirectory('real-'))
    const link = path.join(await tempDirectory('links-'), 'workspace')
    await fs.symlink(real, link)
    expect(await physicalPath(link)).toBe(real)
    expect(await physicalPath(path.join(link, 'not', 'yet'))).toBe(path.join(real, 'not', 'yet'))
  })

  it('adds the value once and removes exactly it, leaving the rest of the file', async () => {
    const original = '[safe]\n\tdirectory = /srv/other\n[user]\n\tname = Someone\n'
    await fs.writeFile(path.join(home, '.gitconfig'), original)
    const workspace = await fs.realpath(await tempDirectory('ws-'))
    expect(await addSafeDirectory(workspace)).toBe(workspace)
    expect(await addSafeDirectory(workspace)).toBeUndefined()
    expect(await globalSafeDirectories()).toEqual(['/srv/other', workspace])
    await removeSafeDirectory(workspace)
    await removeSafeDirectory(workspace) // already gone: no error
    expect(await globalSafeDirectories()).toEqual(['/srv/other'])
    expect(await fs.readFile(path.join(home, '.gitconfig'), 'utf8')).toBe(original)
  })

  it('treats a path with regular-expression characters as itself', async () => {
    const workspace = path.join(await fs.realpath(await tempDirectory('ws-')), 'a.b[1]+')
    await fs.writeFile(path.join(home, '.gitconfig'), '[safe]\n\tdirectory = /x/aXb[1]+\n')
    await addSafeDirectory(workspace)
    await removeSafeDirectory(workspace)
    expect(await globalSafeDirectories()).toEqual(['/x/aXb[1]+'])
  })
})
