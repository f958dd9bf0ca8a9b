/**
 * Which git processes a restore starts, end to end on dist/index.js under strace (execve and
 * the clones that say who started whom). Each costs 12 to 17 ms here, a spawn from a large
 * Node process plus git's own start: two fewer took a restore of 2,500 files from 0.45 to
 * 0.41 s (median of 10, tmpfs). The action's own processes are pinned in order, so a question
 * that could have shared a process with another shows up as a new line; git's children (a
 * fetch's index-pack, connectivity check and auto maintenance) vary with its version and are
 * left out.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { addCommit, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { ACTION_ENTRY, runAction, visibleLog, type ActionRun } from './support/run-action.js'
import { tempDirectory } from './support/temp.js'
import { git } from './support/tree.js'

const CURRENT_URL = 'https://github.example/acme/widgets-current'

let root: string
let server: CachewServer
let mirror: Mirror
let a: string // the snapshot's commit
let b: string // main, one past the snapshot (the bundle's head)
let currentCommit: string // the other mirror's main, which is its snapshot's commit

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-git-processes-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 40, commits: 1 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  a = snapshot.commit
  // A second mirror that stays at the snapshot: its bundle answer is 204 (nothing to apply).
  const current = await makeMirror(path.join(root, 'current'), {
    files: 40,
    commits: 1,
    upstreamUrl: CURRENT_URL
  })
  const currentSnapshot = await makeSnapshot(current, path.join(root, 'current.tar.zst'))
  b = await addCommit(mirror, 'B')
  server = await startCachewServer()
  server.addRepository(
    mirror.upstreamUrl,
    { file: snapshot.file, commit: a, bundleBase: a },
    mirror
  )
  currentCommit = currentSnapshot.commit
  const currentEntry = {
    file: currentSnapshot.file,
    commit: currentCommit,
    bundleBase: currentCommit
  }
  server.addRepository(CURRENT_URL, currentEntry, current)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/**
 * Runs the action under strace; returns the run and the arguments of each git process the
 * action itself started, in the order they started.
 */
async function runTraced(
  repository: string,
  env: Record<string, string>
): Promise<[ActionRun, string[][]]> {
  const traces = await tempDirectory('strace-')
  const calls = 'trace=execve,clone,clone3,fork,vfork'
  const run = await runAction({
    inputs: { 'server-url': server.url, repository },
    env: { GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push', ...env },
    // One file per process (-ff), so no call is split across lines by another's; -ttt orders.
    wrapper: ['strace', '-ff', '-ttt', '-qq', '-s', '4096', '-e', calls, '-o', `${traces}/pid`]
  })
  return [run, actionGitExecs(await readTraces(traces))]
}

interface Traced {
  /** The program the process runs (its last successful execve), with its argv and when. */
  exec?: { program: string; argv: string[]; at: number }
  /** The processes and threads it started. */
  children: number[]
}

async function readTraces(directory: string): Promise<Map<number, Traced>> {
  const traced = new Map<number, Traced>()
  for (const name of await fs.readdir(directory)) {
    const pid = Number(name.slice('pid.'.length))
    const entry: Traced = { children: [] }
    for (const line of (await fs.readFile(path.join(directory, name), 'utf8')).split('\n')) {
      // Node's spawn tries each PATH entry in turn: only the execve that returned 0 counts.
      const exec = /^([\d.]+) execve\("([^"]*)", \[(.*)\], .*\) = 0$/.exec(line)
      if (exec) {
        const argv = [...exec[3].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, word]) =>
          word.replace(/\\(.)/g, '$1')
        )
        entry.exec = { program: path.basename(exec[2]), argv, at: Number(exec[1]) }
      }
      const started = /^[\d.]+ v?(?:clone3?|fork)\(.*\) = (\d+)$/.exec(line)
      if (started) entry.children.push(Number(started[1]))
    }
    traced.set(pid, entry)
  }
  return traced
}

