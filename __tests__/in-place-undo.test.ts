/**
 * Putting a checkout back after a failed update in place, on real repositories: record, set
 * aside, let real git change the tree (a forced checkout that completes, or one that a failing
 * filter stops midway), put back, and compare everything a later step could see with what was
 * there before: HEAD, branches and their upstream configuration, the index, `git status`
 * (ignored files included) and every file of the tree.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Git } from '../src/git/git.js'
import { InPlaceUndo, UNDO_PREFIX } from '../src/git/in-place-undo.js'
import { git, TempDirs } from './git-helpers.js'
import { manifest } from './support/tree.js'

const dirs = new TempDirs()
afterEach(() => dirs.cleanup())

interface Repo {
  dir: string
  a: string
  b: string
}

/**
 * A checkout on main at commit A. Commit B, its destination, changes a file, deletes one,
 * turns the directory d/ into a file, makes a script executable and adds new/n.txt.
 */
async function makeRepo(): Promise<Repo> {
  const dir = await dirs.make('undo')
  git(dir, 'init', '--quiet', '--initial-branch=main')
  const write = async (file: string, text: string): Promise<void> => {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await fs.writeFile(path.join(dir, file), text)
  }
  await write('README.md', 'version A\n')
  await write('src/a.txt', 'a\n')
  await write('src/b.txt', 'b\n')
  await write('d/x', 'x\n')
  await write('tool.sh', 'echo tool\n')
  await write('.gitignore', 'build/\n*.log\n')
  git(dir, 'add', '.')
  git(dir, 'commit', '--quiet', '-m', 'A')
  const a = git(dir, 'rev-parse', 'HEAD')
  await write('README.md', 'version B\n')
  await fs.rm(path.join(dir, 'src', 'a.txt'))
  await fs.rm(path.join(dir, 'd'), { recursive: true })
  await write('d', 'd is a file now\n')
  await fs.chmod(path.join(dir, 'tool.sh'), 0o755)
  await write('new/n.txt', 'new\n')
  git(dir, 'add', '--all')
  git(dir, 'commit', '--quiet', '-m', 'B')
  const b = git(dir, 'rev-parse', 'HEAD')
  // origin/main at B, as after the update's fetch; main back at A, tracking it.
  git(dir, 'remote', 'add', 'origin', 'https://git.example.test/acme/widgets')
  git(dir, 'update-ref', 'refs/remotes/origin/main', b)
  git(dir, 'reset', '--quiet', '--hard', a)
  git(dir, 'config', 'branch.main.remote', 'origin')
  git(dir, 'config', 'branch.main.merge', 'refs/heads/main')
  return { dir, a, b }
}

/** The job's leftovers: every kind of entry clean removes or the checkout overwrites. */
async function makeDirty(dir: string): Promise<void> {
  await fs.writeFile(path.join(dir, 'stray.txt'), 'untracked\n')
  await fs.writeFile(path.join(dir, 'run.log'), 'ignored file\n')
  await fs.mkdir(path.join(dir, 'build', 'deep'), { recursive: true })
  await fs.writeFile(path.join(dir, 'build', 'deep', 'out.o'), 'ignored directory\n')
  await fs.mkdir(path.join(dir, 'empty'))
  git(dir, 'init', '--quiet', 'nested')
  await fs.writeFile(path.join(dir, 'nested', 'own.txt'), 'a repository inside\n')
  await fs.appendFile(path.join(dir, 'README.md'), 'an edit\n')
  await fs.rm(path.join(dir, 'src', 'b.txt'))
  // Staged, then edited again: index and file each differ from HEAD.
  await fs.writeFile(path.join(dir, 'tool.sh'), 'echo staged\n')
  git(dir, 'add', 'tool.sh')
  await fs.writeFile(path.join(dir, 'tool.sh'), 'echo edited after staging\n')
  // A tracked file replaced by a directory.
  await fs.rm(path.join(dir, 'd', 'x'))
  await fs.mkdir(path.join(dir, 'd', 'x'))
  await fs.writeFile(path.join(dir, 'd', 'x', 'inside'), 'a directory where a file was\n')
}

