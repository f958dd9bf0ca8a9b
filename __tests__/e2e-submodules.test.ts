/**
 * submodules end to end on dist/index.js, with real repositories served by git http-backend
 * through the test server: a superproject with a submodule by absolute URL (liba) and one by
 * a URL relative to the superproject's (libs/b), liba holding a nested one (deps/nested, by a
 * URL relative to liba's). The snapshot is the superproject's clone, with its submodules
 * uninitialised as cachew clones it; the workflow's commit is one past it that moves liba's
 * gitlink, and libs/b's gitlink names a commit only a pull request's ref reaches, so a clone
 * of libb does not have it and git must fetch it by id.
 *
 * cachew has snapshots of liba (made before liba moved on, so the workflow's gitlink is past
 * it and must be fetched through cachew) and of nested (at its gitlink), none of libb (404):
 * liba and nested are restored from them, libs/b falls back to git's route with a notice.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  startCachewServer,
  type CachewServer,
  type ServerOptions
} from './support/cachew-server.js'
import { addCommit, execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import {
  listDir,
  runAction,
  runActionWithPost,
  visibleLog,
  type ActionRun
} from './support/run-action.js'
import { git, manifest } from './support/tree.js'

const HOST = 'https://github.example/acme'
let root: string
let server: CachewServer
let superproject: Mirror
let liba: Mirror
let libb: Mirror
let nested: Mirror
let snapshotCommit: string
let workflowCommit: string // one past the snapshot: liba's gitlink moved to libaNew
let libaOld: string // liba's gitlink at the snapshot's commit
let libaNew: string
let libbPulled: string // libs/b's gitlink: only refs/pull/7/head reaches it
let nestedCommit: string
let libaSnapshotFile: string

async function commitGitlinks(
  mirror: Mirror,
  gitmodules: string,
  links: Record<string, string>,
  message: string
): Promise<string> {
  await fs.writeFile(path.join(mirror.workDir, '.gitmodules'), gitmodules)
  await execTool('git', ['-C', mirror.workDir, 'add', '.gitmodules'])
  for (const [where, commit] of Object.entries(links)) {
    // An empty directory, as an uninitialised submodule has, so that a later `git add -A`
    // (addCommit) keeps the gitlink instead of staging its removal.
    await fs.mkdir(path.join(mirror.workDir, where), { recursive: true })
    await execTool('git', [
      '-C',
      mirror.workDir,
      'update-index',
      '--add',
      '--cacheinfo',
      `160000,${commit},${where}`
    ])
  }
  await execTool('git', ['-C', mirror.workDir, 'commit', '-q', '-m', message])
  await execTool('git', ['-C', mirror.workDir, 'push', '-q', 'mirror', 'main'])
  const head = await git(mirror.workDir, 'rev-parse', 'HEAD')
  mirror.commits.push(head)
  return head
}

const SUPER_GITMODULES =
  `[submodule "liba"]\n\tpath = liba\n\turl = ${HOST}/liba\n` +
  `[submodule "libs/b"]\n\tpath = libs/b\n\turl = ../libb.git\n`

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-submodules-'))
  nested = await makeMirror(path.join(root, 'nested'), {
    files: 4,
    commits: 1,
    upstreamUrl: `${HOST}/nested`
  })
  nestedCommit = nested.commits[0]
  const nestedSnapshot = await makeSnapshot(nested, path.join(root, 'nested.tar.zst'))
  liba = await makeMirror(path.join(root, 'liba'), {
    files: 6,
    commits: 1,
    upstreamUrl: `${HOST}/liba`
  })
  libaOld = await commitGitlinks(
    liba,
    '[submodule "deps/nested"]\n\tpath = deps/nested\n\turl = ../nested\n',
    { 'deps/nested': nestedCommit },
    'Add nested'
  )
  const libaSnapshot = await makeSnapshot(liba, path.join(root, 'liba.tar.zst'))
  expect(libaSnapshot.commit).toBe(libaOld)
  libaSnapshotFile = libaSnapshot.file
  libaNew = await addCommit(liba, 'liba moves on')
  libb = await makeMirror(path.join(root, 'libb'), {
    files: 6,
    commits: 2,
    upstreamUrl: `${HOST}/libb`
  })
  await execTool('git', ['-C', libb.workDir, 'checkout', '-q', '-b', 'topic'])
  await fs.writeFile(path.join(libb.workDir, 'pulled.txt'), 'from a pull request\n')
  await execTool('git', ['-C', libb.workDir, 'add', 'pulled.txt'])
  await execTool('git', ['-C', libb.workDir, 'commit', '-q', '-m', 'pull request'])
  libbPulled = await git(libb.workDir, 'rev-parse', 'HEAD')
  await execTool('git', ['-C', libb.workDir, 'push', '-q', 'mirror', 'HEAD:refs/pull/7/head'])
  await execTool('git', ['-C', libb.workDir, 'checkout', '-q', 'main'])

  superproject = await makeMirror(path.join(root, 'super'), { files: 20, commits: 1 })
  snapshotCommit = await commitGitlinks(
    superproject,
    SUPER_GITMODULES,
    { liba: libaOld, 'libs/b': libbPulled },
    'Add submodules'
  )
  const snapshot = await makeSnapshot(superproject, path.join(root, 'super.tar.zst'))
  expect(snapshot.commit).toBe(snapshotCommit)
  workflowCommit = await commitGitlinks(
    superproject,
    SUPER_GITMODULES,
    { liba: libaNew },
    'Move liba'
  )

  server = await startCachewServer()
  server.addRepository(
    superproject.upstreamUrl,
    { file: snapshot.file, commit: snapshotCommit, bundleBase: snapshotCommit },
    superproject
  )
  server.addRepository(liba.upstreamUrl, { file: libaSnapshot.file, commit: libaOld }, liba)
  server.addRepository(
    nested.upstreamUrl,
    { file: nestedSnapshot.file, commit: nestedCommit },
    nested
  )
  // No such file: cachew answers 404 for libb's snapshot, and serves its git.
  server.addRepository(
    libb.upstreamUrl,
    { file: path.join(root, 'no-libb-snapshot.tar.zst') },
    libb
  )
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'server-url': server.url, repository: superproject.upstreamUrl, ...extra }
}

const PUSH = (): Record<string, string> => ({
  GITHUB_SHA: workflowCommit,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'push'
})

/** `git submodule status` as {path: first column + commit}. */
async function submoduleStatus(dir: string, ...args: string[]): Promise<Record<string, string>> {
  const out = await execTool('git', ['-C', dir, 'submodule', 'status', ...args])
  const status: Record<string, string> = {}
  for (const line of out.split('\n').filter(l => l.trim() !== '')) {
    const match = /^([ +\-U])([0-9a-f]{40}) (\S+)/.exec(line)
    if (!match) throw new Error(`unexpected submodule status line: ${line}`)
    status[match[3]] = `${match[1]}${match[2]}`
  }
  return status
}

