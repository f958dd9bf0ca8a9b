/**
 * updateSubmodules restoring submodules from snapshots, against git's own layout: the same
 * superproject is checked out twice, once by the snapshot path (its snapshots stand in for
 * cachew's: clones of the upstreams, copied into the directory as an extraction would), once
 * by `git submodule update --init` from the same upstreams; the configs, gitfiles and
 * core.worktree they leave must be the same.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CachewClient } from '../src/cachew/client.js'
import { CacheMissError } from '../src/errors.js'
import { Git, GitError } from '../src/git/git.js'
import { listSubmodules, updateSubmodules, type SubmoduleSnapshots } from '../src/git/submodules.js'
import {
  copyTree,
  git,
  makeStagedClone,
  recordingLog,
  TempDirs,
  UPSTREAM_URL
} from './git-helpers.js'

const dirs = new TempDirs()
afterAll(() => dirs.cleanup())

const HOST = new URL(UPSTREAM_URL).origin // https://git.example.test
let upstreams: string // holds acme/liba, acme/libb (bare)
let clones: Map<string, string> // upstream URL → a clone of it, origin set to that URL
let superproject: { bare: string; work: string }
let libaHead: string
let libbHead: string

async function bareWithCommit(name: string, files: Record<string, string>): Promise<string> {
  const bare = path.join(upstreams, 'acme', name)
  git(upstreams, 'init', '--quiet', '--bare', '--initial-branch=main', bare)
  const work = await dirs.make(`work-${name}`)
  git(work, 'init', '--quiet', '--initial-branch=main')
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(work, file)), { recursive: true })
    await fs.writeFile(path.join(work, file), content)
  }
  git(work, 'add', '--all')
  git(work, 'commit', '--quiet', '-m', `${name} files`)
  git(work, 'push', '--quiet', bare, 'HEAD:refs/heads/main')
  const clone = path.join(await dirs.make(`clone-${name}`), name)
  git(upstreams, 'clone', '--quiet', bare, clone)
  git(clone, 'remote', 'set-url', 'origin', `${HOST}/acme/${name}`)
  clones.set(`${HOST}/acme/${name}`, clone)
  return git(work, 'rev-parse', 'HEAD')
}

beforeAll(async () => {
  upstreams = await dirs.make('upstreams')
  clones = new Map()
  libaHead = await bareWithCommit('liba', { 'a.txt': 'a\n', 'src/x.c': 'int x;\n' })
  libbHead = await bareWithCommit('libb', { 'b.txt': 'b\n' })
  const root = await dirs.make('super')
  superproject = { bare: path.join(root, 'bare.git'), work: path.join(root, 'work') }
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', superproject.bare)
  git(root, 'init', '--quiet', '--initial-branch=main', superproject.work)
  const { work } = superproject
  await fs.writeFile(path.join(work, 'top.txt'), 'top\n')
  await fs.writeFile(
    path.join(work, '.gitmodules'),
    `[submodule "liba"]\n\tpath = liba\n\turl = ${HOST}/acme/liba\n` +
      `[submodule "libs/b"]\n\tpath = libs/b\n\turl = ../libb\n` +
      `[submodule "skipped"]\n\tpath = skipped\n\turl = ../liba\n\tupdate = none\n` +
      `[submodule "ghost"]\n\tpath = ghost\n\turl = ../liba\n`
  )
  git(work, 'add', 'top.txt', '.gitmodules')
  for (const [where, commit] of [
    ['liba', libaHead],
    ['libs/b', libbHead],
    ['skipped', libaHead]
  ]) {
    git(work, 'update-index', '--add', '--cacheinfo', `160000,${commit},${where}`)
  }
  git(work, 'commit', '--quiet', '-m', 'submodules')
  git(work, 'push', '--quiet', superproject.bare, 'HEAD:refs/heads/main')
})

/** Snapshots from the clones above; records what was asked for. */
function localSnapshots(tempDir: string, asked: string[]): SubmoduleSnapshots {
  return {
    parallel: 2,
    stagingDirectory: () => fs.mkdtemp(path.join(tempDir, 'submodule-')),
    extract: async (url, directory) => {
      asked.push(url)
      const clone = clones.get(url)
      if (!clone) throw new CacheMissError(404, `no snapshot of ${url}`)
      execFileSync('sh', ['-c', 'tar -C "$1" -cf - . | tar -C "$2" -xf -', 'sh', clone, directory])
      // No blob ids: the index is refreshed by git instead, as for an unverified extraction.
      return new Map()
    },
    // The snapshots have every gitlink's commit: nothing may ask cachew (a closed port).
    cachew: url => new CachewClient({ serverUrl: 'http://127.0.0.1:9', repositoryUrl: url }, 1)
  }
}

async function settingsFor(submodules: 'true' | 'recursive') {
  return {
    submodules,
    serverUrl: 'http://127.0.0.1:9',
    repositoryUrl: UPSTREAM_URL,
    authorization: undefined,
    token: undefined,
    gitThroughCachew: true,
    tempDir: await dirs.make('runner-temp')
  }
}

