/**
 * The runner's proxy variables, end to end on dist/index.js through a real squid. The server
 * is addressed as cachew.proxy.test, a name only the proxy can resolve (from its own hosts
 * file): a restore that succeeds went through the proxy, every request of it, the action's
 * own and git's; one that bypasses the proxy cannot even find the host. (A loopback name would
 * prove nothing: loopback hosts are never proxied.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { addCommit, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { startProxy, type ForwardProxy } from './support/proxy.js'
import { runAction, visibleLog, type ActionRun } from './support/run-action.js'
import { git } from './support/tree.js'
import { freePort } from './support/daemon.js'

const HOST = 'cachew.proxy.test'
const SECRET = 'proxy-test-s3cret'
const AUTHORIZATION = `Bearer ${SECRET}`

let root: string
let mirror: Mirror
let head: string // main, one past the snapshot: reached by a git fetch through cachew
let server: CachewServer
let tlsServer: CachewServer
let certificate: string
let proxy: ForwardProxy

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-proxy-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 40, commits: 2 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  head = await addCommit(mirror, 'after the snapshot')
  // No bundle: reaching `head` takes ensure-refs and a git fetch, so git's traffic is tested too.
  const entry = { file: snapshot.file, commit: snapshot.commit }
  server = await startCachewServer({ requireAuthorization: AUTHORIZATION })
  server.addRepository(mirror.upstreamUrl, entry, mirror)
  const identity = await selfSignedIdentity(path.join(root, 'tls'), HOST)
  certificate = identity.certFile
  tlsServer = await startCachewServer({ requireAuthorization: AUTHORIZATION }, 0, identity)
  tlsServer.addRepository(mirror.upstreamUrl, entry, mirror)
  proxy = await startProxy({ hosts: { [HOST]: '127.0.0.1' } })
})

afterAll(async () => {
  await proxy?.stop()
  await server?.close()
  await tlsServer?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/** A throwaway key and self-signed certificate for `host`, made by openssl. */
async function selfSignedIdentity(dir: string, host: string) {
  await fs.mkdir(dir)
  const keyFile = path.join(dir, 'key.pem')
  const certFile = path.join(dir, 'cert.pem')
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${host}`,
    '-addext',
    `subjectAltName=DNS:${host}`,
    '-keyout',
    keyFile,
    '-out',
    certFile
  ])
  const [key, cert] = await Promise.all([fs.readFile(keyFile), fs.readFile(certFile)])
  return { key, cert, certFile }
}

/** The server's address under the name only the proxy resolves. */
function viaName(serverUrl: string): string {
  const url = new URL(serverUrl)
  return `${url.protocol}//${HOST}:${url.port}`
}