/**
 * The git processes whose parent is the action's Node process: git's own children (fetch's
 * index-pack, its connectivity check, auto maintenance) vary with git's version.
 */
function actionGitExecs(traced: Map<number, Traced>): string[][] {
  const execs: { argv: string[]; at: number }[] = []
  for (const parent of traced.values()) {
    if (!parent.exec?.argv.includes(ACTION_ENTRY)) continue
    for (const child of parent.children) {
      const exec = traced.get(child)?.exec
      if (exec?.program === 'git') execs.push(exec)
    }
  }
  return execs.sort((x, y) => x.at - y.at).map(exec => exec.argv.slice(1))
}

/**
 * Each command as one line, with the run's paths and commits named, so the list reads the
 * same on every run: STAGING (the staged clone beside the target), WORKSPACE, BUNDLE, ACCESS
 * (the persisted credentials' file) and the commits by their names.
 */
function named(execs: string[][], run: ActionRun, commits: Record<string, string>): string[] {
  const staging = path.join(path.dirname(run.workspace), '.cachew-restore-')
  return execs.map(argv => {
    let line = argv.join(' ')
    line = line.split(run.workspace).join('WORKSPACE')
    line = line.replace(new RegExp(`${escapeRegExp(staging)}[^/ ]+`, 'g'), 'STAGING')
    line = line.replace(new RegExp(`${escapeRegExp(run.runnerTemp)}/\\S+\\.bundle`, 'g'), 'BUNDLE')
    line = line.replace(
      new RegExp(`${escapeRegExp(run.runnerTemp)}/cachew-git-\\S+`, 'g'),
      'ACCESS'
    )
    for (const [name, commit] of Object.entries(commits)) line = line.split(commit).join(name)
    return line
  })
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The restore's own commands, after checking that set-safe-directory ran its two: those run
 * alongside the download, so their place in the order is not the restore's to pin.
 */
function restoreCommands(lines: string[]): string[] {
  expect(lines.filter(line => line.includes('--global'))).toEqual([
    'config --global --get-all safe.directory',
    'config --global --add safe.directory WORKSPACE'
  ])
  return lines.filter(line => !line.includes('--global'))
}

describe('git processes of a default restore', () => {
  it('at the snapshot commit', async () => {
    const [run, execs] = await runTraced(CURRENT_URL, { GITHUB_SHA: currentCommit })
    expect(visibleLog(run)).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
    // HEAD, its branch and origin/main at once; origin's URL; the credentials' include.
    expect(restoreCommands(named(execs, run, { A: currentCommit }))).toEqual([
      'rev-parse HEAD^{commit} HEAD@{upstream}^{commit} --symbolic-full-name HEAD HEAD@{upstream}',
      'config --get remote.origin.url',
      'config --file STAGING/.git/config --add include.path ACCESS'
    ])
  })

  it('one commit past the snapshot, with the delta bundle', async () => {
    const [run, execs] = await runTraced(mirror.upstreamUrl, { GITHUB_SHA: b })
    expect(visibleLog(run)).not.toMatch(/::error::/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs['bundle-applied']).toBe('true')
    expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(b)
    // The bundle's commit and origin/main are known once it is applied: no question follows.
    expect(restoreCommands(named(execs, run, { A: a, B: b }))).toEqual([
      'rev-parse HEAD^{commit} HEAD@{upstream}^{commit} --symbolic-full-name HEAD HEAD@{upstream}',
      'bundle verify --quiet BUNDLE',
      'bundle list-heads BUNDLE',
      'fetch --quiet --no-tags --no-write-fetch-head BUNDLE +refs/heads/main:refs/cachew-restore/bundle',
      'rev-parse --verify refs/cachew-restore/bundle^{commit}',
      'merge-base --is-ancestor HEAD B',
      'update-ref --stdin',
      'checkout --quiet --force -B main B',
      'update-index --refresh',
      'config --get remote.origin.url',
      'config --file STAGING/.git/config --add include.path ACCESS'
    ])
  })
})
