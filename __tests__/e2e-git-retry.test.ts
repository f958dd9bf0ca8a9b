/**
 * git traffic through cachew under faults, on dist/index.js: the fetch of the workflow's
 * commit and ensure-refs are retried as the download is (backoff, Retry-After, bounded
 * attempts) when the server answers 5xx or 429 or the pack is cut off, and not retried for a
 * 401, a 403 or a commit the server does not have. The server's log counts the attempts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  startCachewServer,
  type CachewServer,
  type LoggedRequest,
  type ServerOptions
} from './support/cachew-server.js'
import { execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { listDir, runActionWithPost, visibleLog, type ActionRun } from './support/run-action.js'
import { git } from './support/tree.js'

let root: string
let server: CachewServer
let mirror: Mirror
/** The mirror's head, past the snapshot by 200 KB of incompressible data; no bundle offered. */
let wanted: string

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-git-retry-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 30, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  await fs.writeFile(path.join(mirror.workDir, 'blob.bin'), randomBytes(200_000))
  await execTool('git', ['-C', mirror.workDir, 'add', 'blob.bin'])
  await execTool('git', ['-C', mirror.workDir, 'commit', '-qm', 'big'])
  await execTool('git', ['-C', mirror.workDir, 'push', '-q', 'mirror', 'main'])
  wanted = (await execTool('git', ['-C', mirror.workDir, 'rev-parse', 'HEAD'])).trim()
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

beforeEach(() => {
  server.setOptions({})
  server.resetStats()
})

/**
 * Restores, then checks out `ref` (default: the commit past the snapshot), under `faults`;
 * the post step follows, as on a runner.
 */
async function restoreWith(
  faults: ServerOptions['faults'],
  ref = wanted,
  env: Record<string, string> = {}
): Promise<{ run: ActionRun; log: string }> {
  server.setOptions({ faults })
  const run = await runActionWithPost({
    inputs: { 'server-url': server.url, repository: mirror.upstreamUrl, ref },
    env
  })
  await server.idle()
  return { run, log: visibleLog(run) }
}

function requestsTo(endpoint: string): LoggedRequest[] {
  return server.requests.filter(r => r.endpoint === endpoint)
}

function statusesOf(endpoint: string): number[] {
  return requestsTo(endpoint).map(r => r.status)
}

async function expectAtWanted(run: ActionRun): Promise<void> {
  expect(run.exitCode).toBe(0)
  expect(run.outputs.commit).toBe(wanted)
  expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(wanted)
  expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
  expect(await listDir(run.runnerTemp)).toEqual([])
}

describe('retried', () => {
  it('the git endpoint answers 502 twice, then works', async () => {
    const { run, log } = await restoreWith({
      gitStatusFor: { status: 502, times: 2, endpoints: ['info/refs'] }
    })
    await expectAtWanted(run)
    expect(statusesOf('info/refs')).toEqual([502, 502, 200])
    expect(log).toMatch(
      /git fetch through cachew failed \(fatal: unable to access .*returned error: 502\); retrying, attempt 2 of 8\./
    )
    expect(log).toContain('retrying, attempt 3 of 8.')
    expect(log).not.toMatch(/::(error|warning)::/)
  })

  it('git-upload-pack answers 503 twice (RPC failed), then works', async () => {
    const { run, log } = await restoreWith({
      gitStatusFor: { status: 503, times: 2, endpoints: ['git-upload-pack'] }
    })
    await expectAtWanted(run)
    expect(server.faultsFired.gitStatusFor).toBe(2)
    expect(statusesOf('git-upload-pack').slice(0, 2)).toEqual([503, 503])
    expect(log).toMatch(/git fetch through cachew failed \(error: RPC failed; HTTP 503/)
  })

  it.each([
    ['unpack-objects', {}],
    // index-pack, as for packs of 100 objects or more: a cut leaves its tmp_pack_* behind.
    [
      'index-pack',
      { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'fetch.unpackLimit', GIT_CONFIG_VALUE_0: '1' }
    ]
  ])(
    'the pack is cut off mid-transfer (early EOF), then works, leaving nothing (%s)',
    async (_name, env) => {
      const { run, log } = await restoreWith(
        { gitResetAfterBytes: { bytes: 32_768, times: 1 } },
        wanted,
        env
      )
      await expectAtWanted(run)
      expect(server.faultsFired.gitResetAfterBytes).toBe(1)
      expect(log).toMatch(
        /git fetch through cachew failed \(.*early EOF|git fetch through cachew failed \(.*bytes of body/
      )
      expect(log).toContain('retrying, attempt 2 of 8.')
      const packs = await fs.readdir(path.join(run.workspace, '.git', 'objects', 'pack'))
      expect(packs.filter(name => name.startsWith('tmp_'))).toEqual([])
    }
  )

  it("ensure-refs answers 503 with Retry-After: 1, then 200, after the server's delay", async () => {
    const { run, log } = await restoreWith({
      gitStatusFor: { status: 503, times: 1, retryAfterSeconds: 1, endpoints: ['ensure-refs'] }
    })
    await expectAtWanted(run)
    const [refused, answered] = requestsTo('ensure-refs')
    expect([refused.status, answered.status]).toEqual([503, 200])
    expect(answered.startedAt - (refused.endedAt ?? refused.startedAt)).toBeGreaterThanOrEqual(1000)
    expect(log).toMatch(/cachew ensure-refs failed \(cachew answered HTTP 503 .*\); retrying/)
    expect(log).not.toMatch(/::warning::/)
  })
})

describe('not retried', () => {
  it('a 401 from the git endpoint fails the fetch at once', async () => {
    const { run, log } = await restoreWith({
      gitStatusFor: { status: 401, endpoints: ['info/refs'] }
    })
    expect(run.exitCode).toBe(1)
    expect(statusesOf('info/refs')).toEqual([401])
    expect(log).toMatch(/::error::Could not fetch commit .*could not read Username/)
    expect(log).not.toMatch(/retrying/)
    expect(await listDir(run.runnerTemp)).toEqual([])
  })

  it('a 403 from git-upload-pack fails the fetch at once', async () => {
    const { run, log } = await restoreWith({
      gitStatusFor: { status: 403, endpoints: ['git-upload-pack'] }
    })
    expect(run.exitCode).toBe(1)
    expect(statusesOf('git-upload-pack')).toEqual([403])
    expect(log).toMatch(/::error::Could not fetch commit .*RPC failed; HTTP 403/)
    expect(log).not.toMatch(/retrying/)
  })

  it('a 401 from ensure-refs is a warning, and a missing commit fails without a retry', async () => {
    const missing = 'f'.repeat(40)
    const { run, log } = await restoreWith(
      { gitStatusFor: { status: 401, endpoints: ['ensure-refs'] } },
      missing
    )
    expect(run.exitCode).toBe(1)
    expect(statusesOf('ensure-refs')).toEqual([401])
    expect(log).toMatch(/::warning::cachew ensure-refs failed \(cachew answered HTTP 401 /)
    expect(requestsTo('info/refs')).toHaveLength(1)
    expect(log).toMatch(/::error::Could not fetch commit f{40} .*not our ref/)
    expect(log).not.toMatch(/retrying/)
  })
})
