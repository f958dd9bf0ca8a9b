/**
 * The in-place update's first stage on real repositories: which checkouts qualify, and that
 * every one that does not is left exactly as it was, with the reason in the log. These are
 * decided before any network request (the e2e tests cover the fetch and the update).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  normaliseRepositoryUrl,
  redactUrl,
  sameRepository,
  updateInPlace
} from '../src/git/in-place.js'
import { CachewClient } from '../src/cachew/client.js'
import type { Log } from '../src/report/log.js'
import type { RestoreSettings } from '../src/settings.js'
import {
  addCommit,
  git,
  makeStagedClone,
  makeUpstream,
  restoreSettings,
  TempDirs,
  UPSTREAM_URL,
  type Upstream
} from './git-helpers.js'
import { manifest } from './support/tree.js'

/** updateInPlace with a client of its own (never reached when the checkout does not qualify). */
async function declinedWith(settings: RestoreSettings, log: Log): Promise<unknown> {
  const cachew = new CachewClient(settings, 1)
  try {
    return await updateInPlace(settings, cachew, log)
  } finally {
    cachew.close()
  }
}

describe('sameRepository', () => {
  it.each([
    ['https://github.com/acme/widgets', 'https://github.com/acme/widgets'],
    ['HTTPS://GitHub.COM/acme/widgets', 'https://github.com/acme/widgets'],
    ['https://github.com/acme/widgets.git', 'https://github.com/acme/widgets'],
    ['https://github.com/acme/widgets/', 'https://github.com/acme/widgets'],
    ['https://github.com/acme/widgets.git/', 'https://github.com/acme/widgets'],
    ['https://x-access-token:abc@github.com/acme/widgets', 'https://github.com/acme/widgets'],
    ['https://github.com:443/acme/widgets', 'https://github.com/acme/widgets'],
    // ssh, as ssh-key leaves origin: the host name and path decide (ssh has its own port).
    ['git@github.com:acme/widgets.git', 'https://github.com/acme/widgets'],
    ['deploy@GitHub.com:acme/widgets', 'https://github.com/acme/widgets'],
    ['ssh://git@github.com/acme/widgets.git', 'https://github.com/acme/widgets'],
    ['ssh://git@ghe.example.com:2222/acme/widgets', 'https://ghe.example.com:8443/acme/widgets']
  ])('%s is %s', (origin, repository) => {
    expect(sameRepository(origin, repository)).toBe(true)
  })

  it.each([
    ['https://github.com/acme/gadgets', 'https://github.com/acme/widgets'],
    ['https://github.com/Acme/Widgets', 'https://github.com/acme/widgets'],
    ['https://ghe.example.com/acme/widgets', 'https://github.com/acme/widgets'],
    ['http://github.com/acme/widgets', 'https://github.com/acme/widgets'],
    ['https://github.com:8443/acme/widgets', 'https://github.com/acme/widgets'],
    ['git@github.com:acme/gadgets.git', 'https://github.com/acme/widgets'],
    ['git@ghe.example.com:acme/widgets.git', 'https://github.com/acme/widgets'],
    ['ssh://git@github.com/', 'https://github.com/acme/widgets'],
    ['C:/repos/acme/widgets', 'https://github.com/acme/widgets'],
    ['/srv/git/widgets', 'https://github.com/acme/widgets'],
    ['https://github.com/', 'https://github.com/']
  ])('%s is not %s', (origin, repository) => {
    expect(sameRepository(origin, repository)).toBe(false)
  })

  it('normalises to scheme://host/path', () => {
    expect(normaliseRepositoryUrl(' HTTPS://u:p@Example.COM/a/b.git/ ')).toBe(
      'https://example.com/a/b'
    )
  })

  it('redacts credentials for the log', () => {
    expect(redactUrl('https://x-access-token:s3cret@github.com/a/b')).toBe(
      'https://***@github.com/a/b'
    )
    expect(redactUrl('https://github.com/a/b')).toBe('https://github.com/a/b')
    expect(redactUrl('not a url //user:s3cret@host/x')).not.toContain('s3cret')
  })
})

