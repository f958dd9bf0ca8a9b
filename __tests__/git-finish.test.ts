/**
 * finishCheckout against the cachew test server: a real snapshot (tar + pzstd) extracted with
 * the real tar, the delta bundle the server makes, ensure-refs and git smart HTTP served from
 * the bare mirror. The server's request log shows what went over the wire.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { configureGitAccess, removeGitAccess } from '../src/git/access.js'
import { CachewClient } from '../src/cachew/client.js'
import { finishCheckout } from '../src/git/finish.js'
import type { BundleOffer, FinishResult } from '../src/git/finish.js'
import type { WorkflowContext } from '../src/git/workflow-ref.js'
import { cachewRepoPath, startCachewServer } from './support/cachew-server.js'
import type { CachewServer } from './support/cachew-server.js'
import { addCommit, execTool, makeMirror, makeSnapshot } from './support/fixtures.js'
import type { Mirror } from './support/fixtures.js'
import { git, recordingLog, restoreSettings, TempDirs } from './git-helpers.js'
import type { SettingsOverrides } from './git-helpers.js'

const dirs = new TempDirs()
let server: CachewServer
/** One mirror for the whole file: tests only add refs of their own to it, never move main. */
let mirror: Mirror
let snapshotFile: string
/** The snapshot's commit. */
let a: string
/** The mirror's main, one commit past the snapshot (so the server offers a bundle). */
let b: string
let fixtureRoot: string

beforeAll(async () => {
  server = await startCachewServer()
  fixtureRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'git-finish-'))
  mirror = await makeMirror(path.join(fixtureRoot, 'mirror'), { files: 30, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(fixtureRoot, 'snapshot.tar.zst'))
  snapshotFile = snapshot.file
  a = snapshot.commit
  b = await addCommit(mirror, 'B')
  server.addRepository(mirror.upstreamUrl, { file: snapshotFile, commit: a, bundleBase: a }, mirror)
})
afterAll(async () => {
  await server.close()
  await fs.rm(fixtureRoot, { recursive: true, force: true })
})
afterEach(async () => {
  server.setOptions({})
  server.resetStats()
  await dirs.cleanup()
})

interface Scenario {
  mirror: Mirror
  a: string
  b: string
  staging: string
}

/** The snapshot extracted into a fresh staging directory, as the restore does. */
async function scenario(options: { detach?: boolean } = {}): Promise<Scenario> {
  const staging = await dirs.make('staging')
  await execTool('sh', ['-c', 'zstd -dc "$1" | tar -xf - -C "$2"', 'sh', snapshotFile, staging])
  if (options.detach) git(staging, 'checkout', '--quiet', '--detach', 'HEAD')
  return { mirror, a, b, staging }
}

function settingsFor(m: Mirror, overrides: SettingsOverrides = {}, workflow: WorkflowContext = {}) {
  return restoreSettings(
    { serverUrl: server.url, repositoryUrl: m.upstreamUrl, ...overrides },
    workflow
  )
}

/** Downloads the delta bundle the way the restore does, into a temp file. */
async function downloadBundle(base: string): Promise<BundleOffer> {
  const url = `${server.url}/git/${cachewRepoPath(mirror.upstreamUrl)}/snapshot.bundle?base=${base}`
  const response = await fetch(url)
  if (response.status === 204) return 'up-to-date'
  if (response.status !== 200) return 'unavailable'
  const file = path.join(await dirs.make('bundle'), 'delta.bundle')
  await fs.writeFile(file, Buffer.from(await response.arrayBuffer()))
  return { file }
}

async function finish(
  s: Scenario,
  bundle: BundleOffer,
  workflow: WorkflowContext = {},
  overrides: SettingsOverrides = {}
): Promise<{ result: FinishResult; log: ReturnType<typeof recordingLog> }> {
  const log = recordingLog()
  const settings = settingsFor(s.mirror, overrides, workflow)
  const cachew = new CachewClient(settings, 1)
  const result = await finishCheckout({
    directory: s.staging,
    settings,
    bundle,
    // Extracted by tar, so nothing was verified: git refreshes the index itself.
    blobIds: new Map(),
    cachew,
    log
  }).finally(() => cachew.close())
  return { result, log }
}

