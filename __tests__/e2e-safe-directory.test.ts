/**
 * set-safe-directory on dist/index.js, as a job in a container meets it: the restored tree is
 * owned by another uid than the one running git, and git refuses it ("detected dubious
 * ownership"), root included. The main step adds the repository to the global
 * safe.directory (in the run's own HOME), a later step's git run as root then works, and the
 * post step takes the entry away again, leaving the rest of ~/.gitconfig as it was.
 *
 * chown needs root: the tests run as root (.ci/run), or through passwordless sudo.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { tempDirectory } from './support/temp.js'
import { runAction, visibleLog, type RunOptions } from './support/run-action.js'
import { referenceExtraction } from './support/tree.js'

/** Nobody on the machine: what the runner's uid is to a job container's root. */
const OTHER_UID = 12345
const DUBIOUS = /detected dubious ownership in repository/

let root: string
let server: CachewServer
let mirror: Mirror
let snapshotFile: string
let head: string

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-safe-directory-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 30, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  snapshotFile = snapshot.file
  head = snapshot.commit
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshotFile, commit: head }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

interface Ran {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a command as root with exactly `env`: directly when this process is root, through
 * `sudo -n env -i` otherwise (no SUDO_UID, which git would take for the caller's uid).
 */
function asRoot(command: string, args: string[], env: Record<string, string> = {}): Ran {
  const environment = { PATH: process.env.PATH ?? '', ...env }
  const pairs = Object.entries(environment).map(([name, value]) => `${name}=${value}`)
  const run =
    process.getuid?.() === 0
      ? spawnSync(command, args, { env: environment })
      : spawnSync('sudo', ['-n', 'env', '-i', ...pairs, command, ...args])
  if (run.error) throw run.error
  return { status: run.status, stdout: String(run.stdout), stderr: String(run.stderr) }
}

function mustAsRoot(command: string, args: string[]): void {
  const run = asRoot(command, args)
  if (run.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} as root failed (needs root or sudo -n): ${run.stderr}`
    )
  }
}

/** Hands the tree to another uid, writable by all so a non-root action can still work in it. */
function giveAway(directory: string): void {
  mustAsRoot('chown', ['-R', `${OTHER_UID}:${OTHER_UID}`, directory])
  mustAsRoot('chmod', ['-R', 'a+rwX', directory])
}

/** Back to this process, so the temp directories can be removed. */
function takeBack(directory: string): void {
  mustAsRoot('chown', ['-R', `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`, directory])
}

/** A later step: git run as root in the repository, with the job's HOME. */
function laterStepGit(workspace: string, home: string, ...args: string[]): Ran {
  return asRoot('git', ['-C', workspace, ...args], { HOME: home })
}

async function globalSafeDirectories(home: string): Promise<string[]> {
  const out = await execTool('git', ['config', '--global', '--get-all', 'safe.directory'], {
    env: { ...process.env, HOME: home }
  }).catch(() => '')
  return out.split('\n').filter(Boolean)
}

/** A HOME whose ~/.gitconfig already holds the user's own settings. */
async function homeWithGitconfig(): Promise<{ home: string; original: string }> {
  const home = await tempDirectory('home-')
  const original = '[user]\n\tname = Someone\n[safe]\n\tdirectory = /srv/elsewhere\n'
  await fs.writeFile(path.join(home, '.gitconfig'), original)
  return { home, original }
}

function options(home: string, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    inputs: { 'server-url': server.url, repository: mirror.upstreamUrl },
    home,
    ...extra
  }
}

describe('set-safe-directory', () => {
  it('(default true) lets a later step run git as root on a tree another uid owns, until the post step', async () => {
    const { home, original } = await homeWithGitconfig()
    const main = await runAction(options(home))
    expect(visibleLog(main)).not.toMatch(/::(error|warning)::/)
    expect(main.exitCode).toBe(0)
    const workspace = await fs.realpath(main.workspace)
    expect(await globalSafeDirectories(home)).toEqual(['/srv/elsewhere', workspace])
    expect(visibleLog(main)).toContain(`Added ${workspace} to git's global safe.directory`)

    giveAway(workspace)
    try {
      const status = laterStepGit(workspace, home, 'status', '--porcelain')
      expect(status.stderr).not.toMatch(DUBIOUS)
      expect(status).toMatchObject({ status: 0, stdout: '' })
      expect(laterStepGit(workspace, home, 'rev-parse', 'HEAD').stdout.trim()).toBe(head)

      const post = await runAction({
        ...options(home),
        workspace: main.workspace,
        runnerTemp: main.runnerTemp,
        post: true,
        state: main.state
      })
      expect(post.exitCode).toBe(0)
      expect(visibleLog(post)).toContain(`Removed ${workspace} from git's global safe.directory`)
      expect(await fs.readFile(path.join(home, '.gitconfig'), 'utf8')).toBe(original)
      const after = laterStepGit(workspace, home, 'status', '--porcelain')
      expect(after.status).not.toBe(0)
      expect(after.stderr).toMatch(DUBIOUS)
    } finally {
      takeBack(workspace)
    }
  })

