/**
 * actions/checkout's other inputs end to end on dist/index.js, against the project's server:
 * github-server-url places OWNER/REPO; show-progress turns the progress lines off; clean:
 * false keeps untracked files through an update in place; the inputs a snapshot supersedes
 * get one info line and those not supported yet a warning each, never at their defaults;
 * ssh-key leaves origin on ssh for later steps, whose push then goes over ssh with the key
 * while fetches still go through cachew; allow-unsafe-pr-checkout guards fork code.
 *
 * No sshd runs here: a stand-in `ssh` on PATH records the arguments git gives it and runs the
 * remote command (git-receive-pack) on a local bare repository, as sshd would. Both gits are
 * real, so what is checked is what this action controls: that git reaches ssh with the key,
 * the user, the host and the host key options it configured, and that the push lands.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse } from 'yaml'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { addCommit, execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import {
  listDir,
  runAction,
  runActionWithPost,
  visibleLog,
  type ActionRun
} from './support/run-action.js'
import { tempDirectory } from './support/temp.js'
import { git, manifest, referenceExtraction } from './support/tree.js'

let root: string
let server: CachewServer
let mirror: Mirror
let snapshotFile: string
let snapshotSize: number
let a: string // the snapshot's commit
let head: string // main, past the snapshot

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-checkout-inputs-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 60, commits: 2, fileSize: 2048 })
  await execTool('git', ['-C', mirror.workDir, 'tag', 'v1.0', 'main'])
  await execTool('git', ['-C', mirror.workDir, 'push', '-q', 'mirror', 'refs/tags/v1.0'])
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  snapshotFile = snapshot.file
  snapshotSize = snapshot.size
  a = snapshot.commit
  head = await addCommit(mirror)
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshotFile, commit: a }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'server-url': server.url, repository: mirror.upstreamUrl, ...extra }
}

function snapshotGets(): string[] {
  return server.requests
    .filter(r => r.method === 'GET' && r.path.endsWith('/snapshot.tar.zst'))
    .map(r => r.path)
}

const PROGRESS_LINE = /^Downloaded [\d.]+ \w+ of [\d.]+ \w+ \(\d+%\) at /m

describe('github-server-url', () => {
  it('places OWNER/REPO on its host, over the workflow host', async () => {
    const onGithubCom = { GITHUB_SERVER_URL: 'https://github.com' }
    server.resetStats()
    const placed = await runAction({
      inputs: {
        'server-url': server.url,
        repository: 'acme/widgets',
        'github-server-url': 'https://github.example'
      },
      env: onGithubCom
    })
    expect(placed.exitCode).toBe(0)
    expect(placed.outputs['cache-hit']).toBe('true')
    expect(snapshotGets()[0]).toBe('/git/github.example/acme/widgets/snapshot.tar.zst')
    expect(await git(placed.workspace, 'rev-parse', 'HEAD')).toBe(a)

    // Without it, the same OWNER/REPO is looked for on the workflow's host: a miss here.
    server.resetStats()
    const unplaced = await runAction({
      inputs: { 'server-url': server.url, repository: 'acme/widgets' },
      env: onGithubCom
    })
    expect(unplaced.exitCode).toBe(0)
    expect(unplaced.outputs['cache-hit']).toBe('false')
    expect(snapshotGets()[0]).toBe('/git/github.com/acme/widgets/snapshot.tar.zst')
  })
})

describe('show-progress', () => {
  it('false turns the progress lines off; true (the default) prints them', async () => {
    // One stream paced to last about 7 s: a progress line comes every 5 s.
    server.setOptions({ faults: { rateLimitBytesPerSecond: Math.ceil(snapshotSize / 7) } })
    try {
      const [shown, hidden] = await Promise.all(
        ['true', 'false'].map(showProgress =>
          runAction({
            inputs: inputs({ 'download-concurrency': '1', 'show-progress': showProgress })
          })
        )
      )
      for (const run of [shown, hidden]) {
        expect(run.exitCode).toBe(0)
        expect(Number(run.outputs['download-seconds'])).toBeGreaterThan(5.5)
      }
      expect(shown.stdout).toMatch(PROGRESS_LINE)
      expect(hidden.stdout).not.toMatch(PROGRESS_LINE)
      expect(hidden.stdout).not.toContain('Downloaded ')
    } finally {
      server.setOptions({})
    }
  }, 60_000)
})

/** Every input at the default action.yml declares, as the runner passes them. */
function actionYmlDefaults(): Record<string, string> {
  // The tests run from the repository's root.
  const action = parse(readFileSync('action.yml', 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  const values: Record<string, string> = {}
  for (const [name, spec] of Object.entries(action.inputs)) {
    if (spec.default !== undefined && !spec.default.includes('${{')) values[name] = spec.default
  }
  return values
}

describe('inputs a snapshot supersedes', () => {
  const SUPERSEDED_LINE = /^The snapshot is a full clone, so these actions\/checkout inputs/m

  it('say so once, and the tree is the whole clone they would have narrowed', async () => {
    const run = await runAction({
      inputs: inputs({
        'fetch-depth': '0',
        'fetch-tags': 'true',
        filter: 'blob:none',
        submodules: 'recursive'
      })
    })
    expect(run.exitCode).toBe(0)
    const log = visibleLog(run)
    const lines = log.split('\n').filter(line => line.includes('actions/checkout inputs'))
    expect(lines).toEqual([
      'The snapshot is a full clone, so these actions/checkout inputs change nothing: ' +
        'fetch-depth: 0 (all history is there), fetch-tags: true (every tag is there), ' +
        'filter: blob:none (every object is there, not a partial clone).'
    ])
    // submodules is supported: with no .gitmodules in the commit it has nothing to do, quietly.
    expect(log).not.toContain('::warning::')
    expect(log).not.toMatch(/submodule/i)
    // What the inputs would have narrowed is all there.
    expect(await git(run.workspace, 'rev-parse', '--is-shallow-repository')).toBe('false')
    expect(await git(run.workspace, 'tag', '--list')).toBe('v1.0')
    await expect(git(run.workspace, 'config', 'remote.origin.promisor')).rejects.toThrow()
    await expect(git(run.workspace, 'config', 'core.sparseCheckout')).rejects.toThrow()
    const restored = await manifest(run.workspace, relative => relative.startsWith('.git'))
    const reference = await tempDirectory('reference-')
    await referenceExtraction(snapshotFile, reference)
    expect(restored).toEqual(await manifest(reference, relative => relative.startsWith('.git')))
  })

  it('say nothing at the defaults the runner passes', async () => {
    const defaults = actionYmlDefaults()
    expect(defaults).toMatchObject({ 'fetch-depth': '1', lfs: 'false', submodules: 'false' })
    const run = await runAction({ inputs: { ...defaults, ...inputs() } })
    expect(run.exitCode).toBe(0)
    expect(visibleLog(run)).not.toMatch(SUPERSEDED_LINE)
    expect(visibleLog(run)).not.toMatch(/::(warning|notice)::/)
  })
})

describe('clean: false on an update in place', () => {
  it('keeps untracked and ignored files, replaces those in the way, and undoes local edits', async () => {
    const workspace = await fs.mkdtemp(path.join(root, 'ws-'))
    await referenceExtraction(snapshotFile, workspace)
    await fs.writeFile(path.join(workspace, 'stray.txt'), 'left by the last job\n')
    await fs.mkdir(path.join(workspace, 'build'))
    await fs.writeFile(path.join(workspace, 'build', 'out.o'), 'object code')
    await fs.appendFile(path.join(workspace, 'docs', 'README.md'), 'a local edit\n')
    // The head commit adds this file: the job's untracked copy is in its way.
    const added = `changes/change-${mirror.commits.length - 1}.md`
    await fs.writeFile(path.join(workspace, added), 'the job made this\n')
    const env = { GITHUB_SHA: head, GITHUB_REF: 'refs/heads/main' }

    const run = await runActionWithPost({ inputs: inputs({ clean: 'false' }), env, workspace })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ mode: 'in-place', commit: head })
    expect(await git(workspace, 'rev-parse', 'HEAD')).toBe(head)
    expect(await git(workspace, 'status', '--porcelain', '--untracked-files=all')).toBe(
      ['?? build/out.o', '?? stray.txt'].join('\n')
    )
    expect(await fs.readFile(path.join(workspace, added), 'utf8')).toMatch(/^Change number/)
    expect(await fs.readFile(path.join(workspace, 'stray.txt'), 'utf8')).toBe(
      'left by the last job\n'
    )

    // clean: true (the default), the next job: the untracked files go.
    const cleaned = await runAction({ inputs: inputs(), env, workspace })
    expect(cleaned.outputs['mode']).toBe('in-place')
    expect(await git(workspace, 'status', '--porcelain', '--ignored')).toBe('')
  })

  it('says that a snapshot restore replaces the target all the same', async () => {
    const workspace = await fs.mkdtemp(path.join(root, 'ws-'))
    await fs.writeFile(path.join(workspace, 'notes.txt'), 'not a checkout\n')
    const run = await runAction({ inputs: inputs({ clean: 'false' }), workspace })
    expect(run.outputs['mode']).toBe('snapshot')
    expect(run.stdout).toContain(
      `clean: false applies to a checkout updated in place only; the snapshot replaces what ${workspace} holds, untracked files included.`
    )
    await expect(fs.access(path.join(workspace, 'notes.txt'))).rejects.toThrow()
  })
})