function endpoints(): string[] {
  return server.requests.map(request => `${request.method} ${request.endpoint}`)
}

function head(repo: string): { commit: string; branch: string } {
  return {
    commit: git(repo, 'rev-parse', 'HEAD'),
    branch: git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')
  }
}

describe('finishCheckout with the delta bundle from cachew', () => {
  it('moves the snapshot branch to the mirror head without any fetch', async () => {
    const s = await scenario()
    const bundle = await downloadBundle(s.a)
    expect(bundle).toHaveProperty('file')
    const { result } = await finish(s, bundle)
    expect(result).toEqual({
      commit: s.b,
      ref: 'refs/heads/main',
      bundleApplied: true,
      fetched: false
    })
    expect(head(s.staging)).toEqual({ commit: s.b, branch: 'main' })
    expect(git(s.staging, 'rev-parse', 'origin/main')).toBe(s.b)
    expect(git(s.staging, 'status', '--porcelain')).toBe('')
    expect(endpoints()).toEqual(['GET snapshot.bundle'])
  })

  it('moves a detached snapshot to the mirror head', async () => {
    const s = await scenario({ detach: true })
    const { result } = await finish(s, await downloadBundle(s.a))
    expect(result).toMatchObject({ commit: s.b, ref: s.b, bundleApplied: true, fetched: false })
    expect(head(s.staging)).toEqual({ commit: s.b, branch: 'HEAD' })
  })

  it('does nothing when the server says the snapshot is current (204)', async () => {
    const s = await scenario()
    const bundle = await downloadBundle(s.b)
    expect(bundle).toBe('up-to-date')
    const { result } = await finish(s, bundle)
    expect(result).toEqual({
      commit: s.a,
      ref: 'refs/heads/main',
      bundleApplied: false,
      fetched: false
    })
  })

  it('fetches the branch through cachew when the bundle is unavailable', async () => {
    const s = await scenario()
    const bundle = await downloadBundle('e'.repeat(40))
    expect(bundle).toBe('unavailable')
    const { result, log } = await finish(s, bundle)
    expect(result).toEqual({
      commit: s.b,
      ref: 'refs/heads/main',
      bundleApplied: false,
      fetched: true
    })
    expect(log.lines.join('\n')).toMatch(/warning: cachew could not provide the delta bundle/)
    expect(endpoints()).toContain('POST git-upload-pack')
  })
})