/** Everything a later step could look at, apart from objects and remote-tracking refs. */
async function state(dir: string) {
  return {
    head: git(dir, 'rev-parse', 'HEAD'),
    symref: spawnSync('git', ['symbolic-ref', '--quiet', 'HEAD'], { cwd: dir, encoding: 'utf8' })
      .stdout,
    branches: git(dir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads'),
    branchConfig: spawnSync('git', ['config', '--get-regexp', '^branch\\.'], {
      cwd: dir,
      encoding: 'utf8'
    }).stdout,
    index: git(dir, 'ls-files', '--stage'),
    status: git(dir, 'status', '--porcelain=v1', '--ignored', '--untracked-files=all'),
    tree: await manifest(dir, relative => relative === '.git' || relative.startsWith('.git/'))
  }
}

function undoGit(dir: string): Git {
  return new Git(dir, [], { uncancellable: true })
}

/** A required smudge filter that fails, for new/n.txt only: a checkout to B stops there. */
async function breakCheckoutOfNewFile(dir: string): Promise<void> {
  git(dir, 'config', 'filter.broken.smudge', 'false')
  git(dir, 'config', 'filter.broken.required', 'true')
  await fs.writeFile(path.join(dir, '.git', 'info', 'attributes'), 'new/n.txt filter=broken\n')
}

async function undoEntries(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, '.git'))).filter(name => name.startsWith(UNDO_PREFIX))
}