function uploadPacksFor(mirror: Mirror): number {
  const repo = new URL(mirror.upstreamUrl).pathname
  return server.requests.filter(
    r => r.path.includes(`/git/github.example${repo}`) && r.path.endsWith('/git-upload-pack')
  ).length
}

function submoduleSnapshotRequests(): number {
  return server.requests.filter(
    r => r.path.includes('snapshot') && !r.path.includes('/acme/widgets/')
  ).length
}

/** The requests to one of the mirror's endpoints ('snapshot.tar.zst', 'ensure-refs', ...). */
function requestsFor(mirror: Mirror, endpoint: string): number {
  const prefix = `/git/${new URL(mirror.upstreamUrl).host}${new URL(mirror.upstreamUrl).pathname}/`
  return server.requests.filter(r => r.path.startsWith(prefix) && r.endpoint === endpoint).length
}

const LIBB_NOTICE =
  '::notice::Submodule libs/b: cachew has no snapshot of it (HTTP 404); checking it out with ' +
  'git submodule update --init through cachew.'

/** `git status` clean in the superproject and in each submodule that is checked out. */
async function expectCleanSubmodules(workspace: string, paths: string[]): Promise<void> {
  for (const where of paths) {
    expect(await git(path.join(workspace, where), 'status', '--porcelain')).toBe('')
  }
}