function restore(serverUrl: string, env: Record<string, string>): Promise<ActionRun> {
  return runAction({
    inputs: {
      'server-url': viaName(serverUrl),
      repository: mirror.upstreamUrl,
      authorization: AUTHORIZATION
    },
    env: { GITHUB_SHA: head, GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push', ...env }
  })
}

/** Proxy log lines for the server's host:port, written since `before` lines were there. */
async function linesFor(serverUrl: string, before: number): Promise<string[]> {
  const target = `${HOST}:${new URL(serverUrl).port}`
  return (await proxy.log()).slice(before).filter(line => line.includes(target))
}

async function expectRestoredAt(run: ActionRun, commit: string): Promise<void> {
  expect(visibleLog(run)).not.toMatch(/::error::/)
  expect(run.exitCode).toBe(0)
  expect(run.outputs['commit']).toBe(commit)
  expect(await git(run.workspace, 'rev-parse', 'HEAD')).toBe(commit)
  expect(await git(run.workspace, 'status', '--porcelain')).toBe('')
}

/**
 * The secret stays out of the action's log, the proxy's log and the CONNECT requests: the
 * action's requests carry it only inside the tunnel.
 */
async function expectSecretKept(run: ActionRun): Promise<void> {
  expect(visibleLog(run) + run.summary).not.toContain(SECRET)
  expect((await proxy.log()).join('\n')).not.toContain(SECRET)
  const connects = (await proxy.requestHeaders()).filter(line => line.startsWith('CONNECT '))
  expect(connects.length).toBeGreaterThan(0)
  expect(connects.join('\n')).not.toContain(SECRET)
}

function expectOneClearError(run: ActionRun, pattern: RegExp): void {
  expect(run.exitCode).toBe(1)
  const errors = run.stdout.split('\n').filter(line => line.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(pattern)
  // An expected failure is its message, not a stack trace.
  expect(visibleLog(run)).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

describe('an http server through http_proxy', () => {
  it.each(['http_proxy', 'HTTP_PROXY'])(
    'restores through %s: the action tunnels, git goes through the same proxy',
    async variable => {
      server.resetStats()
      const before = (await proxy.log()).length
      const run = await restore(server.url, { [variable]: proxy.url })
      await expectRestoredAt(run, head)

      const lines = await linesFor(server.url, before)
      const port = new URL(server.url).port
      // The action's own requests (snapshot, ensure-refs): CONNECT tunnels, as http-client does.
      expect(
        lines.some(line => / TCP_TUNNEL\/200 .* CONNECT cachew\.proxy\.test:\d+ /.test(line))
      ).toBe(true)
      // git (libcurl) forwards plain http requests through the proxy instead of tunnelling.
      const gitUrl = `http://${HOST}:${port}/git/github.example/acme/widgets/`
      expect(lines.some(line => line.includes(` GET ${gitUrl}info/refs`))).toBe(true)
      expect(lines.some(line => line.includes(` POST ${gitUrl}git-upload-pack `))).toBe(true)

      await server.idle()
      const endpoints = new Set(server.requests.map(request => request.endpoint))
      expect([...endpoints].sort()).toEqual(
        ['ensure-refs', 'git-upload-pack', 'info/refs', 'snapshot.tar.zst'].sort()
      )
      expect(server.requests.every(request => request.authorization === 'correct')).toBe(true)
      await expectSecretKept(run)
    }
  )

  it('fails with one clear message naming the route: no_proxy/NO_PROXY exempting the host, or the proxy down', async () => {
    server.resetStats()
    const before = (await proxy.log()).length
    const downPort = await freePort()
    // All at once: the proxy-down run spends the retries (about 25 s) waiting; a name that
    // does not resolve fails at once.
    const [lower, upper, down] = await Promise.all([
      restore(server.url, { http_proxy: proxy.url, no_proxy: HOST }),
      restore(server.url, { http_proxy: proxy.url, NO_PROXY: HOST }),
      restore(server.url, { http_proxy: `http://127.0.0.1:${downPort}` })
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
    for (const run of [lower, upper, down]) expect(visibleLog(run)).not.toContain(SECRET)
    expect(await linesFor(server.url, before)).toEqual([])
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
      // Everything is tunnelled now, git included: the proxy sees CONNECT lines only.
      expect(lines.length).toBeGreaterThan(0)
      expect(
        lines.every(line => / TCP_TUNNEL\/200 .* CONNECT cachew\.proxy\.test:\d+ /.test(line))
      ).toBe(true)
      await tlsServer.idle()
      const endpoints = new Set(tlsServer.requests.map(request => request.endpoint))
      expect(endpoints).toContain('snapshot.tar.zst')
      expect(endpoints).toContain('git-upload-pack')
      await expectSecretKept(run)
      // Over TLS nothing the proxy sees of this server's traffic carries the secret, git's
      // requests included (over http git's are forwarded, headers and all).
      const target = `${HOST}:${new URL(tlsServer.url).port}`
      const seen = (await proxy.requestHeaders()).filter(line => line.includes(target))
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.join('\n')).not.toContain(SECRET)
    }
  )
})
