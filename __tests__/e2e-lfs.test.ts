/**
 * lfs: true end to end on dist/index.js: LFS pointer files and objects made by the real
 * git-lfs, cachew's LFS snapshot (`tar -C .git ./lfs | zstd`) downloaded beside the snapshot and
 * extracted into .git/lfs, objects past the snapshot fetched by git-lfs (the test cachew, like
 * one that serves only git's protocol, answers 404 to LFS's batch API, so they come from the
 * upstream host with the token), a damaged object refused, lfs: false, and no git-lfs at all.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { tokenHeader } from '../src/git/access.js'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import {
  addLfsCommit,
  lfsGitDir,
  makeLfsSnapshot,
  makeMirror,
  makeSnapshot,
  type Mirror
} from './support/fixtures.js'
import { startLfsUpstream, type LfsUpstream } from './support/lfs-upstream.js'
import { listDir, runAction, runActionWithPost, visibleLog } from './support/run-action.js'
import { git } from './support/tree.js'

const TOKEN = 'upstream-token-for-lfs'

let root: string
let server: CachewServer
let upstream: LfsUpstream
let mirror: Mirror
let a: string // the snapshot's commit: media/one.dat and media/two.dat
let b: string // one past it: adds media/three.dat, an object the LFS snapshot lacks
const content: Record<string, Buffer> = {
  'media/one.dat': randomBytes(40_000),
  'media/two.dat': randomBytes(70_000),
  'media/three.dat': randomBytes(30_000)
}
let repos: { hit: string; announced: string; none: string; damaged: string }
let damagedOid: string

function oidOf(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-lfs-'))
  // The upstream's LFS server must listen first: the repository's URL names its port.
  const objects = path.join(root, 'repo', 'work', '.git', 'lfs', 'objects')
  upstream = await startLfsUpstream(objects, tokenHeader(TOKEN).replace(/^AUTHORIZATION: /, ''))
  const base = `${upstream.url}/acme/pictures`
  mirror = await makeMirror(path.join(root, 'repo'), { files: 20, commits: 1, upstreamUrl: base })
  a = await addLfsCommit(mirror, {
    'media/one.dat': content['media/one.dat'],
    'media/two.dat': content['media/two.dat']
  })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  expect(snapshot.commit).toBe(a)
  const lfsFile = path.join(root, 'lfs-snapshot.tar.zst')
  await makeLfsSnapshot(lfsGitDir(mirror), lfsFile)

  // The same objects with one byte of one object changed.
  damagedOid = oidOf(content['media/two.dat'])
  const damagedGit = path.join(root, 'damaged-git')
  await fs.cp(path.join(lfsGitDir(mirror), 'lfs'), path.join(damagedGit, 'lfs'), {
    recursive: true
  })
  const damagedObject = path.join(
    damagedGit,
    'lfs/objects',
    damagedOid.slice(0, 2),
    damagedOid.slice(2, 4),
    damagedOid
  )
  const bytes = await fs.readFile(damagedObject)
  bytes[1000] ^= 0xff
  await fs.writeFile(damagedObject, bytes)
  const damagedFile = path.join(root, 'lfs-damaged.tar.zst')
  await makeLfsSnapshot(damagedGit, damagedFile)

  b = await addLfsCommit(mirror, { 'media/three.dat': content['media/three.dat'] })

  server = await startCachewServer()
  repos = {
    hit: base,
    announced: `${upstream.url}/acme/pictures-announced`,
    none: `${upstream.url}/acme/pictures-none`,
    damaged: `${upstream.url}/acme/pictures-damaged`
  }
  const entry = { file: snapshot.file, commit: a }
  server.addRepository(repos.hit, { ...entry, lfsFile }, mirror)
  // Announced at a path of its own: only the header can lead the action there.
  server.addRepository(
    repos.announced,
    {
      ...entry,
      lfsUrlHeader: `/git/${new URL(repos.hit).host}/acme/pictures/lfs-snapshot.tar.zst`
    },
    { ...mirror, upstreamUrl: repos.announced }
  )
  server.addRepository(repos.none, entry, { ...mirror, upstreamUrl: repos.none })
  server.addRepository(
    repos.damaged,
    { ...entry, lfsFile: damagedFile },
    { ...mirror, upstreamUrl: repos.damaged }
  )
}, 120_000)

afterAll(async () => {
  await server?.close()
  await upstream?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function inputs(repository: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'server-url': server.url,
    repository,
    token: TOKEN,
    'update-existing': 'false',
    lfs: 'true',
    ...extra
  }
}

async function expectContent(workspace: string, names: string[]): Promise<void> {
  for (const name of names) {
    expect(oidOf(await fs.readFile(path.join(workspace, name)))).toBe(oidOf(content[name]))
  }
}

/** `git lfs ls-files` lines: `OID8 * path` for a file with content, `-` for a pointer. */
async function lfsFiles(workspace: string): Promise<string[]> {
  return (await git(workspace, 'lfs', 'ls-files')).split('\n').filter(Boolean).sort()
}