describe('InPlaceUndo', () => {
  it('puts a clean checkout back after a checkout that stopped midway', async () => {
    const { dir, a, b } = await makeRepo()
    await breakCheckoutOfNewFile(dir)
    const before = await state(dir)
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir: '/nowhere'
    })
    expect(undo.describeHead()).toBe(`${a} on main`)
    await undo.setAside()
    const checkout = spawnSync('git', ['checkout', '--quiet', '--force', '-B', 'main', b], {
      cwd: dir,
      encoding: 'utf8'
    })
    expect(checkout.status).not.toBe(0)
    expect(checkout.stderr).toContain('smudge filter broken failed')
    // It stopped midway: README.md (before new/ in index order) is B's already.
    expect(await fs.readFile(path.join(dir, 'README.md'), 'utf8')).toBe('version B\n')

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
    expect(await undoEntries(dir)).toEqual([])
  })

  it('puts a dirty checkout back, every leftover as it was, after a completed checkout', async () => {
    const { dir, b } = await makeRepo()
    await makeDirty(dir)
    const before = await state(dir)
    expect(before.status).toMatch(/\?\? stray\.txt/)
    expect(before.status).toMatch(/!! build\/deep\/out\.o/)
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir: '/nowhere'
    })
    await undo.setAside()
    // Nothing clean would remove is left in the tree, and the edits are out of the way.
    expect(git(dir, 'ls-files', '--others', '--directory')).toBe('')
    await expect(fs.access(path.join(dir, 'README.md'))).rejects.toThrow()
    git(dir, 'clean', '-ffdxq')
    git(dir, 'checkout', '--quiet', '--force', '-B', 'other', b)
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', b)
    git(dir, 'branch', '--quiet', '--unset-upstream', 'main')
    expect(git(dir, 'rev-parse', 'main')).toBe(b)

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual({
      ...before,
      // The branch the checkout did not record stays: only `branch` is put back.
      branches: `${before.branches}\nrefs/heads/other ${b}`
    })
    expect(await fs.readFile(path.join(dir, 'tool.sh'), 'utf8')).toBe('echo edited after staging\n')
    expect(git(dir, 'show', ':tool.sh')).toBe('echo staged')
  })

  it('puts a detached HEAD back and deletes the branch the checkout created', async () => {
    const { dir, a, b } = await makeRepo()
    git(dir, 'checkout', '--quiet', '--detach', a)
    git(dir, 'branch', '--quiet', '-D', 'main')
    const before = await state(dir)
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir: '/nowhere'
    })
    expect(undo.describeHead()).toBe(`${a} (detached)`)
    await undo.setAside()
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', b)
    git(dir, 'branch', '--quiet', '--set-upstream-to=origin/main', 'main')

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
    expect(before.symref).toBe('')
    expect(before.branches).toBe('')
  })

  it('leaves a submodule checked out at another commit alone, as the checkout does', async () => {
    const { dir, b } = await makeRepo()
    const sub = path.join(dir, 'sub')
    git(dir, 'init', '--quiet', '--initial-branch=main', 'sub')
    git(sub, 'commit', '--quiet', '--allow-empty', '-m', 'one')
    const recorded = git(sub, 'rev-parse', 'HEAD')
    git(dir, 'update-index', '--add', '--cacheinfo', `160000,${recorded},sub`)
    git(dir, 'commit', '--quiet', '-m', 'a submodule')
    git(sub, 'commit', '--quiet', '--allow-empty', '-m', 'two')
    const moved = git(sub, 'rev-parse', 'HEAD')
    const before = await state(dir)
    expect(before.status).toBe(' M sub')
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir: '/nowhere'
    })
    await undo.setAside()
    expect(git(sub, 'rev-parse', 'HEAD')).toBe(moved)
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', b)

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
    expect(git(sub, 'rev-parse', 'HEAD')).toBe(moved)
  })

  it('leaves RUNNER_TEMP inside the checkout where it is, and sets aside what is around it', async () => {
    const { dir, b } = await makeRepo()
    const tempDir = path.join(dir, 'tmp', 'runner-temp')
    await fs.mkdir(tempDir, { recursive: true })
    await fs.writeFile(path.join(tempDir, 'job-file'), 'this job is using it\n')
    await fs.writeFile(path.join(dir, 'tmp', 'beside'), 'untracked, beside RUNNER_TEMP\n')
    const before = await state(dir)
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir
    })
    await undo.setAside()
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual(['runner-temp'])
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', b)

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
  })

  it('after a setting aside that failed midway, moves back what it moved and nothing else', async () => {
    const { dir, b } = await makeRepo()
    await fs.appendFile(path.join(dir, 'README.md'), 'an edit\n')
    await fs.appendFile(path.join(dir, 'src', 'a.txt'), 'an edit\n')
    await fs.writeFile(path.join(dir, 'stray.txt'), 'untracked\n')
    const before = await state(dir)
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir: '/nowhere'
    })
    // A file where src/a.txt's place aside needs a directory: README.md moves, src/a.txt cannot.
    await fs.mkdir(path.join(undo.directory, 'tree'), { recursive: true })
    await fs.writeFile(path.join(undo.directory, 'tree', 'src'), 'in the way\n')
    await expect(undo.setAside()).rejects.toThrow(/ENOTDIR|EEXIST/)
    await expect(fs.access(path.join(dir, 'README.md'))).rejects.toThrow()

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
  })

  it('says what state the checkout is in when it cannot be put back', async () => {
    const { dir, a, b } = await makeRepo()
    await fs.writeFile(path.join(dir, 'stray.txt'), 'untracked\n')
    await fs.writeFile(path.join(dir, 'other.txt'), 'untracked too\n')
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: b,
      branch: 'main',
      tempDir: '/nowhere'
    })
    await undo.setAside()
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', b)
    // The first entry set aside is gone: it cannot come back.
    await fs.rm(path.join(undo.directory, 'tree', 'other.txt'))

    const putBack = await undo.putBack()
    expect(putBack).toEqual({
      done: false,
      reason: expect.stringContaining('ENOENT'),
      state:
        `HEAD is at ${a} on main, the index is as it was, its files are partly at ${a} and ` +
        `partly at ${b}; 2 untracked or edited entries it held are in ` +
        path.join(undo.directory, 'tree')
    })
    expect(await fs.readFile(path.join(undo.directory, 'tree', 'stray.txt'), 'utf8')).toBe(
      'untracked\n'
    )
  })

  it("removes the undo directory a killed run left, and leaves a running one's", async () => {
    const { dir } = await makeRepo()
    const exited = spawnSync('true')
    expect(exited.pid).toBeGreaterThan(0)
    const dead = path.join(dir, '.git', `${UNDO_PREFIX}${exited.pid}-abcdef`)
    const alive = path.join(dir, '.git', `${UNDO_PREFIX}${process.ppid}-abcdef`)
    for (const leftover of [dead, alive]) {
      await fs.mkdir(path.join(leftover, 'tree'), { recursive: true })
    }
    const undo = await InPlaceUndo.record(undoGit(dir), dir, {
      destination: 'HEAD',
      tempDir: '/nowhere'
    })
    expect((await undoEntries(dir)).sort()).toEqual(
      [path.basename(alive), path.basename(undo.directory)].sort()
    )
    await undo.discard()
    expect(await undoEntries(dir)).toEqual([path.basename(alive)])
  })
})