describe('updateInPlace declines, before any request, and touches nothing', () => {
  const dirs = new TempDirs()
  let upstream: Upstream

  beforeAll(async () => {
    upstream = await makeUpstream(dirs)
    await addCommit(upstream, { 'README.md': 'one\n', 'src/a.txt': 'a\n' }, 'first')
    await addCommit(upstream, { 'src/b.txt': 'b\n' }, 'second')
  })
  afterAll(() => dirs.cleanup())

  /** A checkout as a previous restore leaves it, with a file the last job left behind. */
  async function checkout(): Promise<string> {
    const dir = await makeStagedClone(dirs, upstream)
    await fs.writeFile(path.join(dir, 'left-behind.txt'), 'from the last job\n')
    return dir
  }

  function recordingLog(): Log & { lines: string[] } {
    const lines: string[] = []
    return {
      lines,
      info: message => lines.push(message),
      notice: message => lines.push(`notice: ${message}`),
      warning: message => lines.push(`warning: ${message}`),
      debug: () => undefined,
      group: (_name, fn) => fn()
    }
  }

  /** Runs updateInPlace against a server that is never reached (port 9, discard). */
  async function expectDeclined(
    target: string,
    reason: string | RegExp,
    overrides: Partial<RestoreSettings> = {}
  ): Promise<void> {
    const before = await manifest(target)
    const log = recordingLog()
    const settings = restoreSettings({ target, workspace: target, ...overrides })
    expect(await declinedWith(settings, log)).toBeUndefined()
    expect(log.lines).toHaveLength(1)
    const [line] = log.lines
    expect(line.startsWith(`Not updating ${target} in place: `)).toBe(true)
    expect(line.endsWith('; restoring the snapshot.')).toBe(true)
    if (typeof reason === 'string') expect(line).toContain(reason)
    else expect(line).toMatch(reason)
    expect(await manifest(target)).toEqual(before)
  }

  it('a target that does not exist', async () => {
    const missing = path.join(await dirs.make('absent'), 'nothing')
    const log = recordingLog()
    expect(await declinedWith(restoreSettings({ target: missing }), log)).toBeUndefined()
    expect(log.lines).toEqual([
      `Not updating ${missing} in place: it does not exist; restoring the snapshot.`
    ])
  })

  it('an empty target', async () => {
    await expectDeclined(await dirs.make('empty'), 'there is no git checkout in it')
  })

  it('a directory inside another checkout', async () => {
    const outer = await checkout()
    const inner = path.join(outer, 'src')
    await expectDeclined(inner, 'there is no git checkout in it')
  })

  it('an empty .git directory, which git would walk past to a checkout above it', async () => {
    const outer = await checkout()
    const inner = path.join(outer, 'nested')
    await fs.mkdir(path.join(inner, '.git'), { recursive: true })
    await expectDeclined(inner, /its \.git is not a usable repository \(git found .+ instead\)/)
  })

  it('a linked worktree (.git is a file)', async () => {
    const main = await checkout()
    const linked = path.join(await dirs.make('linked'), 'wt')
    git(main, 'worktree', 'add', '--quiet', '--detach', linked)
    await expectDeclined(linked, 'its .git is not a directory')
  })

  it('a checkout with no origin', async () => {
    const dir = await checkout()
    git(dir, 'remote', 'remove', 'origin')
    await expectDeclined(dir, 'it has no remote named origin')
  })

  it('a checkout of another repository, with the credentials in its URL hidden', async () => {
    const dir = await checkout()
    git(dir, 'remote', 'set-url', 'origin', 'https://user:hunter2@git.example.test/acme/other')
    await expectDeclined(
      dir,
      `its origin is https://***@git.example.test/acme/other, not ${UPSTREAM_URL}`
    )
  })

  it('a shallow clone', async () => {
    const root = await dirs.make('shallow')
    const dir = path.join(root, 'clone')
    git(root, 'clone', '--quiet', '--depth=1', `file://${upstream.bare}`, dir)
    git(dir, 'remote', 'set-url', 'origin', UPSTREAM_URL)
    await expectDeclined(dir, 'it is a shallow clone')
  })

  it('a partial clone', async () => {
    const dir = await checkout()
    git(dir, 'config', 'remote.origin.promisor', 'true')
    git(dir, 'config', 'extensions.partialClone', 'origin')
    await expectDeclined(dir, 'it is a partial clone')
  })

  it('a sparse checkout', async () => {
    const dir = await checkout()
    git(dir, 'config', 'core.sparseCheckout', 'true')
    await expectDeclined(dir, 'it is a sparse checkout')
  })

  it.each([
    ['MERGE_HEAD', 'a merge is in progress'],
    ['rebase-merge', 'a rebase is in progress'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick is in progress'],
    ['index.lock', "git's index.lock exists"]
  ])('a checkout with .git/%s', async (name, reason) => {
    const dir = await checkout()
    await fs.writeFile(path.join(dir, '.git', name), '')
    await expectDeclined(dir, reason)
  })

  it('a HEAD whose tree is missing', async () => {
    const dir = await checkout()
    // A new commit whose tree object is then deleted: the commit reads, its tree does not.
    await fs.writeFile(path.join(dir, 'fresh.txt'), 'fresh\n')
    const blob = git(dir, 'hash-object', '-w', 'fresh.txt')
    const tree = execFileSync('git', ['mktree'], {
      cwd: dir,
      input: `100644 blob ${blob}\tfresh.txt\n`,
      encoding: 'utf8'
    }).trim()
    const commit = git(dir, 'commit-tree', '-m', 'tree goes missing', tree)
    git(dir, 'update-ref', 'HEAD', commit)
    await fs.rm(path.join(dir, '.git', 'objects', tree.slice(0, 2), tree.slice(2)))
    await expectDeclined(dir, 'its HEAD is not a readable commit')
  })

  it('keep-snapshot-head, which only a snapshot can satisfy', async () => {
    const dir = await checkout()
    await expectDeclined(dir, "keep-snapshot-head asks for the snapshot's own head", {
      keepSnapshotHead: true
    })
  })

  it('no origin/HEAD when the destination is the default branch', async () => {
    const dir = await checkout()
    git(dir, 'symbolic-ref', '--delete', 'refs/remotes/origin/HEAD')
    await expectDeclined(dir, 'origin/HEAD is not set, so the default branch is unknown')
  })

  it('a checkout that qualifies goes on to ask cachew (unreachable here) and declines', async () => {
    const dir = await checkout()
    await expectDeclined(dir, /cachew could not be asked for the snapshot's size/)
  })
})
