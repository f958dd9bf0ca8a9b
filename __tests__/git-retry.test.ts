/**
 * The retry layer of git traffic: which of real git's failures against the cachew test
 * server are worth another attempt (its faults make each one), and withRetries' bounds,
 * Retry-After and abort.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import type { RetryPolicy } from '../src/download/retry.js'
import { ServerError, TransientError } from '../src/errors.js'
import { Git, GitError } from '../src/git/git.js'
import { transientFailure, withRetries } from '../src/git/retry.js'
import {
  startCachewServer,
  type CachewServer,
  type ServerOptions
} from './support/cachew-server.js'
import { makeMirror, type Mirror } from './support/fixtures.js'

let root: string
let server: CachewServer
let mirror: Mirror
/** A clone that lacks `wanted`, the mirror's head: 200 KB of incompressible data. */
let clone: string
let wanted: string

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'git-retry-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 10, commits: 2 })
  clone = path.join(root, 'clone')
  execFileSync('git', ['clone', '-q', mirror.bareDir, clone])
  await fs.writeFile(path.join(mirror.workDir, 'blob.bin'), randomBytes(200_000))
  execFileSync('git', ['-C', mirror.workDir, 'add', 'blob.bin'])
  execFileSync('git', ['-C', mirror.workDir, 'commit', '-qm', 'big'])
  execFileSync('git', ['-C', mirror.workDir, 'push', '-q', 'mirror', 'main'])
  wanted = execFileSync('git', ['-C', mirror.workDir, 'rev-parse', 'HEAD'], {
    encoding: 'utf8'
  }).trim()
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: path.join(root, 'none') }, mirror)
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/** git fetch through the server, as the action runs it; the GitError it fails with. */
async function failedFetch(faults: ServerOptions['faults'], what = wanted): Promise<GitError> {
  server.setOptions({ faults })
  const host = new URL(mirror.upstreamUrl).host
  const git = new Git(clone)
  try {
    await git.run(
      ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', mirror.upstreamUrl, what],
      {
        config: [{ key: `url.${server.url}/git/${host}/.insteadOf`, value: `https://${host}/` }]
      }
    )
  } catch (error) {
    if (error instanceof GitError) return error
    throw error
  } finally {
    server.setOptions({})
  }
  throw new Error('the fetch worked')
}

describe("which of git's failures are retried", () => {
  it.each([
    ['502 on info/refs', { gitStatusFor: { status: 502, endpoints: ['info/refs' as const] } }],
    [
      '503 on git-upload-pack (RPC failed)',
      { gitStatusFor: { status: 503, endpoints: ['git-upload-pack' as const] } }
    ],
    ['429 on info/refs', { gitStatusFor: { status: 429, endpoints: ['info/refs' as const] } }],
    ['a reset mid-pack (early EOF)', { gitResetAfterBytes: { bytes: 16_384, times: 1 } }]
  ])('%s: retried', async (_name, faults) => {
    const error = await failedFetch(faults)
    const transient = transientFailure(error)
    expect(transient).toBeInstanceOf(TransientError)
    expect(transient?.message).toMatch(/^(error|fatal): /)
  })

  it.each([
    ['401 on info/refs', { gitStatusFor: { status: 401, endpoints: ['info/refs' as const] } }],
    [
      '403 on git-upload-pack',
      { gitStatusFor: { status: 403, endpoints: ['git-upload-pack' as const] } }
    ],
    ['404 on info/refs', { gitStatusFor: { status: 404, endpoints: ['info/refs' as const] } }]
  ])('%s: not retried', async (_name, faults) => {
    expect(transientFailure(await failedFetch(faults))).toBeUndefined()
  })

  it('a missing commit or ref: not retried', async () => {
    const commit = await failedFetch({}, 'f'.repeat(40))
    expect(commit.stderr).toMatch(/not our ref/)
    expect(transientFailure(commit)).toBeUndefined()
    const ref = await failedFetch({}, 'refs/heads/no-such-branch:refs/remotes/origin/x')
    expect(ref.stderr).toMatch(/couldn't find remote ref/)
    expect(transientFailure(ref)).toBeUndefined()
  })

  it('a refused connection: retried', async () => {
    const closed = await startCachewServer()
    const url = closed.url
    await closed.close()
    const git = new Git(clone)
    const error = await git.run(['fetch', '--quiet', `${url}/git/x/y/z`, 'main']).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(GitError)
    expect(transientFailure(error)).toBeInstanceOf(TransientError)
  })

  it('a TransientError is retried, a ServerError (401) is not', () => {
    expect(transientFailure(new TransientError('HTTP 503'))).toBeInstanceOf(TransientError)
    expect(transientFailure(new ServerError(401, 'HTTP 401'))).toBeUndefined()
  })
})

describe('withRetries', () => {
  const fast: RetryPolicy = {
    attemptsPerRequest: 3,
    totalRetries: 10,
    baseDelayMs: 1,
    maxDelayMs: 4,
    maxRetryAfterMs: 1000
  }
  const lines: string[] = []
  const context = { log: { info: (line: string) => lines.push(line) }, policy: fast }

  it('tries again until it works', async () => {
    lines.length = 0
    let calls = 0
    const result = await withRetries(
      'op',
      async () => {
        if (++calls < 3) throw new TransientError('HTTP 502')
        return 'done'
      },
      context
    )
    expect({ result, calls }).toEqual({ result: 'done', calls: 3 })
    expect(lines).toEqual([
      'op failed (HTTP 502); retrying, attempt 2 of 3.',
      'op failed (HTTP 502); retrying, attempt 3 of 3.'
    ])
  })

  it('gives up after the policy’s attempts with the last error, unchanged', async () => {
    lines.length = 0
    let calls = 0
    const last = new TransientError('HTTP 503')
    await expect(
      withRetries(
        'op',
        async () => {
          calls++
          throw last
        },
        context
      )
    ).rejects.toBe(last)
    expect(calls).toBe(3)
    expect(lines.at(-1)).toBe('op failed 3 times (HTTP 503); giving up.')
  })

  it('does not retry what another attempt cannot change', async () => {
    let calls = 0
    const refused = new ServerError(403, 'HTTP 403')
    await expect(
      withRetries(
        'op',
        async () => {
          calls++
          throw refused
        },
        context
      )
    ).rejects.toBe(refused)
    expect(calls).toBe(1)
  })

  it("waits at least the server's Retry-After", async () => {
    const times: number[] = []
    await withRetries(
      'op',
      async () => {
        times.push(performance.now())
        if (times.length === 1) throw new TransientError('HTTP 429', 300)
      },
      context
    )
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(300)
  })

  it('stops waiting when aborted', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const attempt = withRetries(
      'op',
      async () => {
        setTimeout(() => controller.abort(new Error('cancelled')), 20)
        throw new TransientError('HTTP 429', 1000)
      },
      { ...context, signal: controller.signal }
    )
    await expect(attempt).rejects.toThrow()
    expect(performance.now() - started).toBeLessThan(500)
  })
})
