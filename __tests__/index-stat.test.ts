/**
 * writeIndexStat on real snapshots: a repository is committed, cloned with `git clone`, tarred
 * with GNU tar (mtimes set an hour back, as a snapshot made earlier has them) and extracted
 * elsewhere with `tar -xpf`, so every index entry's stat data describes files that no longer
 * exist, as after a restore. The blob ids handed in are those of the extracted files, from
 * `git hash-object --no-filters` (raw bytes, as the extractor hashes them), not the index's.
 * "Without rehashing" is checked with strace: git must open no tracked file.
 */
import { describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { TarExtractor, type ExtractResult } from '../src/archive/extract.js'
import { MODE_FIELD, STAT_FIELDS } from '../src/archive/file-stats.js'
import { materialize } from '../src/archive/materialize.js'
import { prepareStaging } from '../src/archive/staging.js'
import { fileSource } from '../src/archive/zstd.js'
import { freshenMovedEntries } from '../src/git/finish.js'
import { readConfigValues, writeIndexStat } from '../src/git/index-stat.js'
import { git, recordingLog } from './git-helpers.js'
import { extractTarFile } from './support/extract-input.js'
import { tempDirectory } from './support/temp.js'

type FileSpec = string | { executable: string } | { link: string }

const FILES: Record<string, FileSpec> = {
  'README.md': '# widgets\n',
  'empty.txt': '',
  'src/index.ts': 'export const answer = 42\n',
  'src/deep/er/still/module.ts': 'export {}\n',
  'src/deep/er/sibling.ts': 'export const sibling = true\n',
  'bin/run.sh': { executable: '#!/bin/sh\necho run\n' },
  'docs/link-to-readme': { link: '../README.md' },
  dangling: { link: 'nowhere/at/all' },
  'naïve café/notes.txt': 'non-ASCII path\n',
  'with space.txt': 'spaces\n'
}
/** Index entries FILES makes: every one is a regular file or a symlink. */
const FILE_COUNT = Object.keys(FILES).length

interface SnapshotOptions {
  objectFormat?: 'sha1' | 'sha256'
  files?: Record<string, FileSpec>
  /** Runs in the upstream work tree before its commit (a submodule, say). */
  prepareUpstream?: (upstream: string) => void
  /** Runs in the clone before it is tarred (index version, extensions, sparse checkout...). */
  prepare?: (clone: string) => void | Promise<void>
}

async function writeFiles(root: string, files: Record<string, FileSpec>): Promise<void> {
  for (const [name, spec] of Object.entries(files)) {
    const file = path.join(root, name)
    await fs.mkdir(path.dirname(file), { recursive: true })
    if (typeof spec === 'string') await fs.writeFile(file, spec)
    else if ('executable' in spec) await fs.writeFile(file, spec.executable, { mode: 0o755 })
    else await fs.symlink(spec.link, file)
  }
}

/** Commits files, clones the result and returns the clone extracted from a tar of it. */
async function snapshot(options: SnapshotOptions = {}): Promise<string> {
  const { root, tar } = await snapshotTar(options)
  const restored = path.join(root, 'restored')
  await fs.mkdir(restored)
  execFileSync('tar', ['-C', restored, '-xpf', tar])
  return restored
}

/** Commits files, clones the result and tars the clone; returns the tar and its directory. */
async function snapshotTar(options: SnapshotOptions = {}): Promise<{ root: string; tar: string }> {
  const root = await tempDirectory('index-stat-')
  const upstream = path.join(root, 'upstream')
  git(root, 'init', '--quiet', `--object-format=${options.objectFormat ?? 'sha1'}`, upstream)
  await writeFiles(upstream, options.files ?? FILES)
  options.prepareUpstream?.(upstream)
  git(upstream, 'add', '--all')
  git(upstream, 'commit', '--quiet', '-m', 'files')
  const clone = path.join(root, 'clone')
  git(root, 'clone', '--quiet', '--no-hardlinks', upstream, clone)
  await options.prepare?.(clone)
  const tar = path.join(root, 'snapshot.tar')
  const anHourAgo = Math.floor(Date.now() / 1000) - 3600
  execFileSync('tar', ['-C', clone, `--mtime=@${anHourAgo}`, '-cf', tar, '.'])
  return { root, tar }
}

/** The index's paths (stage 0) as the extractor keys them: latin1 strings of the raw bytes. */
function indexPaths(repo: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: repo }).toString('latin1')
  return [...new Set(out.split('\0').filter(Boolean))]
}