describe('InPlaceUndo with keepUntracked (clean: false)', () => {
  /**
   * makeRepo's checkout, dirty, with commit C (B plus x/y and w/deep/z) to go to. Untracked
   * and ignored entries of every kind: in the way of C's paths (new/n.txt where C has that
   * file, x and w/deep where C needs directories, d/untracked inside d where C has a file) and
   * not (stray.txt, new/other.txt and w/other beside C's new files, ignored files, an empty
   * directory, a nested repository).
   */
  async function dirtyRepoGoingToC(): Promise<{ dir: string; c: string }> {
    const { dir, b } = await makeRepo()
    git(dir, 'checkout', '--quiet', '--force', '--detach', b)
    await fs.mkdir(path.join(dir, 'x'))
    await fs.writeFile(path.join(dir, 'x', 'y'), 'C\n')
    await fs.mkdir(path.join(dir, 'w', 'deep'), { recursive: true })
    await fs.writeFile(path.join(dir, 'w', 'deep', 'z'), 'C\n')
    git(dir, 'add', '.')
    git(dir, 'commit', '--quiet', '-m', 'C')
    const c = git(dir, 'rev-parse', 'HEAD')
    git(dir, 'checkout', '--quiet', '--force', 'main')
    git(dir, 'clean', '-ffdxq')
    await makeDirty(dir)
    await fs.mkdir(path.join(dir, 'new'))
    await fs.writeFile(path.join(dir, 'new', 'n.txt'), 'the job made this, C tracks it\n')
    await fs.writeFile(path.join(dir, 'new', 'other.txt'), 'beside a new file of C\n')
    await fs.writeFile(path.join(dir, 'x'), 'a file where C needs a directory\n')
    await fs.mkdir(path.join(dir, 'w'))
    await fs.writeFile(path.join(dir, 'w', 'deep'), 'a file where C needs a directory\n')
    await fs.writeFile(path.join(dir, 'w', 'other'), 'beside it\n')
    await fs.writeFile(path.join(dir, 'd', 'untracked'), 'inside d, which C has as a file\n')
    return { dir, c }
  }

  function record(dir: string, c: string): Promise<InPlaceUndo> {
    return InPlaceUndo.record(undoGit(dir), dir, {
      destination: c,
      branch: 'main',
      tempDir: '/nowhere',
      keepUntracked: true
    })
  }

  it('sets aside exactly what a forced checkout replaces: the tree ends as plain git leaves it', async () => {
    const { dir, c } = await dirtyRepoGoingToC()
    // What actions/checkout with clean: false does to the same tree: a forced checkout alone.
    const plain = await dirs.make('plain')
    await fs.cp(dir, plain, { recursive: true, verbatimSymlinks: true })
    git(plain, 'checkout', '--quiet', '--force', '-B', 'main', c)

    const undo = await record(dir, c)
    await undo.setAside()
    const aside = (await manifest(path.join(undo.directory, 'tree'))).map(entry => entry.path)
    expect(aside).toEqual(
      expect.arrayContaining(['new/n.txt', 'x', 'w/deep', 'd/untracked', 'README.md'])
    )
    expect(aside).not.toEqual(expect.arrayContaining(['stray.txt']))
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', c)
    await undo.discard()

    expect(await state(dir)).toEqual(await state(plain))
    const kept = await state(dir)
    for (const entry of [
      'stray.txt',
      'run.log',
      'new/other.txt',
      'w/other',
      'empty',
      'nested/own.txt'
    ]) {
      expect(kept.tree.map(e => e.path)).toContain(entry)
    }
    expect(await fs.readFile(path.join(dir, 'x', 'y'), 'utf8')).toBe('C\n')
    expect(await undoEntries(dir)).toEqual([])
  })

  it('puts a dirty checkout back after a checkout that stopped midway, keeping every untracked entry', async () => {
    const { dir, c } = await dirtyRepoGoingToC()
    await breakCheckoutOfNewFile(dir)
    const before = await state(dir)
    const undo = await record(dir, c)
    await undo.setAside()
    const checkout = spawnSync('git', ['checkout', '--quiet', '--force', '-B', 'main', c], {
      cwd: dir,
      encoding: 'utf8'
    })
    expect(checkout.status).not.toBe(0)
    expect(await fs.readFile(path.join(dir, 'README.md'), 'utf8')).toBe('version B\n')

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
    expect(await undoEntries(dir)).toEqual([])
  })

  it('puts it back after a completed checkout too, removing only what the checkout wrote', async () => {
    const { dir, c } = await dirtyRepoGoingToC()
    const before = await state(dir)
    const undo = await record(dir, c)
    await undo.setAside()
    git(dir, 'checkout', '--quiet', '--force', '-B', 'main', c)
    expect(await fs.readFile(path.join(dir, 'w', 'deep', 'z'), 'utf8')).toBe('C\n')

    expect(await undo.putBack()).toEqual({ done: true })
    expect(await state(dir)).toEqual(before)
  })
})
