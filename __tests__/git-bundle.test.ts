import { afterEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import { applyBundle, BundleError, chooseHead, listBundleHeads } from '../src/git/bundle.js'
import { Git } from '../src/git/git.js'
import {
  addCommit,
  git,
  makeBundle,
  makeStagedClone,
  makeUpstream,
  TempDirs
} from './git-helpers.js'

const dirs = new TempDirs()
afterEach(() => dirs.cleanup())

/** Upstream at A, snapshot taken at A, upstream moved on to B. */
async function snapshotBehindUpstream(options: { detach?: boolean } = {}) {
  const upstream = await makeUpstream(dirs)
  const a = await addCommit(upstream, { 'a.txt': 'a\n' }, 'A')
  const staging = await makeStagedClone(dirs, upstream, options)
  const b = await addCommit(upstream, { 'b.txt': 'b\n' }, 'B')
  return { upstream, staging, a, b }
}

describe('applyBundle', () => {
  it('brings the objects in and moves origin/main, leaving HEAD for the checkout', async () => {
    const { upstream, staging, a, b } = await snapshotBehindUpstream()
    const bundle = await makeBundle(dirs, upstream, a)
    const applied = await applyBundle(new Git(staging), bundle)
    expect(applied).toEqual({ ref: 'refs/heads/main', commit: b, branch: 'main' })
    expect(git(staging, 'rev-parse', 'refs/remotes/origin/main')).toBe(b)
    expect(git(staging, 'rev-parse', 'HEAD')).toBe(a)
    expect(git(staging, 'cat-file', '-t', b)).toBe('commit')
    // The temporary ref is gone again.
    expect(git(staging, 'for-each-ref', 'refs/cachew-restore')).toBe('')
  })

  it('works the same on a detached HEAD', async () => {
    const { upstream, staging, a, b } = await snapshotBehindUpstream({ detach: true })
    const applied = await applyBundle(new Git(staging), await makeBundle(dirs, upstream, a))
    expect(applied.commit).toBe(b)
    expect(git(staging, 'rev-parse', 'refs/remotes/origin/main')).toBe(b)
  })

  it('refuses a damaged bundle', async () => {
    const { upstream, staging, a } = await snapshotBehindUpstream()
    const bundle = await makeBundle(dirs, upstream, a)
    const bytes = await fs.readFile(bundle)
    await fs.writeFile(bundle, bytes.subarray(0, bytes.length - 20))
    await expect(applyBundle(new Git(staging), bundle)).rejects.toThrow(BundleError)
    expect(git(staging, 'rev-parse', 'refs/remotes/origin/main')).toBe(a)
  })

  it('refuses a bundle whose prerequisite the snapshot lacks', async () => {
    const { upstream, staging, a, b } = await snapshotBehindUpstream()
    await addCommit(upstream, { 'c.txt': 'c\n' }, 'C')
    // Based on B, which the snapshot (at A) has never seen.
    const bundle = await makeBundle(dirs, upstream, b)
    const failure = applyBundle(new Git(staging), bundle)
    await expect(failure).rejects.toThrow(BundleError)
    await expect(failure).rejects.toThrow(/bundle verify/)
    expect(git(staging, 'rev-parse', 'refs/remotes/origin/main')).toBe(a)
  })

  it('refuses a bundle that does not descend from the snapshot head (force push)', async () => {
    const upstream = await makeUpstream(dirs)
    const a = await addCommit(upstream, { 'a.txt': 'a\n' }, 'A')
    await addCommit(upstream, { 'b.txt': 'b\n' }, 'B')
    const staging = await makeStagedClone(dirs, upstream)
    // Upstream rewrites main from A on; the bundle's prerequisite A is present locally.
    git(upstream.work, 'reset', '--quiet', '--hard', a)
    await addCommit(upstream, { 'c.txt': 'c\n' }, 'C')
    git(upstream.work, 'push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/main')
    const bundle = await makeBundle(dirs, upstream, a)
    await expect(applyBundle(new Git(staging), bundle)).rejects.toThrow(/does not descend/)
    expect(git(staging, 'for-each-ref', 'refs/cachew-restore')).toBe('')
  })

  it('is not a bundle at all', async () => {
    const { staging } = await snapshotBehindUpstream()
    const file = `${await dirs.make('junk')}/junk.bundle`
    await fs.writeFile(file, '<html>proxy error</html>')
    await expect(applyBundle(new Git(staging), file)).rejects.toThrow(BundleError)
  })
})

describe('listBundleHeads / chooseHead', () => {
  it('lists what the bundle carries', async () => {
    const { upstream, staging, a, b } = await snapshotBehindUpstream()
    const heads = await listBundleHeads(new Git(staging), await makeBundle(dirs, upstream, a))
    expect(heads).toEqual([{ commit: b, ref: 'refs/heads/main' }])
  })

  it('prefers the current branch, then the default, then a lone branch', () => {
    const heads = [
      { commit: '1', ref: 'refs/heads/main' },
      { commit: '2', ref: 'refs/heads/dev' },
      { commit: '3', ref: 'refs/tags/v1' }
    ]
    expect(chooseHead(heads, ['dev', 'main']).commit).toBe('2')
    expect(chooseHead(heads, ['topic', 'main']).commit).toBe('1')
    expect(() => chooseHead(heads, ['topic'])).toThrow(/refs\/heads\/main, refs\/heads\/dev/)
    expect(chooseHead([heads[1]], []).commit).toBe('2')
  })
})