function lfsRequests(): string[] {
  return server.requests.filter(r => r.path.includes('lfs')).map(r => `${r.status} ${r.path}`)
}

describe('lfs: true', () => {
  it('restores the LFS files from the LFS snapshot: content, a clean status, all present', async () => {
    server.resetStats()
    upstream.requests.length = 0
    const run = await runAction({ inputs: inputs(repos.hit, { ref: a }) })
    const log = visibleLog(run)
    expect(log).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(log).toMatch(/Installed 2 LFS object\(s\)/)
    await expectContent(run.workspace, ['media/one.dat', 'media/two.dat'])
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    expect(await lfsFiles(run.workspace)).toEqual(
      [
        `${oidOf(content['media/one.dat']).slice(0, 10)} * media/one.dat`,
        `${oidOf(content['media/two.dat']).slice(0, 10)} * media/two.dat`
      ].sort()
    )
    // Nothing was fetched: no batch request reached cachew or the upstream host; the LFS
    // snapshot came as one ranged request (206) of the download engine.
    expect(upstream.requests).toEqual([])
    expect(lfsRequests()).toEqual([
      `206 /git/${new URL(repos.hit).host}/acme/pictures/lfs-snapshot.tar.zst`
    ])
    // The temp directory inside .git and the spool are gone.
    expect(
      (await fs.readdir(path.join(run.workspace, '.git'))).filter(n => n.includes('cachew-lfs'))
    ).toEqual([])
    // Only the git access file the post step removes (persist-credentials) stays in RUNNER_TEMP.
    const left = await listDir(run.runnerTemp)
    expect(left.filter(name => !/^cachew-git-[0-9a-f-]+\.config$/.test(name))).toEqual([])
  })

  it('follows X-Cachew-Lfs-Snapshot-Url when the snapshot response carries it', async () => {
    server.resetStats()
    const run = await runAction({ inputs: inputs(repos.announced, { ref: a }) })
    expect(visibleLog(run)).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    await expectContent(run.workspace, ['media/one.dat', 'media/two.dat'])
    // The fixed path of this repository was never asked for.
    expect(lfsRequests()).toEqual([
      `206 /git/${new URL(repos.hit).host}/acme/pictures/lfs-snapshot.tar.zst`
    ])
  })

  it('fetches the objects past the LFS snapshot: cachew first (404), then upstream with the token', async () => {
    server.resetStats()
    upstream.requests.length = 0
    const run = await runAction({ inputs: inputs(repos.hit, { ref: b }) })
    const log = visibleLog(run)
    expect(log).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs.commit).toBe(b)
    expect(log).toMatch(/1 LFS object\(s\) of [0-9a-f]{40} are not in the LFS snapshot/)
    expect(log).toMatch(/cachew did not serve the LFS objects/)
    await expectContent(run.workspace, ['media/one.dat', 'media/two.dat', 'media/three.dat'])
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    expect((await lfsFiles(run.workspace)).every(line => line.includes(' * '))).toBe(true)
    // cachew's git route was tried (and cannot serve LFS), then the upstream host, with the token.
    expect(
      server.requests.some(r => r.path.endsWith('/info/lfs/objects/batch') && r.status === 404)
    ).toBe(true)
    const batches = upstream.requests.filter(r => r.path.endsWith('/info/lfs/objects/batch'))
    expect(batches.length).toBeGreaterThan(0)
    expect(batches.every(r => r.authorized)).toBe(true)
    expect(upstream.requests.filter(r => r.path.startsWith('/objects/'))).toHaveLength(1)
    expect(log).not.toContain(TOKEN)
  })

  it('on a 404 for the LFS snapshot, says so and fetches every object instead', async () => {
    server.resetStats()
    upstream.requests.length = 0
    const run = await runAction({ inputs: inputs(repos.none, { ref: a }) })
    const log = visibleLog(run)
    expect(log).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(log).toMatch(/No LFS snapshot \(cachew has none cached \(HTTP 404\)\): git-lfs fetches/)
    await expectContent(run.workspace, ['media/one.dat', 'media/two.dat'])
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    expect(upstream.requests.filter(r => r.path.startsWith('/objects/'))).toHaveLength(2)
  })

  it('refuses a damaged object, naming it, and leaves the target untouched', async () => {
    server.resetStats()
    const workspace = await fs.mkdtemp(path.join(root, 'ws-'))
    await fs.writeFile(path.join(workspace, 'keep.txt'), 'mine\n')
    const run = await runAction({ inputs: inputs(repos.damaged, { ref: a }), workspace })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run)).toMatch(
      new RegExp(`::error::The LFS snapshot's object ${damagedOid} is damaged`)
    )
    expect(await listDir(workspace)).toEqual(['keep.txt'])
    expect(await listDir(run.runnerTemp)).toEqual([])
  })
})