/** Blob ids of the files on disk at the index's paths, hashed by git from their raw bytes. */
async function diskIds(repo: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>()
  const regular: string[] = []
  for (const name of indexPaths(repo)) {
    const file = path.join(repo, Buffer.from(name, 'latin1').toString())
    const stat = await fs.lstat(file).catch(() => undefined)
    if (stat?.isSymbolicLink()) {
      const target = await fs.readlink(file, { encoding: 'buffer' })
      const id = execFileSync('git', ['hash-object', '--no-filters', '--stdin'], {
        cwd: repo,
        input: target
      })
      ids.set(name, id.toString().trim())
    } else if (stat?.isFile()) {
      regular.push(name)
    }
  }
  const input = regular.map(name => Buffer.from(name, 'latin1').toString()).join('\n') + '\n'
  const hashed = execFileSync('git', ['hash-object', '--no-filters', '--stdin-paths'], {
    cwd: repo,
    input
  })
  const lines = hashed.toString().trim().split('\n')
  regular.forEach((name, i) => ids.set(name, lines[i]))
  return ids
}

function run(repo: string, args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync('git', args, { cwd: repo, encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout }
}

/**
 * Worktree files (not directories, not .git) that a git command opened, from strace. With
 * `allowIgnoreFiles`, .gitignore files are left out: git status reads them to list untracked
 * files whatever the index says, which is no rehash.
 */
async function openedFiles(
  repo: string,
  args: string[],
  allowIgnoreFiles = false
): Promise<{ status: number | null; files: string[] }> {
  const trace = path.join(await tempDirectory('strace-'), 'trace')
  const result = spawnSync(
    'strace',
    ['-f', '-qq', '-e', 'trace=open,openat', '-o', trace, 'git', ...args],
    {
      cwd: repo,
      encoding: 'utf8'
    }
  )
  const files: string[] = []
  for (const line of (await fs.readFile(trace, 'utf8')).split('\n')) {
    const match = /open(?:at)?\((?:AT_FDCWD, )?"((?:[^"\\]|\\.)*)", ([A-Z_|]+).*\) = (-?\d+)/.exec(
      line
    )
    if (!match || Number(match[3]) < 0 || match[2].includes('O_DIRECTORY')) continue
    const name = match[1]
    if (name.startsWith('/') || name === '.git' || name.startsWith('.git/')) continue
    if (allowIgnoreFiles && path.basename(name) === '.gitignore') continue
    files.push(name)
  }
  return { status: result.status, files }
}

/** `git ls-files --debug`: every entry's stat data, flags and mode as git reads them. */
function statDump(repo: string): string {
  return git(repo, 'ls-files', '--debug')
}

/**
 * What git itself writes from the same stale index: puts `stale` back, runs
 * `git update-index --refresh`, returns its dump. The caller compares it with ours.
 */
async function gitsOwnRefresh(
  repo: string,
  stale: Buffer
): Promise<{ dump: string; index: Buffer }> {
  await fs.writeFile(path.join(repo, '.git', 'index'), stale)
  run(repo, ['update-index', '-q', '--refresh'])
  return { dump: statDump(repo), index: await fs.readFile(path.join(repo, '.git', 'index')) }
}

/**
 * The proof the issue asks for: a clean status and diff-index that open no tracked file, git
 * fsck passing, and a refresh that finds nothing to update.
 */
async function expectCleanWithoutRehash(repo: string, untracked = ''): Promise<void> {
  const status = await openedFiles(repo, ['status', '--porcelain'], true)
  expect(status.status).toBe(0)
  expect(status.files).toEqual([])
  expect(git(repo, 'status', '--porcelain')).toBe(untracked)
  const diff = await openedFiles(repo, ['diff-index', '--quiet', 'HEAD'])
  expect(diff).toEqual({ status: 0, files: [] })
  expect(run(repo, ['fsck', '--no-progress']).status).toBe(0)
  const before = statDump(repo)
  const refresh = run(repo, ['update-index', '--refresh'])
  expect(refresh).toEqual({ status: 0, stdout: '' })
  expect(statDump(repo)).toBe(before)
}

async function untilNextSecond(): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10))
}

async function readIndex(repo: string): Promise<Buffer> {
  return fs.readFile(path.join(repo, '.git', 'index'))
}

function indexVersion(index: Buffer): number {
  return index.readUInt32BE(4)
}

/** Rewrites the index's trailing SHA-1 after a test altered the bytes before it. */
function withChecksum(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha1').update(body).digest()])
}