describe('finishCheckout at the workflow commit', () => {
  it('fetches GITHUB_SHA through cachew when no bundle was offered', async () => {
    const s = await scenario()
    const workflow = { sha: s.b, ref: 'refs/heads/main', eventName: 'push' }
    const { result } = await finish(s, 'none', workflow)
    expect(result).toEqual({
      commit: s.b,
      ref: 'refs/heads/main',
      bundleApplied: false,
      fetched: true
    })
    expect(head(s.staging)).toEqual({ commit: s.b, branch: 'main' })
    expect(git(s.staging, 'rev-parse', '--abbrev-ref', 'main@{upstream}')).toBe('origin/main')
    const sequence = endpoints()
    expect(sequence[0]).toBe('POST ensure-refs')
    expect(sequence).toContain('GET info/refs')
    expect(sequence).toContain('POST git-upload-pack')
    expect(git(s.staging, 'status', '--porcelain')).toBe('')
  })

  it('fails naming a GITHUB_SHA the server does not have, leaving HEAD alone', async () => {
    const s = await scenario()
    const unknown = '0123456789abcdef0123456789abcdef01234567'
    const attempt = finish(s, 'none', { sha: unknown, ref: 'refs/heads/main', eventName: 'push' })
    await expect(attempt).rejects.toThrow(new RegExp(`Commit ${unknown} is not available`))
    expect(endpoints()).toEqual(['POST ensure-refs'])
    expect(head(s.staging)).toEqual({ commit: s.a, branch: 'main' })
  })

  it('detaches at the merge commit of a pull request (refs/pull/N/merge)', async () => {
    const s = await scenario()
    const merge = await makePullRequest(s.mirror, 1)
    const workflow = { sha: merge, ref: 'refs/pull/1/merge', eventName: 'pull_request' }
    const { result } = await finish(s, await downloadBundle(s.a), workflow)
    expect(result).toEqual({
      commit: merge,
      ref: 'refs/pull/1/merge',
      bundleApplied: true,
      fetched: true
    })
    expect(head(s.staging)).toEqual({ commit: merge, branch: 'HEAD' })
    expect(git(s.staging, 'rev-parse', 'refs/remotes/pull/1/merge')).toBe(merge)
    expect(await fs.readFile(path.join(s.staging, 'pr-1.txt'), 'utf8')).toBe('pull request 1\n')
    expect(git(s.staging, 'status', '--porcelain')).toBe('')
  })

  it('detaches at a tag pushed after the snapshot, and fetches the tag', async () => {
    const s = await scenario()
    git(s.mirror.workDir, 'tag', '-a', '-m', 'release 2', 'v2', s.b)
    git(s.mirror.workDir, 'push', '--quiet', 'mirror', 'refs/tags/v2')
    const workflow = { sha: s.b, ref: 'refs/tags/v2', eventName: 'push' }
    const { result } = await finish(s, 'none', workflow)
    expect(result).toMatchObject({ commit: s.b, ref: 'refs/tags/v2', fetched: true })
    expect(head(s.staging)).toEqual({ commit: s.b, branch: 'HEAD' })
    expect(git(s.staging, 'describe', '--tags', '--exact-match')).toBe('v2')
  })

  it('checks out a branch named by the ref input at its upstream tip', async () => {
    const s = await scenario()
    git(s.mirror.workDir, 'checkout', '--quiet', '-b', 'feature', s.a)
    await fs.writeFile(path.join(s.mirror.workDir, 'feature.txt'), 'feature\n')
    git(s.mirror.workDir, 'add', 'feature.txt')
    git(
      s.mirror.workDir,
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@example.test',
      'commit',
      '--quiet',
      '-m',
      'F'
    )
    git(s.mirror.workDir, 'push', '--quiet', 'mirror', 'feature')
    const feature = git(s.mirror.workDir, 'rev-parse', 'HEAD')
    const { result } = await finish(
      s,
      'none',
      { sha: s.b, ref: 'refs/heads/main' },
      { ref: 'feature' }
    )
    expect(result).toMatchObject({ commit: feature, ref: 'refs/heads/feature', fetched: true })
    expect(head(s.staging)).toEqual({ commit: feature, branch: 'feature' })
  })

  it('fails clearly for a ref input that exists nowhere', async () => {
    const s = await scenario()
    await expect(finish(s, 'none', {}, { ref: 'no-such-branch' })).rejects.toThrow(
      /No branch or tag named 'no-such-branch' exists/
    )
  })

  it('never goes through cachew with git-through-cachew off', async () => {
    const s = await scenario()
    const workflow = { sha: s.b, ref: 'refs/heads/main', eventName: 'push' }
    // The upstream host of the fixture does not exist, so the fetch itself fails.
    await expect(finish(s, 'none', workflow, { gitThroughCachew: false })).rejects.toThrow(
      new RegExp(`Could not fetch commit ${s.b} .* from upstream`)
    )
    expect(endpoints()).toEqual(['POST ensure-refs'])
  })
})

