/**
 * A submodule's URL as git resolves it, and the names and paths the snapshot restore refuses.
 * Each relative case is checked against git itself: `git submodule init` in a superproject
 * whose origin is the base URL writes submodule.NAME.url.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  isSafeSubmoduleName,
  isSafeSubmodulePath,
  resolveSubmoduleUrl
} from '../src/git/submodule-urls.js'
import { git, TempDirs } from './git-helpers.js'

const dirs = new TempDirs()
afterAll(() => dirs.cleanup())

/** What git's `submodule init` resolves `url` to, in a superproject whose origin is `base`. */
async function gitResolves(base: string, url: string): Promise<string> {
  const repo = await dirs.make('resolve')
  git(repo, 'init', '--quiet', '--initial-branch=main')
  git(repo, 'remote', 'add', 'origin', base)
  await fs.writeFile(
    path.join(repo, '.gitmodules'),
    `[submodule "sub"]\n\tpath = sub\n\turl = ${url}\n`
  )
  git(repo, 'update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},sub`)
  git(repo, 'add', '.gitmodules')
  git(repo, 'submodule', 'init', '--quiet')
  return git(repo, 'config', '--get', 'submodule.sub.url')
}

describe('resolveSubmoduleUrl', () => {
  it.each([
    ['https://github.example/acme/widgets', '../libb.git'],
    ['https://github.example/acme/widgets.git', '../libb'],
    ['https://github.example/acme/widgets/', '../libb'],
    ['https://github.example/acme/widgets', './vendored'],
    ['https://github.example/acme/widgets', '../../other/lib'],
    ['https://github.example/acme/widgets', './../libc'],
    ['http://127.0.0.1:8080/git/acme/widgets', '../libd']
  ])('resolves %s + %s as git does', async (base, url) => {
    const resolved = resolveSubmoduleUrl(base, url)
    expect(resolved).toBeDefined()
    expect(resolved).toBe(await gitResolves(base, url))
  })

  it('takes an absolute URL as it is, whatever the base', () => {
    expect(resolveSubmoduleUrl('git@github.example:acme/widgets', 'https://h.example/a/b')).toBe(
      'https://h.example/a/b'
    )
    expect(resolveSubmoduleUrl('https://h.example/a/b', 'git@h.example:a/c.git')).toBe(
      'git@h.example:a/c.git'
    )
  })

  it('leaves to git what it cannot resolve to a repository URL', () => {
    // More ../ than the base has path components.
    expect(resolveSubmoduleUrl('https://github.example/acme/widgets', '../../../x')).toBeUndefined()
    // Bases that are not plain https: scp-like, with credentials, with a query.
    expect(resolveSubmoduleUrl('git@github.example:acme/widgets', '../x')).toBeUndefined()
    expect(resolveSubmoduleUrl('https://u:p@github.example/acme/w', '../x')).toBeUndefined()
    expect(resolveSubmoduleUrl('https://github.example/acme/w?x=1', '../x')).toBeUndefined()
    expect(resolveSubmoduleUrl('https://github.example/acme/w', '../')).toBeUndefined()
  })
})

describe('names and paths', () => {
  it.each(['liba', 'libs/b', 'a.b', 'x..y'])('name %s is safe', name => {
    expect(isSafeSubmoduleName(name)).toBe(true)
  })

  it.each(['', '../evil', 'a/../../b', 'a\\..\\b', '/abs', '..'])('name %s is refused', name => {
    expect(isSafeSubmoduleName(name)).toBe(false)
  })

  it.each(['liba', 'libs/b', 'deps/nested'])('path %s is safe', relative => {
    expect(isSafeSubmodulePath(relative)).toBe(true)
  })

  it.each(['', '/abs', '../out', 'a/../b', 'a//b', './a', '.git', 'x/.GIT/y', 'a\\b'])(
    'path %s is refused',
    relative => {
      expect(isSafeSubmodulePath(relative)).toBe(false)
    }
  )
})
