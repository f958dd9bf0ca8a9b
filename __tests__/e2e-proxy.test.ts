/**
 * The runner's proxy variables, end to end on dist/index.js through real squids. The server
 * is addressed as cachew.proxy.test, a name only the proxy can resolve (from its own hosts
 * file): a restore that succeeds went through the proxy, every request of it, the action's
 * own and git's; one that bypasses the proxy cannot even find the host. (A loopback name would
 * prove nothing: loopback hosts are never proxied.)
 *
 * The http:// server sits behind a squid with its stock access rules (CONNECT to port 443
 * only), which is what a corporate proxy left at its defaults allows: only requests forwarded
 * in absolute form, as curl and git send them, get through to cachew's port. The https://
 * server's port is not 443, so its squid allows CONNECT to any port.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { selfSignedIdentity } from './support/certificate.js'
import { addCommit, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { startProxy, type ForwardProxy } from './support/proxy.js'
import { runAction, visibleLog, type ActionRun } from './support/run-action.js'
import { git } from './support/tree.js'
import { freePort } from './support/daemon.js'

const HOST = 'cachew.proxy.test'
const SECRET = 'proxy-test-s3cret'
const AUTHORIZATION = `Bearer ${SECRET}`
const PROXY_USER = 'runner'
const PROXY_PASSWORD = 'pr0xy-p@ss'
/** A repository whose snapshot is big enough for a download of many 1 MiB chunks. */
const LARGE_UPSTREAM = 'https://github.example/acme/large'
const MiB = 1024 * 1024

let root: string
let mirror: Mirror
let head: string // main, one past the snapshot: reached by a git fetch through cachew
let server: CachewServer
let tlsServer: CachewServer
let certificate: string
let largeSize: number
/** CONNECT to any port, for the https server. */
let proxy: ForwardProxy
/** squid's stock rules (CONNECT to 443 only), for the http server. */
let stock: ForwardProxy
/** The stock rules, and proxy credentials required. */
let guarded: ForwardProxy

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-proxy-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 40, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  const large = path.join(root, 'large.tar.zst')
  largeSize = await snapshotWithBallast(mirror, LARGE_UPSTREAM, large, 11 * MiB)
  head = await addCommit(mirror, 'after the snapshot')
  // No bundle: reaching `head` takes ensure-refs and a git fetch, so git's traffic is tested too.
  const entry = { file: snapshot.file, commit: snapshot.commit }
  server = await startCachewServer({ requireAuthorization: AUTHORIZATION })
  server.addRepository(mirror.upstreamUrl, entry, mirror)
  const identity = await selfSignedIdentity(path.join(root, 'tls'), HOST)
  certificate = identity.certFile
  tlsServer = await startCachewServer({ requireAuthorization: AUTHORIZATION }, 0, identity)
  tlsServer.addRepository(mirror.upstreamUrl, entry, mirror)
  tlsServer.addRepository(LARGE_UPSTREAM, { file: large, commit: snapshot.commit }, mirror)
  const hosts = { [HOST]: '127.0.0.1' }
  ;[proxy, stock, guarded] = await Promise.all([
    startProxy({ hosts }),
    startProxy({ hosts, stock: true }),
    startProxy({ hosts, stock: true, users: { [PROXY_USER]: PROXY_PASSWORD } })
  ])
})