describe('credentials', () => {
  const AUTHORIZATION = 'Bearer cachew-test-secret-7f3a'
  const TOKEN = 'ghs_upstream-token-91c2'

  it('authorizes every request, stays out of .git/config and logs, and is removed after', async () => {
    const s = await scenario()
    server.setOptions({ requireAuthorization: AUTHORIZATION })
    const tempDir = await dirs.make('runner-temp')
    const overrides = { authorization: AUTHORIZATION, token: TOKEN, tempDir }
    const { configFile } = await configureGitAccess(s.staging, settingsFor(s.mirror, overrides))
    expect(await fs.readFile(configFile, 'utf8')).toContain(AUTHORIZATION)

    const workflow = { sha: s.b, ref: 'refs/heads/main', eventName: 'push' }
    const { result, log } = await finish(s, 'none', workflow, overrides)
    expect(result).toMatchObject({ commit: s.b, fetched: true })
    expect(server.requests.length).toBeGreaterThan(2)
    expect(server.requests.every(request => request.authorization === 'correct')).toBe(true)

    // The persisted configuration lets the workflow's next steps fetch through cachew.
    const later = await pushBranch(s.mirror, 'later', s.b, 'later.txt')
    // Asynchronously: the server answers from this same process.
    await execTool('git', ['fetch', '--quiet', 'origin'], { cwd: s.staging })
    expect(git(s.staging, 'rev-parse', 'origin/later')).toBe(later)

    const gitConfig = await fs.readFile(path.join(s.staging, '.git', 'config'), 'utf8')
    const base64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64')
    for (const secret of [AUTHORIZATION, TOKEN, base64]) {
      expect(gitConfig).not.toContain(secret)
      expect(log.lines.join('\n')).not.toContain(secret)
    }

    await removeGitAccess(s.staging, configFile)
    await expect(fs.stat(configFile)).rejects.toThrow()
    expect(await fs.readdir(tempDir)).toEqual([])
    const everything = git(s.staging, 'config', '--list', '--show-origin')
    for (const secret of [AUTHORIZATION, TOKEN, base64]) expect(everything).not.toContain(secret)
    expect(everything).not.toContain(configFile)
  })

  it('fails without echoing a wrong authorization', async () => {
    const s = await scenario()
    server.setOptions({ requireAuthorization: AUTHORIZATION })
    const wrong = 'Bearer wrong-secret-5d1e'
    const workflow = { sha: s.b, ref: 'refs/heads/main', eventName: 'push' }
    const attempt = finish(s, 'none', workflow, { authorization: wrong })
    const error = (await attempt.catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toMatch(new RegExp(`Could not fetch commit ${s.b}`))
    expect(error.message).not.toContain(wrong)
    expect(server.requests.map(request => request.authorization)).toContain('wrong')
  })
})

const IDENTITY = ['-c', 'user.name=T', '-c', 'user.email=t@example.test']

/** Pushes a new branch of one commit (adding `file`) on top of `from`; returns its tip. */
async function pushBranch(m: Mirror, branch: string, from: string, file: string): Promise<string> {
  const work = m.workDir
  git(work, 'checkout', '--quiet', '-b', branch, from)
  await fs.writeFile(path.join(work, file), `${branch}\n`)
  git(work, 'add', file)
  git(work, ...IDENTITY, 'commit', '--quiet', '-m', branch)
  git(work, 'push', '--quiet', 'mirror', branch)
  const tip = git(work, 'rev-parse', 'HEAD')
  git(work, 'checkout', '--quiet', 'main')
  return tip
}

/**
 * Makes a pull request from a topic branch the way GitHub does: refs/pull/N/head is the
 * topic, refs/pull/N/merge a merge commit of it into main, both only in the mirror.
 */
async function makePullRequest(mirror: Mirror, n: number): Promise<string> {
  const work = mirror.workDir
  git(work, 'checkout', '--quiet', '-b', `topic-${n}`, 'main~1')
  await fs.writeFile(path.join(work, `pr-${n}.txt`), `pull request ${n}\n`)
  git(work, 'add', `pr-${n}.txt`)
  git(work, ...IDENTITY, 'commit', '--quiet', '-m', `PR ${n}`)
  const topic = git(work, 'rev-parse', 'HEAD')
  git(work, 'checkout', '--quiet', '--detach', 'main')
  git(work, ...IDENTITY, 'merge', '--quiet', '--no-ff', '-m', `Merge ${topic} into main`, topic)
  const merge = git(work, 'rev-parse', 'HEAD')
  git(
    work,
    'push',
    '--quiet',
    'mirror',
    `${topic}:refs/pull/${n}/head`,
    `${merge}:refs/pull/${n}/merge`
  )
  git(work, 'checkout', '--quiet', 'main')
  return merge
}