describe('ssh-key', () => {
  let key: string
  let fakeSshBin: string
  let sshRoot: string
  const KNOWN_HOST = 'github.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJZlZ2FsbHkgYSB0ZXN0IGtleQ'
  const SSH_ORIGIN = 'git@github.example:acme/widgets.git'

  beforeAll(async () => {
    const keyDir = await tempDirectory('ssh-key-')
    await execTool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'id')])
    key = await fs.readFile(path.join(keyDir, 'id'), 'utf8')
    // The "server": a bare repository where sshd would find acme/widgets.git for user git.
    sshRoot = await tempDirectory('ssh-root-')
    await fs.mkdir(path.join(sshRoot, 'acme'))
    await execTool('git', [
      'clone',
      '-q',
      '--bare',
      mirror.bareDir,
      path.join(sshRoot, 'acme', 'widgets.git')
    ])
    fakeSshBin = await tempDirectory('fake-ssh-')
    await fs.writeFile(
      path.join(fakeSshBin, 'ssh'),
      [
        '#!/bin/sh',
        '# Stands in for ssh: records its arguments, runs the remote command as sshd would.',
        'printf "%s\\n" "$@" >> "$FAKE_SSH_LOG"',
        'for last; do :; done',
        'cd "$FAKE_SSH_ROOT" && exec sh -c "$last"',
        ''
      ].join('\n'),
      { mode: 0o755 }
    )
  })

  /** A later step's git: PATH finds the stand-in ssh first. */
  function laterStep(workspace: string, log: string, ...args: string[]): Promise<string> {
    return execTool('git', ['-C', workspace, ...args], {
      env: {
        ...process.env,
        PATH: `${fakeSshBin}${path.delimiter}${process.env.PATH ?? ''}`,
        FAKE_SSH_LOG: log,
        FAKE_SSH_ROOT: sshRoot,
        GIT_TERMINAL_PROMPT: '0'
      }
    })
  }

  async function sshInvocations(log: string): Promise<string[]> {
    return (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(l => l !== '')
  }

  it('leaves origin on ssh with the key for later steps: push over ssh, fetch through cachew', async () => {
    const main = await runAction({
      inputs: inputs({ 'ssh-key': key, 'ssh-known-hosts': KNOWN_HOST })
    })
    expect(main.exitCode).toBe(0)
    const { workspace, runnerTemp } = main
    expect(await git(workspace, 'config', 'remote.origin.url')).toBe(SSH_ORIGIN)
    expect(visibleLog(main)).not.toContain(key.split('\n')[1])

    // The key and known hosts beside the access file, private; core.sshCommand names them.
    const files = await listDir(runnerTemp)
    expect(files).toHaveLength(3)
    const keyFile = path.join(runnerTemp, files.find(name => name.endsWith('.ssh-key')) ?? '')
    const knownHosts = path.join(
      runnerTemp,
      files.find(name => name.endsWith('.known_hosts')) ?? ''
    )
    expect(await fs.readFile(keyFile, 'utf8')).toBe(key.trim() + '\n')
    expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600)
    const hosts = await fs.readFile(knownHosts, 'utf8')
    expect(hosts.split('\n')[0]).toBe(KNOWN_HOST)
    expect(hosts).toMatch(/^github\.com ssh-ed25519 /m)
    expect(await git(workspace, 'config', 'core.sshCommand')).toBe(
      `ssh -i '${keyFile}' -o 'UserKnownHostsFile="${knownHosts}" ~/.ssh/known_hosts' ` +
        '-o StrictHostKeyChecking=yes -o CheckHostIP=no'
    )
    expect(await fs.readFile(path.join(workspace, '.git', 'config'), 'utf8')).not.toContain(
      'sshCommand'
    )

    // A later fetch goes to cachew, not over ssh.
    const log = path.join(await tempDirectory('ssh-log-'), 'calls')
    server.resetStats()
    await laterStep(workspace, log, 'fetch', '-q', 'origin')
    expect(server.requests.some(r => r.path.endsWith('/git-upload-pack'))).toBe(true)
    expect(await sshInvocations(log)).toEqual([])

    // A later push goes over ssh, with the key and host key options, and lands.
    await laterStep(
      workspace,
      log,
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@example.invalid',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'pushed over ssh'
    )
    const pushed = await git(workspace, 'rev-parse', 'HEAD')
    await laterStep(workspace, log, 'push', '-q', 'origin', 'HEAD:refs/heads/over-ssh')
    expect(await git(path.join(sshRoot, 'acme', 'widgets.git'), 'rev-parse', 'over-ssh')).toBe(
      pushed
    )
    const call = await sshInvocations(log)
    expect(call.slice(0, 2)).toEqual(['-i', keyFile])
    expect(call).toEqual(
      expect.arrayContaining([
        `UserKnownHostsFile="${knownHosts}" ~/.ssh/known_hosts`,
        'StrictHostKeyChecking=yes',
        'CheckHostIP=no',
        'git@github.example',
        "git-receive-pack 'acme/widgets.git'"
      ])
    )

    // The post step removes key, known hosts and core.sshCommand; origin stays, as checkout's.
    const post = await runAction({
      inputs: inputs({ 'ssh-key': key }),
      workspace,
      runnerTemp,
      post: true,
      state: main.state
    })
    expect(post.exitCode).toBe(0)
    expect(await listDir(runnerTemp)).toEqual([])
    await expect(git(workspace, 'config', 'core.sshCommand')).rejects.toThrow()
    expect(await git(workspace, 'config', 'remote.origin.url')).toBe(SSH_ORIGIN)
  })

  it('ssh-strict: false and ssh-user set the command and the URL; persist-credentials: false keeps no key', async () => {
    const loose = await runAction({
      inputs: inputs({ 'ssh-key': key, 'ssh-strict': 'false', 'ssh-user': 'deploy' })
    })
    expect(loose.exitCode).toBe(0)
    expect(await git(loose.workspace, 'config', 'remote.origin.url')).toBe(
      'deploy@github.example:acme/widgets.git'
    )
    expect(await git(loose.workspace, 'config', 'core.sshCommand')).not.toMatch(
      /StrictHostKeyChecking|CheckHostIP/
    )

    const unkept = await runAction({
      inputs: inputs({ 'ssh-key': key, 'persist-credentials': 'false' })
    })
    expect(unkept.exitCode).toBe(0)
    expect(await git(unkept.workspace, 'config', 'remote.origin.url')).toBe(SSH_ORIGIN)
    expect(await listDir(unkept.runnerTemp)).toEqual([])
    await expect(git(unkept.workspace, 'config', 'core.sshCommand')).rejects.toThrow()
  })

  it('an ssh origin is the same repository for the next update in place, which sets origin as asked', async () => {
    const first = await runAction({ inputs: inputs({ 'ssh-key': key }) })
    const workspace = first.workspace
    expect(await git(workspace, 'config', 'remote.origin.url')).toBe(SSH_ORIGIN)
    const env = { GITHUB_SHA: head, GITHUB_REF: 'refs/heads/main' }

    const again = await runAction({ inputs: inputs({ 'ssh-key': key }), env, workspace })
    expect(again.outputs).toMatchObject({ mode: 'in-place', commit: head })
    expect(await git(workspace, 'config', 'remote.origin.url')).toBe(SSH_ORIGIN)

    const https = await runAction({ inputs: inputs(), env, workspace })
    expect(https.outputs).toMatchObject({ mode: 'in-place', commit: head })
    expect(await git(workspace, 'config', 'remote.origin.url')).toBe(mirror.upstreamUrl)
  })
})