/** Everything of the layout git decides: configs, gitfiles, core.worktree, origins. */
function layoutOf(repo: string): Record<string, string> {
  const read = (cwd: string, ...args: string[]): string => git(cwd, ...args)
  return {
    // Sorted: submodules restored at once write their sections in whichever order they finish.
    superConfig: read(repo, 'config', '--get-regexp', '^submodule\\.')
      .split('\n')
      .sort()
      .join('\n'),
    libaGitfile: execFileSync('cat', [path.join(repo, 'liba', '.git')], { encoding: 'utf8' }),
    libbGitfile: execFileSync('cat', [path.join(repo, 'libs', 'b', '.git')], { encoding: 'utf8' }),
    libaWorktree: read(repo, 'config', '--file', '.git/modules/liba/config', 'core.worktree'),
    libbWorktree: read(repo, 'config', '--file', '.git/modules/libs/b/config', 'core.worktree'),
    libaOrigin: read(path.join(repo, 'liba'), 'remote', 'get-url', 'origin'),
    libbOrigin: read(path.join(repo, 'libs', 'b'), 'remote', 'get-url', 'origin'),
    libaHead: read(path.join(repo, 'liba'), 'rev-parse', 'HEAD'),
    libaDetached: read(path.join(repo, 'liba'), 'rev-parse', '--abbrev-ref', 'HEAD'),
    status: read(repo, 'submodule', 'status')
  }
}

describe('updateSubmodules with snapshots', () => {
  it('lists the gitlinked submodules, marking update = none, leaving out ones with no gitlink', async () => {
    const staged = await makeStagedClone(dirs, superproject)
    const listed = await listSubmodules(new Git(staged))
    expect(listed).toEqual([
      { name: 'liba', path: 'liba', url: `${HOST}/acme/liba`, commit: libaHead },
      { name: 'libs/b', path: 'libs/b', url: '../libb', commit: libbHead },
      {
        name: 'skipped',
        path: 'skipped',
        url: '../liba',
        commit: libaHead,
        leftAlone: 'update = none'
      }
    ])
  })

  it('lays each out as git submodule update --init does, from its snapshot, with git status clean', async () => {
    const staged = await makeStagedClone(dirs, superproject)
    const byGit = await copyTree(dirs, staged)
    const settings = await settingsFor('true')
    const asked: string[] = []
    const log = recordingLog()
    const result = await updateSubmodules(
      new Git(staged),
      settings,
      log,
      localSnapshots(settings.tempDir, asked)
    )
    expect(result).toEqual({ count: 2, fromSnapshot: 2 })
    expect(asked.sort()).toEqual([`${HOST}/acme/liba`, `${HOST}/acme/libb`])
    expect(log.lines.filter(line => line.startsWith('notice:'))).toEqual([])
    // git's own checkout of the same commit, from the same upstreams.
    const fileRoute = `url.file://${upstreams}/acme/.insteadOf`
    git(
      byGit,
      '-c',
      `${fileRoute}=${HOST}/acme/`,
      '-c',
      'protocol.file.allow=always',
      'submodule',
      'update',
      '--init',
      '--quiet'
    )
    expect(layoutOf(staged)).toEqual(layoutOf(byGit))
    expect(layoutOf(staged).status).toMatch(/^ [0-9a-f]{40} liba/m)
    expect(git(staged, 'status', '--porcelain')).toBe('')
    expect(git(path.join(staged, 'liba'), 'status', '--porcelain')).toBe('')
    expect(git(path.join(staged, 'libs', 'b'), 'status', '--porcelain')).toBe('')
    // The temp directories the snapshots were staged in are gone.
    expect(await fs.readdir(settings.tempDir)).toEqual([])
  })

  it('gives a submodule whose name is unsafe to git, which refuses it, with a notice', async () => {
    const root = await dirs.make('evil')
    const work = path.join(root, 'work')
    git(root, 'init', '--quiet', '--initial-branch=main', work)
    await fs.writeFile(
      path.join(work, '.gitmodules'),
      `[submodule "../evil"]\n\tpath = evil\n\turl = ${HOST}/acme/liba\n`
    )
    git(work, 'add', '.gitmodules')
    git(work, 'update-index', '--add', '--cacheinfo', `160000,${libaHead},evil`)
    git(work, 'commit', '--quiet', '-m', 'evil')
    git(work, 'remote', 'add', 'origin', UPSTREAM_URL)
    const settings = await settingsFor('true')
    const asked: string[] = []
    const log = recordingLog()
    await expect(
      updateSubmodules(new Git(work), settings, log, localSnapshots(settings.tempDir, asked))
    ).rejects.toThrow(GitError)
    expect(asked).toEqual([])
    expect(log.lines).toContain(
      'notice: Submodule evil: its name or path is not one to restore into; checking it out with git submodule update --init through cachew.'
    )
    await expect(fs.access(path.join(work, '.git', 'modules'))).rejects.toThrow()
  })
})