/** At the workflow's commit, git status clean, and RUNNER_TEMP empty after the post step. */
async function expectCleanRun(
  run: ActionRun & { post: ActionRun },
  commit = workflowCommit
): Promise<void> {
  expect(run.exitCode).toBe(0)
  expect(run.post.exitCode).toBe(0)
  expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(commit)
  expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
  expect(await listDir(run.runnerTemp)).toEqual([])
}

describe('submodules', () => {
  it('false (the default) leaves them uninitialised, as checkout does', async () => {
    server.resetStats()
    const run = await runActionWithPost({ inputs: inputs(), env: PUSH() })
    await expectCleanRun(run)
    expect(await submoduleStatus(run.workspace)).toEqual({
      liba: `-${libaNew}`,
      'libs/b': `-${libbPulled}`
    })
    await expect(fs.access(path.join(run.workspace, '.git', 'modules'))).rejects.toThrow()
    expect(await listDir(path.join(run.workspace, 'liba'))).toEqual([])
    expect(uploadPacksFor(liba) + uploadPacksFor(libb)).toBe(0)
    expect(submoduleSnapshotRequests()).toBe(0)
  })

  it('true restores one from its snapshot, the other by git (404), absorbed, and not the nested one', async () => {
    server.resetStats()
    const run = await runActionWithPost({ inputs: inputs({ submodules: 'true' }), env: PUSH() })
    expect(visibleLog(run)).not.toMatch(/::(error|warning)::/)
    expect(visibleLog(run)).toContain(LIBB_NOTICE)
    expect(visibleLog(run).match(/::notice::/g)).toHaveLength(1)
    await expectCleanRun(run)
    expect(await submoduleStatus(run.workspace)).toEqual({
      liba: ` ${libaNew}`,
      'libs/b': ` ${libbPulled}`
    })
    // As `git submodule update --init` lays them out: git dirs under .git/modules/NAME.
    expect(await fs.readFile(path.join(run.workspace, 'liba', '.git'), 'utf8')).toBe(
      'gitdir: ../.git/modules/liba\n'
    )
    expect(await fs.readFile(path.join(run.workspace, 'libs', 'b', '.git'), 'utf8')).toBe(
      'gitdir: ../../.git/modules/libs/b\n'
    )
    // The restored one is configured as git's own clone of libs/b is.
    const modules = path.join(run.workspace, '.git', 'modules')
    expect(await git(run.workspace, 'config', '--get', 'submodule.liba.active')).toBe('true')
    expect(await git(run.workspace, 'config', '--get', 'submodule.liba.url')).toBe(`${HOST}/liba`)
    expect(await git(run.workspace, 'config', '--get', 'submodule.libs/b.url')).toBe(
      `${HOST}/libb.git`
    )
    expect(
      await git(run.workspace, 'config', '--file', `${modules}/liba/config`, 'core.worktree')
    ).toBe('../../../liba')
    expect(await git(path.join(run.workspace, 'liba'), 'remote', 'get-url', 'origin')).toBe(
      `${HOST}/liba`
    )
    expect(await git(path.join(run.workspace, 'liba'), 'rev-parse', '--absolute-git-dir')).toBe(
      path.join(await fs.realpath(run.workspace), '.git', 'modules', 'liba')
    )
    // liba came from its snapshot (whose clone was made from the mirror's directory, not over
    // http as git's clone of a submodule is), and its gitlink, past the snapshot, was fetched
    // through cachew after ensure-refs.
    const libaReflog = await fs.readFile(path.join(modules, 'liba', 'logs', 'HEAD'), 'utf8')
    expect(libaReflog.split('\n')[0]).toMatch(new RegExp(`clone: from ${liba.bareDir}$`))
    const libbReflog = await fs.readFile(path.join(modules, 'libs', 'b', 'logs', 'HEAD'), 'utf8')
    expect(libbReflog.split('\n')[0]).toMatch(new RegExp(`clone: from ${HOST}/libb.git$`))
    expect(requestsFor(liba, 'snapshot.tar.zst')).toBeGreaterThan(0)
    expect(requestsFor(liba, 'ensure-refs')).toBe(1)
    expect(requestsFor(libb, 'snapshot.tar.zst')).toBe(1)
    expect(requestsFor(libb, 'ensure-refs')).toBe(0)
    expect(requestsFor(nested, 'snapshot.tar.zst')).toBe(0)
    await expectCleanSubmodules(run.workspace, ['liba', 'libs/b'])
    // The relative URL resolved against the superproject's upstream, not cachew's.
    expect(await git(path.join(run.workspace, 'libs', 'b'), 'remote', 'get-url', 'origin')).toBe(
      `${HOST}/libb.git`
    )
    expect(await fs.readFile(path.join(run.workspace, 'libs', 'b', 'pulled.txt'), 'utf8')).toBe(
      'from a pull request\n'
    )
    // One level only: liba's own submodule stays uninitialised.
    expect(await submoduleStatus(path.join(run.workspace, 'liba'))).toEqual({
      'deps/nested': `-${nestedCommit}`
    })
    expect(uploadPacksFor(liba)).toBeGreaterThan(0)
    expect(uploadPacksFor(libb)).toBeGreaterThan(0)
    expect(uploadPacksFor(nested)).toBe(0)
    expect(run.stdout).toContain('Submodules: 2 checked out (1 from cachew snapshots).')
  })

  it('recursive checks out the nested one too, and git status is clean throughout', async () => {
    server.resetStats()
    const run = await runActionWithPost({
      inputs: inputs({ submodules: 'recursive' }),
      env: PUSH()
    })
    expect(visibleLog(run)).not.toMatch(/::(error|warning)::/)
    await expectCleanRun(run)
    expect(await submoduleStatus(run.workspace, '--recursive')).toEqual({
      liba: ` ${libaNew}`,
      'liba/deps/nested': ` ${nestedCommit}`,
      'libs/b': ` ${libbPulled}`
    })
    const nestedDir = path.join(run.workspace, 'liba', 'deps', 'nested')
    expect(await git(nestedDir, 'rev-parse', '--absolute-git-dir')).toBe(
      path.join(
        await fs.realpath(run.workspace),
        '.git',
        'modules',
        'liba',
        'modules',
        'deps',
        'nested'
      )
    )
    await expectCleanSubmodules(run.workspace, ['liba', 'liba/deps/nested', 'libs/b'])
    expect(await git(nestedDir, 'remote', 'get-url', 'origin')).toBe(`${HOST}/nested`)
    // nested, by a URL relative to liba's, came from its snapshot at its gitlink: no git
    // transfer of it at all.
    expect(requestsFor(nested, 'snapshot.tar.zst')).toBeGreaterThan(0)
    expect(uploadPacksFor(nested)).toBe(0)
    expect(requestsFor(nested, 'info/refs')).toBe(0)
    expect(visibleLog(run).match(/::notice::/g)).toHaveLength(1)
    expect(run.stdout).toContain('Submodules: 3 checked out (2 from cachew snapshots).')
  })

  // git itself tries a failed submodule clone once more, at the end of the update; four faults
  // fail both attempts of libb's clone twice, so the update fails and is tried again. At the
  // snapshot's commit liba's gitlink is its snapshot's, so libb's clone is the only transfer.
  it.each([
    ['answered 503', { gitStatusFor: { status: 503, times: 4, endpoints: ['git-upload-pack'] } }],
    ['cut off mid-pack', { gitResetAfterBytes: { bytes: 2_048, times: 4 } }]
  ] satisfies [string, ServerOptions['faults']][])(
    'a submodule transfer by git %s is retried as a whole, and ends clean',
    async (_name, faults) => {
      server.setOptions({ faults })
      try {
        server.resetStats()
        const run = await runActionWithPost({
          inputs: inputs({ submodules: 'recursive' }),
          env: { ...PUSH(), GITHUB_SHA: snapshotCommit }
        })
        expect(visibleLog(run)).toContain('git submodule update through cachew failed (')
        expect(visibleLog(run)).toContain('retrying, attempt 2 of 8.')
        expect(Object.values(server.faultsFired)).toEqual([4])
        await expectCleanRun(run, snapshotCommit)
        expect(uploadPacksFor(liba)).toBe(0)
        expect(await submoduleStatus(run.workspace, '--recursive')).toEqual({
          liba: ` ${libaOld}`,
          'liba/deps/nested': ` ${nestedCommit}`,
          'libs/b': ` ${libbPulled}`
        })
      } finally {
        server.setOptions({})
      }
    }
  )

  // The fetch of liba's gitlink past its snapshot meets the faults: the fetch is retried.
  it.each([
    ['answered 503', { gitStatusFor: { status: 503, times: 2, endpoints: ['git-upload-pack'] } }],
    ['cut off mid-pack', { gitResetAfterBytes: { bytes: 200, times: 2 } }]
  ] satisfies [string, ServerOptions['faults']][])(
    'the fetch into a restored submodule %s is retried, and ends clean',
    async (_name, faults) => {
      server.setOptions({ faults })
      try {
        server.resetStats()
        const run = await runActionWithPost({
          inputs: inputs({ submodules: 'recursive' }),
          env: PUSH()
        })
        expect(visibleLog(run)).toContain('git fetch through cachew failed (')
        expect(visibleLog(run)).toContain('retrying, attempt 2 of 8.')
        expect(visibleLog(run)).not.toMatch(/::notice::Submodule liba/)
        expect(Object.values(server.faultsFired)).toEqual([2])
        await expectCleanRun(run)
        expect(await submoduleStatus(run.workspace, '--recursive')).toEqual({
          liba: ` ${libaNew}`,
          'liba/deps/nested': ` ${nestedCommit}`,
          'libs/b': ` ${libbPulled}`
        })
      } finally {
        server.setOptions({})
      }
    }
  )

  it('a submodule snapshot that cannot be restored leaves nothing of it, and git checks it out', async () => {
    const damaged = path.join(root, 'liba-damaged.tar.zst')
    // A real zstd stream whose content is not a tar: the extraction refuses it midway.
    await fs.writeFile(path.join(root, 'not-a-tar'), 'x'.repeat(100_000))
    await execTool('zstd', ['-q', '-f', '-o', damaged, path.join(root, 'not-a-tar')])
    server.addRepository(liba.upstreamUrl, { file: damaged, commit: libaOld }, liba)
    try {
      server.resetStats()
      const run = await runActionWithPost({
        inputs: inputs({ submodules: 'recursive' }),
        env: PUSH()
      })
      expect(visibleLog(run)).not.toMatch(/::(error|warning)::/)
      expect(visibleLog(run)).toMatch(
        /::notice::Submodule liba: its snapshot could not be restored \(.+\); checking it out with git submodule update --init through cachew\./
      )
      expect(visibleLog(run)).toContain(LIBB_NOTICE)
      await expectCleanRun(run)
      expect(await submoduleStatus(run.workspace, '--recursive')).toEqual({
        liba: ` ${libaNew}`,
        'liba/deps/nested': ` ${nestedCommit}`,
        'libs/b': ` ${libbPulled}`
      })
      await expectCleanSubmodules(run.workspace, ['liba', 'liba/deps/nested', 'libs/b'])
      // git cloned liba (and so its nested one too, by git's --recursive).
      expect(requestsFor(liba, 'ensure-refs')).toBe(0)
      expect(uploadPacksFor(liba)).toBeGreaterThan(0)
      expect(uploadPacksFor(nested)).toBeGreaterThan(0)
      expect(run.stdout).toContain('Submodules: 3 checked out.')
    } finally {
      server.addRepository(liba.upstreamUrl, { file: libaSnapshotFile, commit: libaOld }, liba)
    }
  })

  it('a job cancelled while a submodule snapshot downloads leaves the target and temp as they were', async () => {
    const parent = await fs.mkdtemp(path.join(root, 'cancel-'))
    const workspace = path.join(parent, 'ws')
    await fs.mkdir(workspace)
    await fs.writeFile(path.join(workspace, 'precious.txt'), 'the job found this here\n')
    const before = await manifest(parent)
    // Slow snapshot bodies: liba's download is still going when the signal comes.
    server.setOptions({ faults: { rateLimitBytesPerSecond: 8 * 1024 } })
    server.resetStats()
    let signalled = false
    try {
      const run = await runAction({
        inputs: inputs({ submodules: 'recursive' }),
        env: PUSH(),
        workspace,
        onStart: child => {
          const poll = setInterval(() => {
            if (requestsFor(liba, 'snapshot.tar.zst') === 0) return
            clearInterval(poll)
            signalled = true
            child.kill('SIGINT')
          }, 20)
          child.on('close', () => clearInterval(poll))
        }
      })
      expect(signalled).toBe(true)
      expect(run.exitCode).toBe(1)
      expect(visibleLog(run)).toContain('The restore was cancelled (SIGINT): nothing was changed.')
      expect(visibleLog(run)).not.toMatch(/::notice::Submodule liba/)
      expect(await listDir(run.runnerTemp)).toEqual([])
      expect(await manifest(parent)).toEqual(before)
      expect(uploadPacksFor(liba)).toBe(0)
    } finally {
      server.setOptions({})
    }
  })

  it('go through cachew with the credentials, persisted for later steps in each submodule and removed after', async () => {
    const secret = 'Bearer cachew-submodule-secret'
    server.setOptions({ requireAuthorization: secret })
    try {
      server.resetStats()
      const run = await runActionWithPost({
        inputs: inputs({ submodules: 'recursive', authorization: secret }),
        env: PUSH()
      })
      expect(run.exitCode).toBe(0)
      expect(requestsFor(nested, 'snapshot.tar.zst')).toBeGreaterThan(0)
      expect(uploadPacksFor(libb)).toBeGreaterThan(0)
      expect(server.requests.every(r => r.authorization === 'correct')).toBe(true)
      const configs = ['.git/config', '.git/modules/liba/config', '.git/modules/libs/b/config']
      configs.push('.git/modules/liba/modules/deps/nested/config')
      expect(run.post.exitCode).toBe(0)
      for (const config of configs) {
        const text = await fs.readFile(path.join(run.workspace, config), 'utf8')
        expect(text).not.toContain('include')
        expect(text).not.toContain('cachew-submodule-secret')
      }
      expect(await listDir(run.runnerTemp)).toEqual([])
    } finally {
      server.setOptions({})
    }
  })

  it('a later step in a submodule fetches through cachew with what the main step persisted', async () => {
    const secret = 'Bearer cachew-submodule-later'
    server.setOptions({ requireAuthorization: secret })
    try {
      const run = await runAction({
        inputs: inputs({ submodules: 'recursive', authorization: secret }),
        env: PUSH()
      })
      expect(run.exitCode).toBe(0)
      server.resetStats()
      await git(path.join(run.workspace, 'liba', 'deps', 'nested'), 'fetch', '-q', 'origin')
      await git(path.join(run.workspace, 'libs', 'b'), 'fetch', '-q', 'origin')
      expect(uploadPacksFor(nested) + uploadPacksFor(libb)).toBeGreaterThan(0)
      expect(server.requests.every(r => r.authorization === 'correct')).toBe(true)
    } finally {
      server.setOptions({})
    }
  })

  it('an update in place moves a submodule to its new gitlink', async () => {
    const first = await runAction({
      inputs: inputs({ submodules: 'true' }),
      env: { ...PUSH(), GITHUB_SHA: snapshotCommit }
    })
    expect(first.exitCode).toBe(0)
    expect((await submoduleStatus(first.workspace)).liba).toBe(` ${libaOld}`)
    server.resetStats()
    const run = await runActionWithPost({
      inputs: inputs({ submodules: 'true' }),
      env: PUSH(),
      workspace: first.workspace
    })
    expect(visibleLog(run)).not.toMatch(/::(error|warning)::/)
    expect(run.outputs.mode).toBe('in-place')
    await expectCleanRun(run)
    expect(await submoduleStatus(run.workspace)).toEqual({
      liba: ` ${libaNew}`,
      'libs/b': ` ${libbPulled}`
    })
  })
})