describe('writeIndexStat', () => {
  it('makes an extracted version 2 index clean without rehashing, as git refresh would', async () => {
    const repo = await snapshot()
    const stale = await readIndex(repo)
    expect(indexVersion(stale)).toBe(2)
    expect(stale.includes('TREE')).toBe(true)
    // The control: from the stale index git status reads every file to find it unchanged,
    // which the check sees, and plumbing takes stale stat data for a change.
    const before = await openedFiles(repo, ['status', '--porcelain'], true)
    expect(before.files).toContain('src/index.ts')
    await fs.writeFile(path.join(repo, '.git', 'index'), stale)
    expect(run(repo, ['diff-index', '--quiet', 'HEAD']).status).toBe(1)

    const result = await writeIndexStat(repo, await diskIds(repo))
    expect(result).toEqual({ updated: FILE_COUNT, stale: 0 })
    const ours = { dump: statDump(repo), index: await readIndex(repo) }
    expect(ours.index.length).toBe(stale.length)
    await expectCleanWithoutRehash(repo)
    await expect(fs.access(path.join(repo, '.git', 'index.lock'))).rejects.toThrow()

    const theirs = await gitsOwnRefresh(repo, stale)
    expect(ours.dump).toBe(theirs.dump)
    expect(ours.index.equals(theirs.index)).toBe(true)
  })

  it('shows a file edited afterwards as modified, even at the same size and mtime', async () => {
    const repo = await snapshot()
    expect(await writeIndexStat(repo, await diskIds(repo))).toMatchObject({ stale: 0 })
    // Git compares ctime to the second only (its nanoseconds need a USE_NSEC build), and the
    // extraction gave every file a ctime of about now: an edit in the same second that restores
    // size and mtime is invisible to git whoever wrote the stat data, git's own refresh included.
    // A later edit changes the ctime's second, which is what this checks.
    await untilNextSecond()
    const file = path.join(repo, 'src', 'index.ts')
    const { mtime } = await fs.stat(file)
    await fs.writeFile(file, 'export const answer = 24\n')
    execFileSync('touch', ['-d', mtime.toISOString(), file])
    expect((await fs.stat(file)).mtime).toEqual(mtime)
    expect(git(repo, 'status', '--porcelain')).toBe(' M src/index.ts')
    expect(run(repo, ['diff-index', '--quiet', 'HEAD']).status).toBe(1)
  })

  it('leaves an entry whose id differs stale, and git reports what is really there', async () => {
    const repo = await snapshot()
    const ids = await diskIds(repo)
    // Content that matches the index, but an id that does not: stale, and git rehashes it.
    ids.set('README.md', ids.get('src/index.ts') as string)
    // Content edited after extraction at the same size: its true id is not the entry's.
    await fs.writeFile(path.join(repo, 'with space.txt'), 'SPACES\n')
    ids.set('with space.txt', git(repo, 'hash-object', '--no-filters', 'with space.txt'))
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT - 2, stale: 2 })
    const status = await openedFiles(repo, ['status', '--porcelain'], true)
    expect(status.files.sort()).toEqual(['README.md', 'with space.txt'])
    expect(git(repo, 'status', '--porcelain')).toBe(' M "with space.txt"')
  })

  it('leaves entries stale without an id or without their file', async () => {
    const repo = await snapshot()
    const ids = await diskIds(repo)
    ids.delete('src/index.ts')
    await fs.rm(path.join(repo, 'README.md'))
    // An id for a path the index does not have changes nothing.
    ids.set('untracked.txt', ids.get('empty.txt') as string)
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT - 2, stale: 2 })
    expect(git(repo, 'status', '--porcelain')).toBe(' D README.md')
  })

  it('leaves an entry with the wrong executable bit stale, unless core.filemode is off', async () => {
    const repo = await snapshot()
    await fs.chmod(path.join(repo, 'README.md'), 0o755)
    await fs.chmod(path.join(repo, 'bin', 'run.sh'), 0o644)
    const ids = await diskIds(repo)
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT - 2, stale: 2 })
    expect(git(repo, 'status', '--porcelain')).toBe(' M README.md\n M bin/run.sh')

    git(repo, 'config', 'core.fileMode', 'false')
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT, stale: 0 })
    await expectCleanWithoutRehash(repo)
  })

  it('leaves an entry stale whose type differs from the file', async () => {
    const repo = await snapshot()
    const ids = await diskIds(repo)
    // A regular file where the index has a symlink, with the link's content and so its id.
    const link = path.join(repo, 'docs', 'link-to-readme')
    await fs.rm(link)
    await fs.writeFile(link, '../README.md')
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT - 1, stale: 1 })
    expect(git(repo, 'status', '--porcelain')).toBe(' T docs/link-to-readme')
  })

  it('takes the plain files of symlinks checked out with core.symlinks=false', async () => {
    const repo = await snapshot({
      prepare: async clone => {
        // What a clone on a filesystem without symlinks has: the config and plain files.
        git(clone, 'config', 'core.symlinks', 'false')
        for (const link of ['docs/link-to-readme', 'dangling']) {
          const file = path.join(clone, link)
          const target = await fs.readlink(file)
          await fs.rm(file)
          await fs.writeFile(file, target)
        }
      }
    })
    expect((await fs.lstat(path.join(repo, 'dangling'))).isFile()).toBe(true)
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    await expectCleanWithoutRehash(repo)
  })

  it('keeps a file whose mtime is not older than the index clean (racy git)', async () => {
    const repo = await snapshot()
    const future = path.join(repo, 'src', 'index.ts')
    execFileSync('touch', ['-d', '+1 hour', future])
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    // Git cannot trust stat data as new as the index itself, so it compares that one file's
    // content, finds it unchanged, and reports the tree clean.
    const status = await openedFiles(repo, ['diff-index', '--quiet', 'HEAD'])
    expect(status).toEqual({ status: 0, files: ['src/index.ts'] })
    expect(git(repo, 'status', '--porcelain')).toBe('')
  })

  it('leaves a file stale whose checked-out bytes differ from its blob (eol=crlf)', async () => {
    const repo = await snapshot({
      files: { ...FILES, '.gitattributes': '*.txt text eol=crlf\n', 'lines.txt': 'a\nb\n' }
    })
    expect(await fs.readFile(path.join(repo, 'lines.txt'), 'utf8')).toBe('a\r\nb\r\n')
    // The raw bytes hash differently from the blob, so the entry stays for git to check with
    // its filters; 'with space.txt' and 'naïve café/notes.txt' end in one \n, become \r\n too.
    const result = await writeIndexStat(repo, await diskIds(repo))
    expect(result).toEqual({ updated: FILE_COUNT - 1, stale: 3 })
    expect(git(repo, 'status', '--porcelain')).toBe('')
  })

  it('handles version 3: skip-worktree and intent-to-add entries stay as git keeps them', async () => {
    const repo = await snapshot({
      prepare: async clone => {
        git(clone, 'update-index', '--skip-worktree', 'src/index.ts')
        await fs.writeFile(path.join(clone, 'added-later.txt'), '')
        git(clone, 'add', '--intent-to-add', 'added-later.txt')
      }
    })
    const stale = await readIndex(repo)
    expect(indexVersion(stale)).toBe(3)
    const ids = await diskIds(repo)
    // The intent-to-add file is empty: its id is the placeholder's, yet it is not "added".
    expect(ids.get('added-later.txt')).toBe(git(repo, 'hash-object', '--stdin'))
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT - 1, stale: 2 })
    const ours = await readIndex(repo)
    expect(git(repo, 'status', '--porcelain')).toBe(' A added-later.txt')
    const status = await openedFiles(repo, ['status', '--porcelain'], true)
    expect(status.files).toEqual([])
    expect(run(repo, ['fsck', '--no-progress']).status).toBe(0)
    expect(ours.equals((await gitsOwnRefresh(repo, stale)).index)).toBe(true)
  })

  it('handles version 4 (prefix-compressed paths)', async () => {
    const repo = await snapshot({
      prepare: clone => void git(clone, 'update-index', '--index-version', '4')
    })
    const stale = await readIndex(repo)
    expect(indexVersion(stale)).toBe(4)
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    const ours = { dump: statDump(repo), index: await readIndex(repo) }
    await expectCleanWithoutRehash(repo)
    const theirs = await gitsOwnRefresh(repo, stale)
    expect(ours.dump).toBe(theirs.dump)
    expect(ours.index.equals(theirs.index)).toBe(true)
  })

  it('keeps the untracked cache (UNTR) valid', async () => {
    const repo = await snapshot({
      prepare: async clone => {
        await fs.writeFile(path.join(clone, 'notes.local'), 'not tracked\n')
        git(clone, 'config', 'core.untrackedCache', 'true')
        git(clone, 'update-index', '--untracked-cache')
        git(clone, 'status', '--porcelain')
      }
    })
    const stale = await readIndex(repo)
    expect(stale.includes('UNTR')).toBe(true)
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    const ours = statDump(repo)
    await expectCleanWithoutRehash(repo, '?? notes.local')
    expect((await readIndex(repo)).includes('UNTR')).toBe(true)
    // The entries as git writes them. (Git's refresh also rebuilds UNTR here: the cache names
    // the directory it was made in, and the snapshot was extracted elsewhere.)
    expect((await gitsOwnRefresh(repo, stale)).dump).toBe(ours)
  })

  it('keeps the file system monitor extension (FSMN)', async () => {
    const repo = await snapshot({
      prepare: async clone => {
        // A hook speaking fsmonitor protocol 2 that always answers "anything may have changed".
        const hook = path.join(path.dirname(clone), 'fsmonitor-hook')
        await fs.writeFile(hook, '#!/bin/sh\nprintf \'token-%s\\0/\\0\' "$(date +%s%N)"\n', {
          mode: 0o755
        })
        git(clone, 'config', 'core.fsmonitor', hook)
        git(clone, 'status', '--porcelain')
      }
    })
    const stale = await readIndex(repo)
    expect(stale.includes('FSMN')).toBe(true)
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    expect((await readIndex(repo)).includes('FSMN')).toBe(true)
    const ours = statDump(repo)
    await expectCleanWithoutRehash(repo)
    expect((await gitsOwnRefresh(repo, stale)).dump).toBe(ours)
  })

  it('keeps EOIE and IEOT valid', async () => {
    const repo = await snapshot({
      prepare: clone => {
        // In the repository's config, so that git's own refresh below writes them too.
        git(clone, 'config', 'index.recordEndOfIndexEntries', 'true')
        git(clone, 'config', 'index.recordOffsetTable', 'true')
        git(clone, 'config', 'index.threads', '4')
        git(clone, 'update-index', '--index-version', '4')
      }
    })
    const stale = await readIndex(repo)
    expect(stale.includes('EOIE')).toBe(true)
    expect(stale.includes('IEOT')).toBe(true)
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    const ours = await readIndex(repo)
    // Reading with threads, git finds the extensions through EOIE and the entries through IEOT.
    await expectCleanWithoutRehash(repo)
    expect(ours.equals((await gitsOwnRefresh(repo, stale)).index)).toBe(true)
  })

  it('handles a sparse index (sdir): directory entries stay, file entries are updated', async () => {
    const repo = await snapshot({
      prepare: clone => {
        git(clone, 'sparse-checkout', 'init', '--cone', '--sparse-index')
        git(clone, 'sparse-checkout', 'set', 'src')
      }
    })
    const stale = await readIndex(repo)
    expect(stale.includes('sdir')).toBe(true)
    // Root files and src/ are checked out; bin/, docs/ and naïve café/ are one entry each.
    const ids = await diskIds(repo)
    expect([...ids.keys()]).not.toContain('bin/run.sh')
    const result = await writeIndexStat(repo, ids)
    expect(result).toEqual({ updated: 7, stale: 3 })
    const ours = await readIndex(repo)
    await expectCleanWithoutRehash(repo)
    expect(ours.equals((await gitsOwnRefresh(repo, stale)).index)).toBe(true)
  })

  it('handles a sha256 repository', async () => {
    const repo = await snapshot({ objectFormat: 'sha256' })
    const ids = await diskIds(repo)
    expect(ids.get('README.md')).toMatch(/^[0-9a-f]{64}$/)
    const stale = await readIndex(repo)
    expect(await writeIndexStat(repo, ids)).toEqual({ updated: FILE_COUNT, stale: 0 })
    const ours = await readIndex(repo)
    await expectCleanWithoutRehash(repo)
    expect(ours.equals((await gitsOwnRefresh(repo, stale)).index)).toBe(true)
  })

  it('keeps an all-zero trailer zero (index.skipHash)', async () => {
    const repo = await snapshot({
      prepare: clone => {
        git(clone, '-c', 'index.skipHash=true', 'update-index', '--index-version', '2')
        // Git before 2.40 ignores index.skipHash; its index is then zeroed as 2.40 writes it.
        const file = path.join(clone, '.git', 'index')
        return fs.readFile(file).then(index => fs.writeFile(file, index.fill(0, index.length - 20)))
      }
    })
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    const ours = await readIndex(repo)
    expect(ours.subarray(-20).equals(Buffer.alloc(20))).toBe(true)
    const status = await openedFiles(repo, ['status', '--porcelain'], true)
    expect(status).toEqual({ status: 0, files: [] })
    expect(git(repo, 'status', '--porcelain')).toBe('')
  })

  it('leaves a submodule gitlink alone', async () => {
    const sub = await snapshot()
    // The clone does not recurse, as a snapshot's does not: an empty directory at the gitlink.
    const repo = await snapshot({
      prepareUpstream: upstream =>
        void git(
          upstream,
          '-c',
          'protocol.file.allow=always',
          'submodule',
          'add',
          '--quiet',
          sub,
          'vendor/sub'
        )
    })
    expect(git(repo, 'ls-files', '--stage', 'vendor/sub')).toMatch(/^160000 /)
    // .gitmodules is new too: one more file, one gitlink not updated.
    const stale = await readIndex(repo)
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT + 1,
      stale: 1
    })
    const ours = await readIndex(repo)
    await expectCleanWithoutRehash(repo)
    expect(ours.equals((await gitsOwnRefresh(repo, stale)).index)).toBe(true)
  })

  it('keeps an unknown optional extension and passes its bytes through', async () => {
    const repo = await snapshot()
    const indexFile = path.join(repo, '.git', 'index')
    const stale = await fs.readFile(indexFile)
    const extension = Buffer.concat([
      Buffer.from('ZZZZ'),
      Buffer.from([0, 0, 0, 3]),
      Buffer.from('abc')
    ])
    await fs.writeFile(indexFile, withChecksum(Buffer.concat([stale.subarray(0, -20), extension])))
    expect(await writeIndexStat(repo, await diskIds(repo))).toEqual({
      updated: FILE_COUNT,
      stale: 0
    })
    const ours = await fs.readFile(indexFile)
    expect(ours.subarray(-20 - extension.length, -20).equals(extension)).toBe(true)
    await expectCleanWithoutRehash(repo)
  })
})