describe('lfs: false', () => {
  it('leaves the pointer files, and asks nothing about LFS', async () => {
    server.resetStats()
    upstream.requests.length = 0
    const run = await runAction({ inputs: inputs(repos.hit, { ref: a, lfs: 'false' }) })
    expect(run.exitCode).toBe(0)
    const pointer = await fs.readFile(path.join(run.workspace, 'media/one.dat'), 'utf8')
    expect(pointer).toMatch(/^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:/)
    expect(pointer).toContain(oidOf(content['media/one.dat']))
    expect(lfsRequests()).toEqual([])
    expect(upstream.requests).toEqual([])
  })
})

describe('without git-lfs', () => {
  it('fails before any request, saying how to install it', async () => {
    server.resetStats()
    const bin = await fs.mkdtemp(path.join(root, 'bin-'))
    await fs.symlink(await whichGit(), path.join(bin, 'git'))
    const run = await runAction({ inputs: inputs(repos.hit, { ref: a }), env: { PATH: bin } })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run)).toMatch(
      /::error::Input 'lfs' is true, but git-lfs is not installed.*apt-get install -y git-lfs/
    )
    await server.idle()
    expect(server.requests).toEqual([])
  })
})

async function whichGit(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'git')
    if (
      await fs.access(candidate).then(
        () => true,
        () => false
      )
    )
      return candidate
  }
  throw new Error('git is not on PATH')
}

describe('lfs: true with an update in place', () => {
  it('gives the files the update brought their content, fetching the new object', async () => {
    // With its post step, as a finished job leaves the checkout: no access config included.
    const first = await runActionWithPost({ inputs: inputs(repos.hit, { ref: a }) })
    expect(first.exitCode).toBe(0)
    server.resetStats()
    upstream.requests.length = 0
    const run = await runAction({
      inputs: inputs(repos.hit, { ref: b, 'update-existing': 'auto' }),
      workspace: first.workspace
    })
    expect(visibleLog(run)).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs.mode).toBe('in-place')
    await expectContent(run.workspace, ['media/one.dat', 'media/two.dat', 'media/three.dat'])
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    expect((await lfsFiles(run.workspace)).every(line => line.includes(' * '))).toBe(true)
    // The last job's objects were kept: only the new one was downloaded.
    expect(upstream.requests.filter(r => r.path.startsWith('/objects/'))).toHaveLength(1)
  })
})