afterAll(async () => {
  await proxy?.stop()
  await stock?.stop()
  await guarded?.stop()
  await server?.close()
  await tlsServer?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/**
 * The mirror's snapshot (at its current commit) with `ballast` random bytes beside the tree,
 * ignored by git (.git/info/exclude): a download of many chunks that still restores cleanly.
 * Returns the file's size.
 */
async function snapshotWithBallast(
  source: Mirror,
  upstreamUrl: string,
  file: string,
  ballast: number
) {
  const clone = path.join(root, 'ballast-clone')
  await git(root, 'clone', '-q', source.bareDir, clone)
  await git(clone, 'remote', 'set-url', 'origin', upstreamUrl)
  await fs.appendFile(path.join(clone, '.git', 'info', 'exclude'), 'ballast.bin\n')
  await fs.writeFile(path.join(clone, 'ballast.bin'), randomBytes(ballast))
  execFileSync('sh', ['-c', 'tar -cpf - -C "$1" . | zstd -q -1 -c > "$2"', 'sh', clone, file])
  await fs.rm(clone, { recursive: true, force: true })
  return (await fs.stat(file)).size
}

/** The server's address under the name only the proxy resolves. */
function viaName(serverUrl: string): string {
  const url = new URL(serverUrl)
  return `${url.protocol}//${HOST}:${url.port}`
}

function restore(
  serverUrl: string,
  env: Record<string, string>,
  inputs: Record<string, string> = {}
): Promise<ActionRun> {
  return runAction({
    inputs: {
      'server-url': viaName(serverUrl),
      repository: mirror.upstreamUrl,
      authorization: AUTHORIZATION,
      ...inputs
    },
    env: { GITHUB_SHA: head, GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push', ...env }
  })
}

/** A proxy's log lines for the server's host:port, written since `before` lines were there. */
async function linesFor(
  serverUrl: string,
  before: number,
  through: ForwardProxy = proxy
): Promise<string[]> {
  const target = `${HOST}:${new URL(serverUrl).port}`
  return (await through.log()).slice(before).filter(line => line.includes(target))
}

async function expectRestoredAt(run: ActionRun, commit: string): Promise<void> {
  expect(visibleLog(run)).not.toMatch(/::error::/)
  expect(run.exitCode).toBe(0)
  expect(run.outputs['commit']).toBe(commit)
  expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(commit)
  expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
}

/** The secret stays out of the action's log and the proxy's access log. */
async function expectSecretKept(run: ActionRun, through: ForwardProxy): Promise<void> {
  expect(visibleLog(run) + run.summary).not.toContain(SECRET)
  expect((await through.log()).join('\n')).not.toContain(SECRET)
}

function expectOneClearError(run: ActionRun, pattern: RegExp): void {
  expect(run.exitCode).toBe(1)
  const errors = run.stdout.split('\n').filter(line => line.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(pattern)
  // An expected failure is its message, not a stack trace.
  expect(visibleLog(run)).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

/** Lines of squid's access log for one request: its method and absolute URL, path prefix. */
function forwarded(lines: string[], method: string, url: string): boolean {
  return lines.some(line => line.includes(` ${method} ${url}`))
}

describe('an http server through http_proxy, behind a stock squid (CONNECT to 443 only)', () => {
  it.each(['http_proxy', 'HTTP_PROXY'])(
    'restores through %s: the action forwards absolute-form requests, as git does, never CONNECT',
    async variable => {
      server.resetStats()
      const before = (await stock.log()).length
      const run = await restore(server.url, { [variable]: stock.url })
      await expectRestoredAt(run, head)

      const lines = await linesFor(server.url, before, stock)
      const repo = `http://${HOST}:${new URL(server.url).port}/git/github.example/acme/widgets/`
      // The action's own requests (snapshot, ensure-refs) and git's, all forwarded.
      expect(forwarded(lines, 'GET', `${repo}snapshot.tar.zst`)).toBe(true)
      expect(forwarded(lines, 'POST', `${repo}ensure-refs`)).toBe(true)
      expect(forwarded(lines, 'GET', `${repo}info/refs`)).toBe(true)
      expect(forwarded(lines, 'POST', `${repo}git-upload-pack `)).toBe(true)
      expect(lines.filter(line => / CONNECT /.test(line))).toEqual([])
      expect(lines.every(line => / TCP_MISS\/20[06] /.test(line))).toBe(true)

      await server.idle()
      const endpoints = new Set(server.requests.map(request => request.endpoint))
      expect([...endpoints].sort()).toEqual(
        ['ensure-refs', 'git-upload-pack', 'info/refs', 'snapshot.tar.zst'].sort()
      )
      expect(server.requests.every(request => request.authorization === 'correct')).toBe(true)
      await expectSecretKept(run, stock)
    }
  )

  it('sends the credentials in http_proxy as Proxy-Authorization, never showing them', async () => {
    server.resetStats()
    const before = (await guarded.log()).length
    const url = new URL(guarded.url)
    url.username = PROXY_USER
    url.password = encodeURIComponent(PROXY_PASSWORD)
    const run = await restore(server.url, { http_proxy: url.href })
    await expectRestoredAt(run, head)
    const lines = await linesFor(server.url, before, guarded)
    expect(forwarded(lines, 'GET', `http://${HOST}:`)).toBe(true)
    // squid checked the user on every request it let through, the action's and git's alike.
    const passed = lines.filter(line => / TCP_MISS\//.test(line))
    expect(passed.length).toBeGreaterThan(0)
    expect(passed.every(line => line.includes(` ${PROXY_USER} HIER_DIRECT/`))).toBe(true)
    // The action sends them up front; git (libcurl) asks without them first, then with them.
    const refused = lines.filter(line => / TCP_DENIED\/407 /.test(line))
    expect(refused.every(line => line.includes('/info/refs'))).toBe(true)
    expect(visibleLog(run) + run.summary).not.toContain(PROXY_PASSWORD)
    expect(visibleLog(run)).not.toContain(encodeURIComponent(PROXY_PASSWORD))
    await server.idle()
    expect(server.requests.some(request => 'proxy-authorization' in request.headers)).toBe(false)
  })

  it('fails with one clear message naming the route: no_proxy/NO_PROXY exempting the host, the proxy down, or wanting credentials', async () => {
    server.resetStats()
    const before = (await stock.log()).length
    const downPort = await freePort()
    // All at once: the proxy-down run spends the retries (about 25 s) waiting; a name that
    // does not resolve, or a proxy that wants credentials, fails at once.
    const [lower, upper, down, unauthorized] = await Promise.all([
      restore(server.url, { http_proxy: stock.url, no_proxy: HOST }),
      restore(server.url, { http_proxy: stock.url, NO_PROXY: HOST }),
      restore(server.url, { http_proxy: `http://127.0.0.1:${downPort}` }),
      restore(server.url, { http_proxy: guarded.url })
    ])
    // Exempt, the action goes direct, where only the proxy could have resolved the name.
    for (const run of [lower, upper]) {
      expectOneClearError(
        run,
        new RegExp(
          `network error talking to ${HOST}:\\d+ directly \\(exempt from http_proxy.*\\): ` +
            'the host name does not resolve \\(ENOTFOUND\\); check server-url$'
        )
      )
      expect(run.stdout).not.toContain('gave up after')
    }
    expectOneClearError(
      down,
      new RegExp(
        `network error talking to ${HOST}:\\d+ through the proxy 127\\.0\\.0\\.1:${downPort} ` +
          `\\(from http_proxy\\): could not reach the proxy \\(connect ECONNREFUSED`
      )
    )
    const guardedHost = new URL(guarded.url).host.replace(/\./g, '\\.')
    expectOneClearError(
      unauthorized,
      new RegExp(
        `network error talking to ${HOST}:\\d+ through the proxy ${guardedHost} \\(from ` +
          'http_proxy\\): the proxy answered HTTP 407 itself \\(ERR_CACHE_ACCESS_DENIED 0\\): ' +
          `it wants credentials, as http://USER:PASSWORD@${guardedHost} in http_proxy$`
      )
    )
    expect(unauthorized.stdout).not.toContain('gave up after')
    for (const run of [lower, upper, down, unauthorized]) {
      expect(visibleLog(run)).not.toContain(SECRET)
    }
    expect(await linesFor(server.url, before, stock)).toEqual([])
    expect(server.requests).toEqual([])
  })
})

describe('an https server through https_proxy', () => {
  it.each(['https_proxy', 'HTTPS_PROXY'])(
    'restores through %s, trusting the server by NODE_EXTRA_CA_CERTS (git: GIT_SSL_CAINFO)',
    async variable => {
      tlsServer.resetStats()
      const before = (await proxy.log()).length
      const run = await restore(tlsServer.url, {
        [variable]: proxy.url,
        NODE_EXTRA_CA_CERTS: certificate,
        GIT_SSL_CAINFO: certificate
      })
      await expectRestoredAt(run, head)
      const lines = await linesFor(tlsServer.url, before)
      // Everything is tunnelled, git included: the proxy sees CONNECT lines only.
      expect(lines.length).toBeGreaterThan(0)
      expect(
        lines.every(line => / TCP_TUNNEL\/200 .* CONNECT cachew\.proxy\.test:\d+ /.test(line))
      ).toBe(true)
      await tlsServer.idle()
      const endpoints = new Set(tlsServer.requests.map(request => request.endpoint))
      expect(endpoints).toContain('snapshot.tar.zst')
      expect(endpoints).toContain('git-upload-pack')
      await expectSecretKept(run, proxy)
      // Over TLS nothing the proxy sees of this server's traffic carries the secret, git's
      // requests included (over http the requests are forwarded, headers and all).
      const target = `${HOST}:${new URL(tlsServer.url).port}`
      const seen = (await proxy.requestHeaders()).filter(line => line.includes(target))
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.every(line => line.startsWith('CONNECT '))).toBe(true)
      expect(seen.join('\n')).not.toContain(SECRET)
    }
  )

  it('keeps tunnels alive: a download of a dozen chunks, 4 at a time, takes at most 6 CONNECTs', async () => {
    const concurrency = 4
    const chunks = Math.ceil(largeSize / MiB)
    expect(chunks).toBeGreaterThanOrEqual(10)
    tlsServer.resetStats()
    const target = `${HOST}:${new URL(tlsServer.url).port}`
    const before = (await proxy.requestHeaders()).length
    const run = await restore(
      tlsServer.url,
      { https_proxy: proxy.url, NODE_EXTRA_CA_CERTS: certificate, GIT_SSL_CAINFO: certificate },
      {
        repository: LARGE_UPSTREAM,
        'download-chunk-size-mb': '1',
        'download-concurrency': String(concurrency)
      }
    )
    await expectRestoredAt(run, head)
    await tlsServer.idle()
    const gets = tlsServer.requests.filter(
      request => request.endpoint === 'snapshot.tar.zst' && request.method === 'GET'
    )
    expect(gets.length).toBeGreaterThanOrEqual(chunks)
    // The action's CONNECTs (git's carry git's User-Agent): one per kept-alive connection
    // (download-concurrency of them, the discovery request's reused) and one for ensure-refs.
    // Measured: 5 (12 snapshot GETs over 4 tunnels, and ensure-refs); with the toolkit's
    // agents, one per request: 13.
    const connects = (await proxy.requestHeaders())
      .slice(before)
      .filter(line => line.startsWith(`CONNECT ${target} `) && !/User-Agent: git\//.test(line))
    expect(connects.length).toBeGreaterThan(0)
    expect(connects.length).toBeLessThanOrEqual(concurrency + 2)
    // On the server's side, the snapshot's GETs came over as few TLS connections.
    expect(new Set(gets.map(request => request.connection)).size).toBeLessThanOrEqual(concurrency)
  })
})