describe('writeIndexStat falls back and leaves the index untouched', () => {
  /** A snapshot and its files' ids, taken before a test breaks what git needs to list them. */
  async function snapshotWithIds(options: SnapshotOptions = {}) {
    const repo = await snapshot(options)
    return { repo, ids: await diskIds(repo), indexFile: path.join(repo, '.git', 'index') }
  }

  async function expectFallback(
    repo: string,
    ids: Map<string, string>,
    reason: RegExp
  ): Promise<void> {
    const indexFile = path.join(repo, '.git', 'index')
    const before = await fs.readFile(indexFile).catch(() => undefined)
    expect(ids.size).toBe(FILE_COUNT)
    const result = await writeIndexStat(repo, ids)
    expect(result.updated).toBe(0)
    expect(result.fallback).toMatch(reason)
    expect(await fs.readFile(indexFile).catch(() => undefined)).toEqual(before)
  }

  it('for a split index', async () => {
    const { repo, ids } = await snapshotWithIds({
      prepare: clone => void git(clone, 'update-index', '--split-index')
    })
    await expectFallback(repo, ids, /split index/)
    await expect(fs.access(path.join(repo, '.git', 'index.lock'))).rejects.toThrow()
  })

  it('when index.lock exists, which it leaves in place', async () => {
    const { repo, ids } = await snapshotWithIds()
    const lock = path.join(repo, '.git', 'index.lock')
    await fs.writeFile(lock, 'another git')
    await expectFallback(repo, ids, /index\.lock: EEXIST/)
    expect(await fs.readFile(lock, 'utf8')).toBe('another git')
  })

  it('for a bad checksum', async () => {
    const { repo, ids, indexFile } = await snapshotWithIds()
    const index = await fs.readFile(indexFile)
    index[20] ^= 1 // a byte of the first entry's mtime
    await fs.writeFile(indexFile, index)
    await expectFallback(repo, ids, /checksum/)
  })

  it('for an unknown index version', async () => {
    const { repo, ids, indexFile } = await snapshotWithIds()
    const index = await fs.readFile(indexFile)
    index.writeUInt32BE(5, 4)
    await fs.writeFile(indexFile, withChecksum(index.subarray(0, -20)))
    await expectFallback(repo, ids, /version 5/)
  })

  it('for an unknown required extension', async () => {
    const { repo, ids, indexFile } = await snapshotWithIds()
    const index = await fs.readFile(indexFile)
    const extension = Buffer.concat([Buffer.from('zzzz'), Buffer.alloc(4)])
    await fs.writeFile(indexFile, withChecksum(Buffer.concat([index.subarray(0, -20), extension])))
    await expectFallback(repo, ids, /required index extension 'zzzz'/)
  })

  it('for a truncated index', async () => {
    const { repo, ids, indexFile } = await snapshotWithIds()
    const index = await fs.readFile(indexFile)
    await fs.writeFile(indexFile, withChecksum(index.subarray(0, 100)))
    await expectFallback(repo, ids, /truncated|not terminated/)
  })

  it('without an index', async () => {
    const { repo, ids, indexFile } = await snapshotWithIds()
    await fs.rm(indexFile)
    await expectFallback(repo, ids, /no index/)
    await expect(fs.access(path.join(repo, '.git', 'index.lock'))).rejects.toThrow()
  })

  it('when .git is a file', async () => {
    const { repo, ids } = await snapshotWithIds()
    const real = `${repo}.git`
    await fs.rename(path.join(repo, '.git'), real)
    await fs.writeFile(path.join(repo, '.git'), `gitdir: ${real}\n`)
    const result = await writeIndexStat(repo, ids)
    expect(result).toEqual({ updated: 0, stale: 0, fallback: '.git is not a directory' })
  })
})

