/**
 * A cancelled job, end to end on dist/index.js: the runner sends SIGINT (SIGTERM 7.5 s later,
 * then kills the tree). The action must stop what is in flight, remove its staging directory
 * and temp files, leave the target as it was, and exit non-zero well within 7.5 s. A restore
 * that was SIGKILLed is cleaned up after by the next one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { addCommit, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { tempDirectory } from './support/temp.js'
import { listDir, runAction, visibleLog } from './support/run-action.js'
import { git, manifest } from './support/tree.js'

const MiB = 1024 * 1024
const execFileAsync = promisify(execFile)
let server: CachewServer
let mirror: Mirror
let snapshotCommit: string
let later: string

beforeAll(async () => {
  const root = await tempDirectory('e2e-cancel-')
  mirror = await makeMirror(path.join(root, 'repo'), {
    files: 200,
    commits: 2,
    fileSize: 32 * 1024
  })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  expect(snapshot.size).toBeGreaterThan(2 * MiB)
  snapshotCommit = snapshot.commit
  later = await addCommit(mirror, 'after the snapshot')
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
})

afterAll(async () => {
  await server?.close()
})

/** A workspace with something in it, inside a parent the test watches. */
async function workspaceWithContent(): Promise<{ parent: string; workspace: string }> {
  const parent = await tempDirectory('cancel-')
  const workspace = path.join(parent, 'ws')
  await fs.mkdir(workspace)
  await fs.writeFile(path.join(workspace, 'precious.txt'), 'the job found this here\n')
  return { parent, workspace }
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

async function stagingHasFiles(parent: string): Promise<boolean> {
  for (const name of await fs.readdir(parent)) {
    if (!name.startsWith('.cachew-restore-')) continue
    if ((await fs.readdir(path.join(parent, name)).catch(() => [])).length > 0) return true
  }
  return false
}

/** Processes whose command line names this directory (git children left running, say). */
async function processesIn(directory: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ps', ['-eo', 'pid=,args='])
  return stdout.split('\n').filter(line => line.includes(directory))
}

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'server-url': server.url,
    repository: mirror.upstreamUrl,
    'download-chunk-size-mb': '1',
    ...extra
  }
}

describe('a cancelled job', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s mid-download: exits non-zero at once, nothing left behind, target untouched',
    async signal => {
      const { parent, workspace } = await workspaceWithContent()
      const before = await manifest(parent)
      server.setOptions({ faults: { rateLimitBytesPerSecond: 256 * 1024 } })
      server.resetStats()
      let signalledAt = 0
      try {
        const run = await runAction({
          inputs: inputs({ 'download-concurrency': '2' }),
          workspace,
          onStart: (child: ChildProcess) => {
            void until(() => stagingHasFiles(parent), 'extraction to start').then(() => {
              signalledAt = Date.now()
              child.kill(signal)
            })
          }
        })
        const exitedAfterMs = Date.now() - signalledAt
        expect(signalledAt).toBeGreaterThan(0)
        expect(run.exitCode).toBe(1)
        expect(exitedAfterMs).toBeLessThan(7500)
        expect(visibleLog(run)).toContain(
          `::error::The restore was cancelled (${signal}): nothing was changed.`
        )
        expect(visibleLog(run)).not.toMatch(/\n\s+at /) // no stack trace
        expect(await listDir(run.runnerTemp)).toEqual([])
        expect(await manifest(parent)).toEqual(before)
        // The download stopped with it.
        expect(server.requests.every(r => r.endedAt !== undefined)).toBe(true)
      } finally {
        server.setOptions({})
      }
    }
  )

  it('SIGINT while git fetches: git is stopped with its helpers, nothing left behind', async () => {
    const { parent, workspace } = await workspaceWithContent()
    const before = await manifest(parent)
    server.setOptions({ faults: { gitRateLimitBytesPerSecond: 4 * 1024 } })
    server.resetStats()
    let signalledAt = 0
    try {
      const run = await runAction({
        inputs: inputs({ bundle: 'false' }),
        env: { GITHUB_SHA: later, GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push' },
        workspace,
        onStart: child => {
          const fetching = async () =>
            server.requests.some(r => r.path.endsWith('/git-upload-pack') && r.method === 'POST')
          void until(fetching, 'the fetch through cachew').then(() => {
            signalledAt = Date.now()
            child.kill('SIGINT')
          })
        }
      })
      expect(signalledAt).toBeGreaterThan(0)
      expect(run.exitCode).toBe(1)
      expect(Date.now() - signalledAt).toBeLessThan(7500)
      expect(visibleLog(run)).toContain('The restore was cancelled (SIGINT): nothing was changed.')
      expect(await processesIn(parent)).toEqual([])
      expect(await listDir(run.runnerTemp)).toEqual([])
      expect(await manifest(parent)).toEqual(before)
    } finally {
      server.setOptions({})
    }
  })
})

describe('a SIGKILLed restore', () => {
  it('leaves its staging directory and spool, which the next restore removes', async () => {
    const { parent, workspace } = await workspaceWithContent()
    const runnerTemp = await tempDirectory('rt-killed-')
    server.setOptions({ faults: { rateLimitBytesPerSecond: 256 * 1024 } })
    let killed: number | undefined
    try {
      const run = await runAction({
        inputs: inputs(),
        workspace,
        runnerTemp,
        onStart: child => {
          void until(() => stagingHasFiles(parent), 'extraction to start').then(() => {
            killed = child.pid
            child.kill('SIGKILL')
          })
        }
      })
      expect(run.exitCode).toBeNull()
    } finally {
      server.setOptions({})
    }
    const left = (await listDir(parent)).filter(name => name.startsWith('.cachew-restore-'))
    expect(left).toEqual([expect.stringMatching(new RegExp(`^\\.cachew-restore-${killed}-`))])
    expect(await listDir(runnerTemp)).toEqual([
      expect.stringMatching(new RegExp(`^cachew-restore-${killed}-`))
    ])

    const next = await runAction({
      inputs: inputs({ 'persist-credentials': 'false' }),
      workspace,
      runnerTemp
    })
    expect(next.exitCode).toBe(0)
    expect(await listDir(parent)).toEqual(['ws'])
    expect(await listDir(runnerTemp)).toEqual([])
    expect(await git(workspace, 'rev-parse', 'HEAD')).toBe(snapshotCommit)
    expect(await git(workspace, 'status', '--porcelain')).toBe('')
  })
})