  it('false: adds nothing, and git as root refuses the tree another uid owns', async () => {
    const { home, original } = await homeWithGitconfig()
    const main = await runAction(
      options(home, {
        inputs: {
          'server-url': server.url,
          repository: mirror.upstreamUrl,
          'set-safe-directory': 'false'
        }
      })
    )
    expect(main.exitCode).toBe(0)
    expect(main.state['safe-directory']).toBeUndefined()
    expect(await fs.readFile(path.join(home, '.gitconfig'), 'utf8')).toBe(original)
    giveAway(main.workspace)
    try {
      const status = laterStepGit(main.workspace, home, 'status', '--porcelain')
      expect(status.status).not.toBe(0)
      expect(status.stderr).toMatch(DUBIOUS)
    } finally {
      takeBack(main.workspace)
    }
  })

  it('leaves an entry the user already had, and the post step keeps it', async () => {
    const home = await tempDirectory('home-')
    const workspace = await fs.realpath(await tempDirectory('ws-'))
    const original = `[safe]\n\tdirectory = ${workspace}\n`
    await fs.writeFile(path.join(home, '.gitconfig'), original)
    const main = await runAction(options(home, { workspace }))
    expect(main.exitCode).toBe(0)
    expect(main.state['safe-directory']).toBeUndefined()
    const post = await runAction(
      options(home, { workspace, runnerTemp: main.runnerTemp, post: true, state: main.state })
    )
    expect(post.exitCode).toBe(0)
    expect(await fs.readFile(path.join(home, '.gitconfig'), 'utf8')).toBe(original)
  })

  it("lets the action's own git update a checkout another uid owns in place", async () => {
    const push = { GITHUB_SHA: head, GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push' }
    for (const setSafeDirectory of ['true', 'false']) {
      const home = await tempDirectory('home-')
      const workspace = await tempDirectory('ws-')
      await referenceExtraction(snapshotFile, workspace)
      giveAway(workspace)
      try {
        const run = await runAction({
          inputs: {
            'server-url': server.url,
            repository: mirror.upstreamUrl,
            'set-safe-directory': setSafeDirectory
          },
          env: push,
          home,
          workspace
        })
        expect(run.exitCode).toBe(0)
        if (setSafeDirectory === 'true') {
          expect(run.outputs).toMatchObject({ mode: 'in-place', commit: head })
        } else {
          // git refuses the checkout, so the snapshot is restored over it instead.
          expect(visibleLog(run)).toMatch(
            /Not updating .* in place: git cannot use it \(.*dubious ownership/
          )
          expect(run.outputs).toMatchObject({ mode: 'snapshot', commit: head })
        }
      } finally {
        takeBack(workspace)
      }
    }
  })
})
