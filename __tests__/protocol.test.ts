import { describe, expect, it } from '@jest/globals'
import {
  gitInsteadOf,
  repositoryPrefix,
  resolveServerUrl,
  snapshotUrl
} from '../src/cachew/endpoints.js'
import { snapshotFields } from '../src/cachew/snapshot.js'
import { errorForStatus, parseRetryAfter } from '../src/cachew/status.js'
import { parseContentRange } from '../src/download/download.js'
import { retryDelay, DEFAULT_RETRY_POLICY } from '../src/download/retry.js'
import { CacheMissError, ServerError, SnapshotChangedError, TransientError } from '../src/errors.js'

describe('endpoints', () => {
  it('maps an upstream URL onto the server prefix, without .git or slashes', () => {
    expect(repositoryPrefix('https://c.example/', 'https://github.com/acme/widgets.git')).toBe(
      'https://c.example/git/github.com/acme/widgets'
    )
    expect(snapshotUrl('http://127.0.0.1:9', 'https://ghe.example:8443/org/sub/repo/')).toBe(
      'http://127.0.0.1:9/git/ghe.example:8443/org/sub/repo/snapshot.tar.zst'
    )
  })

  it('refuses a URL with no path', () => {
    expect(() => repositoryPrefix('https://c.example', 'https://github.com/')).toThrow(
      /not a repository URL/
    )
  })

  it('joins a root-relative bundle URL onto the server URL, prefix kept; absolute ones stay', () => {
    expect(
      resolveServerUrl('https://c.example/cachew/', '/git/h/o/r/snapshot.bundle?base=abc')
    ).toBe('https://c.example/cachew/git/h/o/r/snapshot.bundle?base=abc')
    expect(resolveServerUrl('https://c.example', 'https://other.example/x?base=1')).toBe(
      'https://other.example/x?base=1'
    )
  })

  it('routes git through cachew with insteadOf', () => {
    expect(gitInsteadOf('https://c.example', 'https://github.com/acme/widgets')).toEqual({
      from: 'https://github.com/',
      to: 'https://c.example/git/github.com/'
    })
  })

  it('reads the commit and bundle URL headers', () => {
    const sha = 'a'.repeat(40)
    expect(
      snapshotFields('https://c.example', {
        'x-cachew-snapshot-commit': sha.toUpperCase(),
        'x-cachew-bundle-url': `/git/h/o/r/snapshot.bundle?base=${sha}`
      })
    ).toEqual({ commit: sha, bundleUrl: `https://c.example/git/h/o/r/snapshot.bundle?base=${sha}` })
    expect(
      snapshotFields('https://c.example', { 'x-cachew-snapshot-commit': 'not-a-sha' })
    ).toEqual({
      commit: undefined,
      bundleUrl: undefined,
      lfsSnapshotUrl: undefined
    })
  })

  it('resolves X-Cachew-Lfs-Snapshot-Url like the bundle URL: root-relative or absolute', () => {
    expect(
      snapshotFields('https://c.example/cachew', {
        'x-cachew-lfs-snapshot-url': '/git/h/o/r/lfs-snapshot.tar.zst'
      }).lfsSnapshotUrl
    ).toBe('https://c.example/cachew/git/h/o/r/lfs-snapshot.tar.zst')
    expect(
      snapshotFields('https://c.example', {
        'x-cachew-lfs-snapshot-url': 'https://blobs.example/lfs.tar.zst'
      }).lfsSnapshotUrl
    ).toBe('https://blobs.example/lfs.tar.zst')
  })
})

describe('status policy', () => {
  const context = {
    what: 'snapshot',
    url: 'https://c.example/git/h/o/r/snapshot.tar.zst',
    authorized: false
  }

  it('401 without credentials names the authorization input', () => {
    const error = errorForStatus(401, context)
    expect(error).toBeInstanceOf(ServerError)
    expect(error.message).toMatch(/HTTP 401.*set the 'authorization' input/)
  })

  it('403 with credentials says they were refused', () => {
    expect(errorForStatus(403, { ...context, authorized: true }).message).toMatch(
      /HTTP 403.*refused the credentials in the 'authorization' input/
    )
  })

  it('404 is a miss, 412 a changed snapshot, 5xx/429 transient with Retry-After, other 4xx fatal', () => {
    expect(errorForStatus(404, context)).toBeInstanceOf(CacheMissError)
    expect(errorForStatus(412, context)).toBeInstanceOf(SnapshotChangedError)
    const busy = errorForStatus(503, { ...context, retryAfter: '7' })
    expect(busy).toBeInstanceOf(TransientError)
    expect((busy as TransientError).retryAfterMs).toBe(7000)
    expect(errorForStatus(429, context)).toBeInstanceOf(TransientError)
    const bad = errorForStatus(400, context)
    expect(bad).toBeInstanceOf(ServerError)
    expect(bad.message).toContain('HTTP 400')
    expect(bad.message).toContain(context.url)
  })

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})

describe('ranges and retries', () => {
  it('parses Content-Range strictly', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ start: 0, end: 99, size: 1000 })
    expect(parseContentRange('bytes */1000')).toBeUndefined()
    expect(parseContentRange('bytes 5-4/10')).toBeUndefined()
    expect(parseContentRange('bytes 0-10/10')).toBeUndefined()
  })

  it('backs off exponentially with jitter, capped, and honours Retry-After plus jitter', () => {
    const policy = DEFAULT_RETRY_POLICY
    expect(retryDelay(policy, 1, undefined, () => 0)).toBe(125)
    expect(retryDelay(policy, 1, undefined, () => 1)).toBe(250)
    expect(retryDelay(policy, 3, undefined, () => 1)).toBe(1000)
    expect(retryDelay(policy, 30, undefined, () => 1)).toBe(policy.maxDelayMs)
    expect(retryDelay(policy, 1, 2000, () => 0)).toBe(2000)
    expect(retryDelay(policy, 1, 2000, () => 1)).toBe(3000)
    expect(retryDelay(policy, 1, 10 * 60_000, () => 0)).toBe(policy.maxRetryAfterMs)
  })
})