/** Extracts a tar as the action does: compressed by pzstd, decoded and extracted by materialize. */
async function materialized(tar: string, directory: string): Promise<ExtractResult> {
  const compressed = `${tar}.zst`
  execFileSync('pzstd', ['-q', '-f', tar, '-o', compressed])
  const handle = await fs.open(compressed, 'r')
  try {
    const bytes = { source: fileSource(handle), complete: Promise.resolve() }
    return await materialize(bytes, directory, { controller: new AbortController() })
  } finally {
    await handle.close()
  }
}

/** The paths the extractor recorded stat data for. */
function recorded(result: ExtractResult): string[] {
  const names = [...result.blobIds.keys()]
  return names.filter((_name, i) => result.fileStats[i * STAT_FIELDS + MODE_FIELD] !== 0).sort()
}

/** FILES' regular files: what the extractor records stat data for. */
const REGULAR_FILES = Object.keys(FILES)
  .filter(name => typeof FILES[name] === 'string' || 'executable' in (FILES[name] as object))
  .map(name => Buffer.from(name).toString('latin1'))
  .sort()

/**
 * The proof that the record changes nothing but the cost: the index written from it (every
 * entry updated) is byte for byte the one the lstat pass alone writes from the same stale
 * index, and git finds it clean without rehashing.
 */