describe('allow-unsafe-pr-checkout', () => {
  async function forkPullRequestEvent(): Promise<Record<string, string>> {
    const file = path.join(await tempDirectory('event-'), 'event.json')
    await fs.writeFile(
      file,
      JSON.stringify({
        repository: { id: 1, full_name: 'acme/widgets' },
        pull_request: { head: { sha: head, repo: { id: 2, full_name: 'mallory/widgets' } } }
      })
    )
    return {
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: file,
      GITHUB_REPOSITORY: 'acme/widgets',
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_SHA: a,
      GITHUB_REF: 'refs/heads/main'
    }
  }

  it("refuses a fork's commit in pull_request_target before any request, unless allowed", async () => {
    const env = await forkPullRequestEvent()
    server.resetStats()
    const refused: ActionRun = await runAction({ inputs: inputs({ ref: head }), env })
    await server.idle()
    expect(refused.exitCode).toBe(1)
    expect(visibleLog(refused)).toContain(
      `::error::Refusing to restore a fork's pull request code (the pull request's commit ${head}) in a 'pull_request_target' workflow`
    )
    expect(server.requests).toEqual([])

    const allowed = await runAction({
      inputs: inputs({ ref: head, 'allow-unsafe-pr-checkout': 'true' }),
      env
    })
    expect(allowed.exitCode).toBe(0)
    expect(allowed.outputs['commit']).toBe(head)

    // The workflow's own commit, as GitHub chose it for the event, needs no permission.
    const own = await runAction({ inputs: inputs(), env })
    expect(own.exitCode).toBe(0)
    expect(own.outputs['commit']).toBe(a)
  })
})