async function expectIndexAsFromLstat(repo: string, result: ExtractResult): Promise<void> {
  const stale = await readIndex(repo)
  const counts = await writeIndexStat(repo, result.blobIds, result.fileStats)
  expect(counts).toEqual({ updated: indexPaths(repo).length, stale: 0 })
  const fromRecord = await readIndex(repo)
  await fs.writeFile(path.join(repo, '.git', 'index'), stale)
  expect(await writeIndexStat(repo, result.blobIds)).toEqual(counts)
  expect((await readIndex(repo)).equals(fromRecord)).toBe(true)
  await expectCleanWithoutRehash(repo)
}

/** Rewrites `name` in a later second, keeping its size and mtime: git must see the change. */
async function expectEditSeen(repo: string, name: string, status: string): Promise<void> {
  await untilNextSecond()
  const file = path.join(repo, name)
  const { mtime, size } = await fs.stat(file)
  await fs.writeFile(file, 'x'.repeat(size))
  execFileSync('touch', ['-d', mtime.toISOString(), file])
  expect(git(repo, 'status', '--porcelain')).toBe(status)
  expect(run(repo, ['diff-index', '--quiet', 'HEAD']).status).toBe(1)
}

describe('writeIndexStat with the stat data the extractor recorded', () => {
  it('writes the index the lstat pass writes, from an archive made by tar and pzstd', async () => {
    const { root, tar } = await snapshotTar()
    const repo = path.join(root, 'restored')
    await fs.mkdir(repo)
    const result = await materialized(tar, repo)
    expect(recorded(result)).toEqual(REGULAR_FILES)
    await expectIndexAsFromLstat(repo, result)
    await expectEditSeen(repo, 'src/index.ts', ' M src/index.ts')
  })

  it('leaves a hard link and the file it links to to lstat: the link changed its ctime', async () => {
    const files = { ...FILES, 'README copy.md': FILES['README.md'] }
    const { root, tar } = await snapshotTar({
      files,
      prepare: async clone => {
        await fs.rm(path.join(clone, 'README copy.md'))
        await fs.link(path.join(clone, 'README.md'), path.join(clone, 'README copy.md'))
      }
    })
    // GNU tar writes the second name it meets as a link to the first. The extraction pauses
    // before that entry, so the link lands in a later second than the file's close, and a
    // record kept for the file would be a stale ctime that git, too, would see.
    const listing = execFileSync('tar', ['-tvR', '-f', tar]).toString()
    const link = /^block (\d+): h.* link to /m.exec(listing)
    expect(link).not.toBeNull()
    const bytes = await fs.readFile(tar)
    const repo = path.join(root, 'restored')
    await fs.mkdir(repo)
    const extractor = new TarExtractor(repo)
    extractor.write(bytes.subarray(0, Number(link![1]) * 512))
    await untilNextSecond()
    extractor.write(bytes.subarray(Number(link![1]) * 512))
    extractor.end()
    extractor.close()
    const result = extractor.result
    expect(result.blobIds.has('README copy.md')).toBe(true)
    expect(recorded(result)).toEqual(REGULAR_FILES.filter(name => name !== 'README.md'))
    await expectIndexAsFromLstat(repo, result)
    await expectEditSeen(repo, 'README.md', ' M "README copy.md"\n M README.md')
  })

  it('follows a path the archive writes twice, as a file and then as a symlink', async () => {
    const { root, tar } = await snapshotTar()
    // Earlier entries of two paths, appended to by the snapshot itself: both get replaced.
    const decoy = path.join(root, 'decoy')
    await fs.mkdir(path.join(decoy, 'docs'), { recursive: true })
    await fs.writeFile(path.join(decoy, 'README.md'), 'an older readme\n')
    await fs.writeFile(path.join(decoy, 'docs', 'link-to-readme'), 'a file at first\n')
    const twice = path.join(root, 'twice.tar')
    execFileSync('tar', ['-C', decoy, '-cf', twice, 'README.md', 'docs/link-to-readme'])
    execFileSync('tar', ['-Af', twice, tar])
    const repo = path.join(root, 'restored')
    await fs.mkdir(repo)
    const result = extractTarFile(twice, repo)
    expect(await fs.readlink(path.join(repo, 'docs', 'link-to-readme'))).toBe('../README.md')
    expect(recorded(result)).toEqual(REGULAR_FILES)
    await expectIndexAsFromLstat(repo, result)
    await expectEditSeen(repo, 'README.md', ' M README.md')
  })

  it('is stale for top-level files moved into an existing target, which get lstat', async () => {
    const { root, tar } = await snapshotTar()
    const target = path.join(root, 'workspace')
    await fs.mkdir(target)
    // As a restore does it: extract into staging, write the index, move into the target.
    const staging = await prepareStaging(target)
    const result = await materialized(tar, staging.directory)
    const fromRecord = await writeIndexStat(staging.directory, result.blobIds, result.fileStats)
    expect(fromRecord).toEqual({ updated: FILE_COUNT, stale: 0 })
    await untilNextSecond()
    await staging.commit()
    // The control: the record, written again, now holds the old ctimes of the moved files.
    await writeIndexStat(target, result.blobIds, result.fileStats)
    const staleNames = git(target, 'diff-files', '--name-only').split('\n').sort()
    expect(staleNames).toEqual(['README.md', 'empty.txt', 'with space.txt'])

    await freshenMovedEntries(target, result.blobIds, recordingLog())
    const freshened = await readIndex(target)
    await expectCleanWithoutRehash(target)
    // What the lstat pass writes for every entry, byte for byte.
    expect(await writeIndexStat(target, result.blobIds)).toEqual(fromRecord)
    expect((await readIndex(target)).equals(freshened)).toBe(true)
    await expectEditSeen(target, 'README.md', ' M README.md')
  })
})

describe('readConfigValues', () => {
  it('reads keys case-insensitively, last value winning, past subsections and comments', () => {
    const text = [
      '[core]',
      '\tfileMode = true',
      '[remote "origin"]',
      '\tfilemode = false',
      '[CORE] symlinks = "off" ; a comment',
      '[core]',
      '\tFILEMODE',
      '\tfilemode = no # off after all',
      '[extensions]',
      '\tobjectFormat = sha256'
    ].join('\n')
    const values = readConfigValues(text, [
      'core.filemode',
      'core.symlinks',
      'extensions.objectformat'
    ])
    expect(Object.fromEntries(values)).toEqual({
      'core.filemode': 'no',
      'core.symlinks': 'off',
      'extensions.objectformat': 'sha256'
    })
  })
})
