/**
 * A cachew-compatible HTTP server on 127.0.0.1 for tests, the demo and the benchmark, with
 * fault injection. It speaks the protocol in the project's PROTOCOL notes:
 *
 *   const server = await startCachewServer(options?, port = 0)   // listens on 127.0.0.1
 *   const secure = await startCachewServer({}, 0, { key, cert })  // https, with that identity
 *   server.addRepository(mirror.upstreamUrl, { file, commit, bundleBase: commit }, mirror)
 *   snapshotUrl(server.url, mirror.upstreamUrl) // …/git/github.example/acme/widgets/snapshot.tar.zst
 *   server.setOptions({ faults: { resetAfterBytes: { bytes: 1 << 20, times: 1 } } })
 *   await server.idle()  // then: server.requests (method, path, status, bytes, timing, fault),
 *                        //       server.maxInFlight, server.faultsFired
 *   server.resetStats()  // clears those three
 *   await server.close()
 *
 * Endpoints under /git/HOST/OWNER/REPO/ (a trailing .git on REPO is ignored):
 * - snapshot.tar.zst (GET, HEAD): the entry's file streamed from disk with a strong ETag
 *   (changes when the file changes or the snapshot is "regenerated" by a fault),
 *   Accept-Ranges, Content-Length, Content-Type application/zstd, X-Cachew-Snapshot-Commit and,
 *   when `bundleBase` is set, X-Cachew-Bundle-Url (root-relative) on 200 and 206 alike.
 *   If-Match (412) and If-None-Match (304) are evaluated before Range; If-Range is honoured;
 *   `bytes=S-E`, `bytes=S-` and `bytes=-N` give 206, an unsatisfiable range 416 with
 *   `Content-Range: bytes *\/TOTAL`, a malformed one 416 (as Go's http.ServeContent does),
 *   several ranges at once the whole body (multipart answers are not implemented).
 *   HEAD answers from metadata only (no bundle header, Range ignored), 404 when cold.
 * - snapshot.bundle?base=SHA (GET, HEAD): `git bundle create F refs/heads/main ^base` in the
 *   mirror, cached per (base, head): 200 application/x-git-bundle with ETag and Range support,
 *   204 when the mirror is at base, 404 when base is unknown or not an ancestor of main (or no
 *   mirror was given), 400 when base is missing or not 40 hex digits.
 * - lfs-snapshot.tar.zst (GET, HEAD): the entry's `lfsFile` (a zstd tar of `./lfs/...` made from
 *   a `.git`, as cachew makes it) with ETag and Range support like the bundle; 404 when the entry
 *   has none. With `lfsUrlHeader`, snapshot responses announce it in X-Cachew-Lfs-Snapshot-Url
 *   (root-relative; a string there is sent verbatim instead).
 * - Git LFS's own API (…/info/lfs/objects/batch) is not served: 404, as from a cachew that
 *   serves only git's protocol, so git-lfs clients fall back to the upstream host.
 * - ensure-refs (POST): computed from the bare mirror; like the real server, each requested ref
 *   maps to its SHA ('' when missing), `missing_commits` is omitted when empty and `fetched`
 *   is always false (there is no upstream to fetch from).
 * - info/refs?service=git-upload-pack, git-upload-pack: `git http-backend` run as a CGI on the
 *   bare mirror (gzip request bodies and protocol v2 pass through; reachable SHAs may be
 *   wanted, as on GitHub). Clients route git here with
 *   `git -c url.{server}/git/HOST/.insteadOf=https://HOST/ ...`.
 *
 * ServerOptions (replace all at once with setOptions, which also re-arms fault counts):
 * - requireAuthorization: the exact Authorization value every endpoint requires; 401 without
 *   one, 403 with another. The log records only absent/present/correct/wrong, never the value.
 * - coldServe: snapshot GETs stream with no ETag, no Content-Length (chunked), no commit or
 *   bundle header, Range and conditionals ignored; HEAD is 404 (nothing cached).
 * - noRangeSupport: an old server: ETag and Content-Length, no Accept-Ranges, Range ignored.
 *
 * Faults apply to snapshot.tar.zst GETs only (the rate limit also to bundle bodies). Each
 * counts only when it actually fires (e.g. a reset at N bytes fires only on a body longer than
 * N) and switches itself off after its count; `faultsFired` tells a test what happened.
 * - resetAfterBytes {bytes, times}: send `bytes` body bytes, then destroy the socket.
 * - stallAfterBytes {bytes, ms, times}: send `bytes` body bytes, then send nothing for `ms`.
 * - ignoreRangeEvery N: every Nth honoured ranged GET answers 200 with the whole body.
 * - overlongBodyOnce: one ranged response past offset 0 writes 4 KiB of garbage on the raw
 *   socket after its honest body (headers say Connection: close), so the client sees more bytes
 *   than Content-Length and Content-Range promise.
 * - overlongContentLengthOnce: one ranged response past offset 0 has a Content-Length (and a
 *   body) 4 KiB longer than its Content-Range: well-formed HTTP, wrong range.
 * - shortBodyOnce: one ranged response past offset 0 sends half its range, with an honest
 *   (short) Content-Length: well-formed HTTP, wrong range.
 * - truncatedBodyOnce: one ranged response past offset 0 declares its full range but the
 *   connection is closed (FIN, not reset) after half of it.
 * - etagChangeAfterRequests N: snapshot requests after the Nth see a new ETag ("regenerated"
 *   snapshot, same bytes); If-Match on the old one gives 412. Happens once.
 * - maxConcurrent {limit, retryAfterSeconds}: a snapshot GET arriving while `limit` are being
 *   served gets 503 with Retry-After.
 * - rateLimitBytesPerSecond: each response body is paced to this rate (a connection carries one
 *   response at a time, so this is a per-connection throttle).
 * - statusFor {status, times?, retryAfterSeconds?}: snapshot GETs get this status (with
 *   Retry-After when given), the first `times` of them (default: all).
 * - gitRateLimitBytesPerSecond: each git-upload-pack response body (the pack a fetch receives)
 *   is paced to this rate: a slow fetch.
 * - gitStatusFor {status, times?, retryAfterSeconds?, endpoints?}: requests to the git traffic's
 *   endpoints (`endpoints`, default all of ensure-refs, info/refs and git-upload-pack) get this
 *   status (with Retry-After when given), the first `times` of them (default: all).
 * - gitResetAfterBytes {bytes, times}: a git-upload-pack response body longer than `bytes` is
 *   cut there by destroying the socket (what a fetch sees as "early EOF"), `times` times.
 *
 * maxInFlight counts every snapshot GET in flight at once, including those refused with 503,
 * so it measures the client's concurrency.
 */
import { createHash } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { Transform } from 'node:stream'
import { execTool, type Mirror } from './fixtures.js'

export interface Faults {
  resetAfterBytes?: { bytes: number; times: number }
  stallAfterBytes?: { bytes: number; ms: number; times: number }
  ignoreRangeEvery?: number
  overlongBodyOnce?: boolean
  overlongContentLengthOnce?: boolean
  shortBodyOnce?: boolean
  truncatedBodyOnce?: boolean
  etagChangeAfterRequests?: number
  maxConcurrent?: { limit: number; retryAfterSeconds: number }
  rateLimitBytesPerSecond?: number
  statusFor?: { status: number; times?: number; retryAfterSeconds?: number }
  gitRateLimitBytesPerSecond?: number
  gitStatusFor?: {
    status: number
    times?: number
    retryAfterSeconds?: number
    endpoints?: GitEndpoint[]
  }
  gitResetAfterBytes?: { bytes: number; times: number }
}

/** The endpoints of git traffic through cachew, which the git faults apply to. */
export type GitEndpoint = 'ensure-refs' | 'info/refs' | 'git-upload-pack'

export type FaultName = keyof Faults

export interface SnapshotEntry {
  /** The snapshot file on disk (any bytes: the server never looks inside). */
  file: string
  /** Sent as X-Cachew-Snapshot-Commit. */
  commit?: string
  /** When set, snapshot responses carry X-Cachew-Bundle-Url for base=this SHA. */
  bundleBase?: string
  /** Makes that URL absolute on this origin (e.g. http://localhost:PORT); root-relative when unset. */
  bundleOrigin?: string
  /** The LFS snapshot served at lfs-snapshot.tar.zst (404 without one). */
  lfsFile?: string
  /** Announce the LFS snapshot with X-Cachew-Lfs-Snapshot-Url: true (root-relative) or this value. */
  lfsUrlHeader?: boolean | string
}

export interface ServerOptions {
  requireAuthorization?: string
  coldServe?: boolean
  noRangeSupport?: boolean
  faults?: Faults
}

export interface LoggedRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  endpoint?: string
  /** Request headers; an Authorization value is replaced by '[redacted]'. */
  headers: Record<string, string | undefined>
  authorization: 'absent' | 'present' | 'correct' | 'wrong'
  status: number
  /** Body bytes written (raw extra bytes included). */
  bytesSent: number
  startedAt: number
  endedAt?: number
  /** The response was cut off (client gone, socket destroyed or closed early). */
  aborted: boolean
  /** The fault injected into this response, if any. */
  fault?: FaultName
  /** Which connection carried it (1, 2, ...), to tell reuse from new connections. */
  connection: number
}

/** A key and certificate (PEM) for serving https. */
export interface TlsIdentity {
  key: string | Buffer
  cert: string | Buffer
}

export interface CachewServer {
  /** http://127.0.0.1:PORT (https:// when started with a TLS identity) */
  url: string
  requests: LoggedRequest[]
  maxInFlight: number
  faultsFired: Partial<Record<FaultName, number>>
  addRepository(upstreamUrl: string, snapshot: SnapshotEntry, mirror?: Mirror): void
  setOptions(options: ServerOptions): void
  /** Clears the request log, maxInFlight and faultsFired. */
  resetStats(): void
  /**
   * Resolves once no request is being handled. A client can see a whole body before the server
   * has closed its side, so check `requests` only after this.
   */
  idle(): Promise<void>
  close(): Promise<void>
}

/** 'HOST/OWNER/REPO' for an upstream URL: leading '/' and trailing '.git' stripped. */
export function cachewRepoPath(upstreamUrl: string): string {
  const url = new URL(upstreamUrl)
  const repoPath = url.pathname
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
  if (!url.host || !repoPath) throw new Error(`not a repository URL: ${upstreamUrl}`)
  return `${url.host}/${repoPath}`
}

/** The snapshot URL a client asks for (also the path to put a file under for nginx). */
export function snapshotUrl(serverUrl: string, upstreamUrl: string): string {
  return `${serverUrl.replace(/\/+$/, '')}/git/${cachewRepoPath(upstreamUrl)}/snapshot.tar.zst`
}

export async function startCachewServer(
  options: ServerOptions = {},
  port = 0,
  tls?: TlsIdentity
): Promise<CachewServer> {
  const server = new TestCachewServer(options, tls)
  await server.listen(port)
  return server
}

// ------------------------------------------------------------------ internals

const ENDPOINTS = [
  'snapshot.tar.zst',
  'lfs-snapshot.tar.zst',
  'snapshot.bundle',
  'ensure-refs',
  'info/refs',
  'git-upload-pack'
] as const
type Endpoint = (typeof ENDPOINTS)[number]

const GARBAGE = Buffer.alloc(4096, 0xa5)
const SHA_PATTERN = /^[0-9a-f]{40}$/
const MAX_JSON_BODY = 1 << 20

interface Repository {
  repoPath: string
  snapshot: SnapshotEntry
  mirror?: Mirror
}

/** Per-request state threaded through the handlers. */
interface Exchange {
  req: http.IncomingMessage
  res: http.ServerResponse
  log: LoggedRequest
  query: URLSearchParams
}

/** What to do to one response body. Offsets count body bytes from the start of the body. */
interface BodyPlan {
  /** Destroy the socket after this many bytes. */
  resetAt?: number
  stall?: { at: number; ms: number }
  /** Send only this many bytes, with a Content-Length that says so. */
  shortAt?: number
  /** Declare the whole body, but close the connection (FIN) after this many bytes. */
  truncateAt?: number
  /** Written on the raw socket after the body. */
  rawExtra?: Buffer
  /** Appended to the body and counted in Content-Length. */
  trailingGarbage?: Buffer
}

type Range = { start: number; end: number }
type RangeResult = Range | 'unsatisfiable' | 'ignored'

class ClientGone extends Error {}

class TestCachewServer implements CachewServer {
  url = ''
  requests: LoggedRequest[] = []
  maxInFlight = 0
  faultsFired: Partial<Record<FaultName, number>> = {}

  private readonly http: http.Server | https.Server
  private readonly scheme: 'http' | 'https'
  private readonly repositories = new Map<string, Repository>()
  private options: ServerOptions
  private readonly closing = new AbortController()
  private readonly sockets = new Map<Socket, number>()
  private readonly children = new Set<ChildProcess>()
  private readonly bundles = new Map<string, Promise<string>>()
  private scratchDir?: string
  private connections = 0
  // Fault state (reset by setOptions).
  private snapshotRequests = 0
  private rangedGets = 0
  private generation = 0
  private regenerated = false
  private oneShotUsed = false
  private statusAnswered = 0
  private gitStatusAnswered = 0
  /** Fires since the last setOptions: what `times` counts against (faultsFired is a report). */
  private firedSinceOptions: Partial<Record<FaultName, number>> = {}
  // Load state.
  private inFlight = 0
  private admitted = 0
  private active = 0
  private idleWaiters: (() => void)[] = []

  constructor(options: ServerOptions, tls?: TlsIdentity) {
    this.options = options
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch(error => this.failRequest(res, error))
    }
    this.http = tls ? https.createServer(tls, handler) : http.createServer(handler)
    this.scheme = tls ? 'https' : 'http'
    // Over TLS a request's socket is the TLS socket, not the TCP one under it.
    this.http.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.sockets.set(socket, ++this.connections)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  async listen(port: number): Promise<void> {
    this.scratchDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cachew-server-'))
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject)
      this.http.listen(port, '127.0.0.1', () => resolve())
    })
    const address = this.http.address() as AddressInfo
    this.url = `${this.scheme}://127.0.0.1:${address.port}`
  }

  addRepository(upstreamUrl: string, snapshot: SnapshotEntry, mirror?: Mirror): void {
    const repoPath = cachewRepoPath(upstreamUrl)
    this.repositories.set(repoPath, { repoPath, snapshot, mirror })
  }

  setOptions(options: ServerOptions): void {
    this.options = options
    this.snapshotRequests = 0
    this.rangedGets = 0
    this.regenerated = false
    this.oneShotUsed = false
    this.statusAnswered = 0
    this.gitStatusAnswered = 0
    this.firedSinceOptions = {}
  }

  resetStats(): void {
    this.requests = []
    this.maxInFlight = this.inFlight
    this.faultsFired = {}
  }

  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve()
    return new Promise(resolve => this.idleWaiters.push(resolve))
  }

  async close(): Promise<void> {
    this.closing.abort()
    for (const child of this.children) child.kill('SIGKILL')
    const closed = new Promise<void>(resolve => this.http.close(() => resolve()))
    this.http.closeAllConnections()
    for (const socket of this.sockets.keys()) socket.destroy()
    await closed
    if (this.scratchDir) await fsp.rm(this.scratchDir, { recursive: true, force: true })
  }

  // ---------------------------------------------------------------- routing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const exchange = this.startExchange(req, res)
    if (!this.authorize(exchange)) return
    const route = parseRoute(exchange.log.path)
    const repository = route && this.repositories.get(route.repoPath)
    if (!route || !repository) return sendText(exchange, 404, 'repository not found\n')
    exchange.log.endpoint = route.endpoint
    exchange.query = route.query
    switch (route.endpoint) {
      case 'snapshot.tar.zst':
        return this.serveSnapshot(exchange, repository)
      case 'snapshot.bundle':
        return this.serveBundle(exchange, repository)
      case 'lfs-snapshot.tar.zst':
        return this.serveLfsSnapshot(exchange, repository)
      case 'ensure-refs':
        if (this.answerInjectedGitStatus(exchange, route.endpoint)) return
        return this.ensureRefs(exchange, repository)
      case 'info/refs':
      case 'git-upload-pack':
        if (this.answerInjectedGitStatus(exchange, route.endpoint)) return
        return this.serveGit(exchange, repository, route.endpoint)
    }
  }

  private startExchange(req: http.IncomingMessage, res: http.ServerResponse): Exchange {
    const headers: Record<string, string | undefined> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    if (headers.authorization !== undefined) headers.authorization = '[redacted]'
    const log: LoggedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      authorization: 'absent',
      status: 0,
      bytesSent: 0,
      startedAt: Date.now(),
      aborted: false,
      connection: this.sockets.get(req.socket) ?? 0
    }
    this.requests.push(log)
    this.active++
    res.on('close', () => {
      log.status = res.statusCode
      log.endedAt = Date.now()
      // writableEnded, not writableFinished: a client that has every byte may close first.
      if (!res.writableEnded) log.aborted = true
      if (--this.active === 0) this.idleWaiters.splice(0).forEach(resolve => resolve())
    })
    return { req, res, log, query: new URLSearchParams() }
  }

  private authorize(exchange: Exchange): boolean {
    const required = this.options.requireAuthorization
    const given = exchange.req.headers.authorization
    const { log } = exchange
    if (given === undefined) log.authorization = 'absent'
    else if (required === undefined) log.authorization = 'present'
    else log.authorization = given === required ? 'correct' : 'wrong'
    if (required === undefined || given === required) return true
    if (given === undefined) {
      exchange.res.setHeader('WWW-Authenticate', 'Bearer realm="cachew"')
      sendText(exchange, 401, 'authorization required\n')
    } else {
      sendText(exchange, 403, 'forbidden\n')
    }
    return false
  }

  private failRequest(res: http.ServerResponse, error: unknown): void {
    if (error instanceof ClientGone) return
    if (!res.headersSent) {
      res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`)
    } else {
      res.destroy()
    }
  }

  // ---------------------------------------------------------------- snapshot

  private async serveSnapshot(exchange: Exchange, repository: Repository): Promise<void> {
    const { req, res } = exchange
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(exchange, 'GET, HEAD')
    this.countSnapshotRequest()
    const stat = await statFile(repository.snapshot.file)
    if (req.method === 'HEAD') return this.serveSnapshotHead(exchange, repository, stat)
    if (!stat) return sendText(exchange, 404, 'snapshot not available\n')

    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    res.on('close', () => this.inFlight--)
    if (this.answerInjectedStatus(exchange)) return
    if (this.refuseAboveConcurrencyCap(exchange)) return
    this.admitted++
    res.on('close', () => this.admitted--)

    if (this.options.coldServe) return this.serveCold(exchange, repository.snapshot.file, stat.size)
    res.setHeader('Content-Type', 'application/zstd')
    if (repository.snapshot.commit) {
      res.setHeader('X-Cachew-Snapshot-Commit', repository.snapshot.commit)
    }
    if (repository.snapshot.bundleBase) {
      const base = encodeURIComponent(repository.snapshot.bundleBase)
      res.setHeader(
        'X-Cachew-Bundle-Url',
        `${repository.snapshot.bundleOrigin ?? ''}/git/${repository.repoPath}/snapshot.bundle?base=${base}`
      )
    }
    const lfsHeader = repository.snapshot.lfsUrlHeader
    if (lfsHeader) {
      res.setHeader(
        'X-Cachew-Lfs-Snapshot-Url',
        typeof lfsHeader === 'string'
          ? lfsHeader
          : `/git/${repository.repoPath}/lfs-snapshot.tar.zst`
      )
    }
    const etag = this.snapshotEtag(stat)
    await this.serveFile(exchange, repository.snapshot.file, stat.size, etag, true)
  }

  private async serveLfsSnapshot(exchange: Exchange, repository: Repository): Promise<void> {
    const { req, res } = exchange
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(exchange, 'GET, HEAD')
    const file = repository.snapshot.lfsFile
    const stat = file ? await statFile(file) : undefined
    if (!file || !stat) return sendText(exchange, 404, 'no LFS snapshot cached\n')
    res.setHeader('Content-Type', 'application/zstd')
    const etag = `"lfs-${stat.ino}-${stat.size}-${stat.mtimeNs}"`
    await this.serveFile(exchange, file, stat.size, etag, false)
  }

  private serveSnapshotHead(
    exchange: Exchange,
    repository: Repository,
    stat: FileStat | undefined
  ): void {
    const { req, res } = exchange
    if (!stat || this.options.coldServe) return sendText(exchange, 404, 'snapshot not cached\n')
    const etag = this.snapshotEtag(stat)
    res.setHeader('Content-Type', 'application/zstd')
    res.setHeader('ETag', etag)
    res.setHeader('Content-Length', stat.size)
    if (!this.options.noRangeSupport) res.setHeader('Accept-Ranges', 'bytes')
    if (repository.snapshot.commit) {
      res.setHeader('X-Cachew-Snapshot-Commit', repository.snapshot.commit)
    }
    res.statusCode = preconditionStatus(req, etag) ?? 200
    res.end()
  }

  private snapshotEtag(stat: FileStat): string {
    const identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${this.generation}`
    return `"${createHash('sha256').update(identity).digest('hex').slice(0, 32)}"`
  }

  private countSnapshotRequest(): void {
    this.snapshotRequests++
    const after = this.options.faults?.etagChangeAfterRequests
    if (after !== undefined && !this.regenerated && this.snapshotRequests > after) {
      this.regenerated = true
      this.generation++
      this.fired('etagChangeAfterRequests')
    }
  }

  private answerInjectedStatus(exchange: Exchange): boolean {
    const fault = this.options.faults?.statusFor
    if (!fault || (fault.times !== undefined && this.statusAnswered >= fault.times)) return false
    this.statusAnswered++
    this.fired('statusFor', exchange)
    if (fault.retryAfterSeconds !== undefined) {
      exchange.res.setHeader('Retry-After', String(fault.retryAfterSeconds))
    }
    sendText(exchange, fault.status, `injected status ${fault.status}\n`)
    return true
  }

  private answerInjectedGitStatus(exchange: Exchange, endpoint: GitEndpoint): boolean {
    const fault = this.options.faults?.gitStatusFor
    if (!fault || (fault.endpoints && !fault.endpoints.includes(endpoint))) return false
    if (fault.times !== undefined && this.gitStatusAnswered >= fault.times) return false
    this.gitStatusAnswered++
    this.fired('gitStatusFor', exchange)
    if (fault.retryAfterSeconds !== undefined) {
      exchange.res.setHeader('Retry-After', String(fault.retryAfterSeconds))
    }
    // The request body is not wanted; reading it lets the client finish sending.
    exchange.req.resume()
    sendText(exchange, fault.status, `injected status ${fault.status}\n`)
    return true
  }

  private refuseAboveConcurrencyCap(exchange: Exchange): boolean {
    const cap = this.options.faults?.maxConcurrent
    if (!cap || this.admitted < cap.limit) return false
    this.fired('maxConcurrent', exchange)
    exchange.res.setHeader('Retry-After', String(cap.retryAfterSeconds))
    sendText(exchange, 503, 'too many concurrent snapshot downloads\n')
    return true
  }

  private async serveCold(exchange: Exchange, file: string, size: number): Promise<void> {
    const { res } = exchange
    res.statusCode = 200
    res.setHeader('Content-Type', 'application/zstd')
    res.flushHeaders() // no Content-Length: Node streams it chunked, as a generating server does
    const plan = this.planBodyFaults(exchange, size, undefined)
    await this.sendBody(exchange, file, { start: 0, end: size - 1 }, plan)
  }

  // ---------------------------------------------------------------- files

  /**
   * Serves a file with conditionals, Range and (for snapshots) faults. Headers specific to
   * the endpoint (type, commit, bundle URL) are already set on the response.
   */
  private async serveFile(
    exchange: Exchange,
    file: string,
    size: number,
    etag: string,
    isSnapshot: boolean
  ): Promise<void> {
    const { req, res } = exchange
    res.setHeader('ETag', etag)
    const rangeSupported = !this.options.noRangeSupport
    if (rangeSupported) res.setHeader('Accept-Ranges', 'bytes')

    const precondition = preconditionStatus(req, etag)
    if (precondition) {
      res.removeHeader('X-Cachew-Bundle-Url')
      res.statusCode = precondition
      return void res.end()
    }

    const range = rangeSupported ? requestedRange(req, etag, size) : 'ignored'
    if (range === 'unsatisfiable') {
      res.removeHeader('X-Cachew-Bundle-Url')
      res.setHeader('Content-Range', `bytes */${size}`)
      return sendText(exchange, 416, 'range not satisfiable\n')
    }
    let served: Range = { start: 0, end: size - 1 }
    let partial = false
    if (range !== 'ignored') {
      if (isSnapshot) this.rangedGets++
      const every = isSnapshot ? this.options.faults?.ignoreRangeEvery : undefined
      if (every && this.rangedGets % every === 0) this.fired('ignoreRangeEvery', exchange)
      else {
        served = range
        partial = true
      }
    }

    const length = served.end - served.start + 1
    const plan = isSnapshot
      ? this.planBodyFaults(exchange, length, partial ? served : undefined)
      : {}
    res.statusCode = partial ? 206 : 200
    if (partial) res.setHeader('Content-Range', `bytes ${served.start}-${served.end}/${size}`)
    res.setHeader('Content-Length', declaredLength(length, plan))
    if (plan.rawExtra) res.setHeader('Connection', 'close')
    if (req.method === 'HEAD') return void res.end()
    await this.sendBody(exchange, file, served, plan)
  }

  /** Decides which faults hit this body and counts them as fired. */
  private planBodyFaults(exchange: Exchange, length: number, range: Range | undefined): BodyPlan {
    const faults = this.options.faults ?? {}
    const plan: BodyPlan = {}
    const reset = faults.resetAfterBytes
    if (reset && length > reset.bytes && this.firedCount('resetAfterBytes') < reset.times) {
      plan.resetAt = reset.bytes
      this.fired('resetAfterBytes', exchange)
    }
    const stall = faults.stallAfterBytes
    if (stall && length > stall.bytes && this.firedCount('stallAfterBytes') < stall.times) {
      plan.stall = { at: stall.bytes, ms: stall.ms }
      this.fired('stallAfterBytes', exchange)
    }
    if (range && range.start > 0 && length > 1 && !this.oneShotUsed) {
      this.planOneShotFault(exchange, faults, length, plan)
    }
    return plan
  }

  private planOneShotFault(exchange: Exchange, faults: Faults, length: number, plan: BodyPlan) {
    const half = Math.floor(length / 2)
    if (faults.overlongBodyOnce) {
      plan.rawExtra = GARBAGE
      this.fireOneShot('overlongBodyOnce', exchange)
    } else if (faults.overlongContentLengthOnce) {
      plan.trailingGarbage = GARBAGE
      this.fireOneShot('overlongContentLengthOnce', exchange)
    } else if (faults.shortBodyOnce) {
      plan.shortAt = half
      this.fireOneShot('shortBodyOnce', exchange)
    } else if (faults.truncatedBodyOnce) {
      plan.truncateAt = half
      this.fireOneShot('truncatedBodyOnce', exchange)
    }
  }

  private fireOneShot(name: FaultName, exchange: Exchange): void {
    this.oneShotUsed = true
    this.fired(name, exchange)
  }

  private fired(name: FaultName, exchange?: Exchange): void {
    this.faultsFired[name] = (this.faultsFired[name] ?? 0) + 1
    this.firedSinceOptions[name] = this.firedCount(name) + 1
    if (exchange) exchange.log.fault = name
  }

  private firedCount(name: FaultName): number {
    return this.firedSinceOptions[name] ?? 0
  }

  /**
   * Streams bytes [start, end] of the file, applying the plan: pauses, a socket destroy or an
   * early close at exact body offsets, trailing garbage, and the rate limit. Backpressure is
   * respected, so a slow client never makes the server buffer the file.
   */
  private async sendBody(exchange: Exchange, file: string, range: Range, plan: BodyPlan) {
    const { res, log } = exchange
    const length = range.end - range.start + 1
    const stopAt = Math.min(
      length,
      plan.resetAt ?? length,
      plan.shortAt ?? length,
      plan.truncateAt ?? length
    )
    const pacer = this.pacer()
    // A body that ends as planned goes out with res.end: a client with every byte may close at
    // once, and a response still open then would be logged as aborted.
    const endsPlainly =
      stopAt === length && plan.stall?.at !== length && !plan.trailingGarbage && !plan.rawExtra
    if (stopAt > 0) {
      const stream = fs.createReadStream(file, {
        start: range.start,
        end: range.start + stopAt - 1,
        highWaterMark: 64 * 1024
      })
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (const piece of splitAtStall(chunk, log.bytesSent, plan, pacer.pieceSize)) {
            const last = log.bytesSent + piece.length === stopAt
            await pacer.wait(log.bytesSent + piece.length)
            if (last && endsPlainly) {
              res.end(piece)
              log.bytesSent += piece.length
              return
            }
            await writePiece(res, piece, last)
            log.bytesSent += piece.length
            if (plan.stall && log.bytesSent === plan.stall.at) await this.sleep(plan.stall.ms)
          }
        }
      } finally {
        stream.destroy()
      }
    }
    if (plan.resetAt !== undefined) return void res.socket?.destroy()
    if (plan.truncateAt !== undefined) return void res.socket?.end()
    if (plan.trailingGarbage) {
      await writePiece(res, plan.trailingGarbage, false)
      log.bytesSent += plan.trailingGarbage.length
    }
    if (plan.rawExtra && res.socket) {
      res.socket.write(plan.rawExtra) // after the body on the wire; Node's framing never sees it
      log.bytesSent += plan.rawExtra.length
    }
    res.end()
  }

  private pacer(): { pieceSize: number; wait(sent: number): Promise<void> } {
    const rate = this.options.faults?.rateLimitBytesPerSecond
    const started = Date.now()
    if (!rate) return { pieceSize: Infinity, wait: async () => undefined }
    return {
      // Ten pieces a second keeps the pace smooth without a timer per few bytes.
      pieceSize: Math.max(1, Math.floor(rate / 10)),
      // Bytes go out only once earned, so no response beats the rate, not even its first piece.
      wait: async total => {
        const due = started + (total / rate) * 1000
        const now = Date.now()
        if (due > now) await this.sleep(due - now)
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      if (this.closing.signal.aborted) return resolve()
      const timer = setTimeout(done, ms)
      const signal = this.closing.signal
      function done(): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done)
    })
  }

  // ---------------------------------------------------------------- bundle

  private async serveBundle(exchange: Exchange, repository: Repository): Promise<void> {
    const { req, res, query } = exchange
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(exchange, 'GET, HEAD')
    const base = query.get('base')
    if (!base) return sendText(exchange, 400, 'missing base query parameter\n')
    if (!SHA_PATTERN.test(base)) return sendText(exchange, 400, 'base must be a full commit SHA\n')
    const mirror = repository.mirror
    if (!mirror) return sendText(exchange, 404, 'bundle not available: no mirror\n')

    const head = await mirrorHead(mirror.bareDir)
    if (head === base) {
      res.statusCode = 204
      return void res.end()
    }
    if (!(await isAncestor(mirror.bareDir, base, head))) {
      return sendText(exchange, 404, 'bundle not available: base unknown to the mirror\n')
    }
    const file = await this.bundleFile(repository, mirror, base, head)
    const stat = await statFile(file)
    if (!stat) return sendText(exchange, 404, 'bundle not available\n')
    res.setHeader('Content-Type', 'application/x-git-bundle')
    const etag = `"bundle-${base.slice(0, 12)}-${head.slice(0, 12)}-${stat.size}"`
    await this.serveFile(exchange, file, stat.size, etag, false)
  }

  /** Creates the bundle once per (repository, base, head); concurrent requests share it. */
  private bundleFile(repository: Repository, mirror: Mirror, base: string, head: string) {
    const key = `${repository.repoPath}\n${base}\n${head}`
    let pending = this.bundles.get(key)
    if (!pending) {
      const name = createHash('sha256').update(key).digest('hex').slice(0, 24) + '.bundle'
      const file = path.join(this.scratchDir ?? os.tmpdir(), name)
      pending = execTool('git', ['bundle', 'create', '-q', file, 'refs/heads/main', `^${base}`], {
        cwd: mirror.bareDir
      }).then(() => file)
      pending.catch(() => this.bundles.delete(key))
      this.bundles.set(key, pending)
    }
    return pending
  }

  // ---------------------------------------------------------------- ensure-refs

  private async ensureRefs(exchange: Exchange, repository: Repository): Promise<void> {
    if (exchange.req.method !== 'POST') return methodNotAllowed(exchange, 'POST')
    const mirror = repository.mirror
    if (!mirror) return sendText(exchange, 404, 'repository is not mirrored\n')
    let request: { refs?: Record<string, string>; commits?: string[] }
    try {
      request = parseEnsureRefsRequest(await readBody(exchange.req, MAX_JSON_BODY))
    } catch (error) {
      return sendText(exchange, 400, `invalid request body: ${(error as Error).message}\n`)
    }
    const local = await mirrorRefs(mirror.bareDir)
    const refs: Record<string, string> = {}
    for (const name of Object.keys(request.refs ?? {})) refs[name] = local.get(name) ?? ''
    const missing: string[] = []
    for (const commit of request.commits ?? []) {
      if (!(await commitExists(mirror.bareDir, commit))) missing.push(commit)
    }
    const answer: Record<string, unknown> = {}
    if (Object.keys(refs).length > 0) answer.refs = refs
    if (missing.length > 0) answer.missing_commits = missing
    answer.fetched = false
    sendJson(exchange, 200, answer)
  }

  // ---------------------------------------------------------------- smart HTTP

  /** The gitResetAfterBytes cut for this response, while the fault has times left. */
  private planGitReset(exchange: Exchange): GitCut | undefined {
    const fault = this.options.faults?.gitResetAfterBytes
    if (!fault || this.firedCount('gitResetAfterBytes') >= fault.times) return undefined
    // Counted when it fires: a body shorter than `at` is never cut.
    return { at: fault.bytes, onCut: () => this.fired('gitResetAfterBytes', exchange) }
  }

  private async serveGit(exchange: Exchange, repository: Repository, endpoint: Endpoint) {
    const { req, res, log } = exchange
    const mirror = repository.mirror
    if (!mirror) return sendText(exchange, 404, 'repository is not mirrored\n')
    const expected = endpoint === 'info/refs' ? 'GET' : 'POST'
    if (req.method !== expected && !(expected === 'GET' && req.method === 'HEAD')) {
      return methodNotAllowed(exchange, expected)
    }
    const child = spawn('git', ['http-backend'], {
      env: cgiEnvironment(req, mirror.bareDir, endpoint, exchange.query),
      stdio: ['pipe', 'pipe', 'pipe']
    })
    this.children.add(child)
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    child.stdin.on('error', () => undefined) // http-backend may not read the body
    req.pipe(child.stdin)
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    const exited = new Promise<number | null>(resolve => {
      child.on('error', () => resolve(-1))
      child.on('close', code => resolve(code))
    })
    const rate = this.options.faults?.gitRateLimitBytesPerSecond
    const paced = endpoint === 'git-upload-pack' && rate ? pacedStream(rate) : undefined
    res.on('close', () => paced?.destroy())
    const cut = endpoint === 'git-upload-pack' ? this.planGitReset(exchange) : undefined
    const headerEnd = await relayCgiResponse(child, res, n => (log.bytesSent += n), paced, cut)
    const code = await exited
    this.children.delete(child)
    if (!headerEnd && !res.headersSent) {
      sendText(exchange, 500, `git http-backend failed (${code}): ${stderr.trim()}\n`)
    }
  }
}

// ------------------------------------------------------------------ helpers

/** Where to cut a git-upload-pack body, and what to call when it is cut. */
interface GitCut {
  at: number
  onCut: () => void
}

function parseRoute(
  target: string
): { repoPath: string; endpoint: Endpoint; query: URLSearchParams } | undefined {
  const url = new URL(target, 'http://localhost')
  if (!url.pathname.startsWith('/git/')) return undefined
  const rest = url.pathname.slice('/git/'.length)
  for (const endpoint of ENDPOINTS) {
    if (!rest.endsWith(`/${endpoint}`)) continue
    const repoPath = rest.slice(0, -endpoint.length - 1).replace(/\.git$/, '')
    if (repoPath.split('/').length < 2) return undefined
    return { repoPath, endpoint, query: url.searchParams }
  }
  return undefined
}

interface FileStat {
  dev: bigint
  ino: bigint
  size: number
  mtimeNs: bigint
}

async function statFile(file: string): Promise<FileStat | undefined> {
  try {
    const stat = await fsp.stat(file, { bigint: true })
    if (!stat.isFile()) return undefined
    return { dev: stat.dev, ino: stat.ino, size: Number(stat.size), mtimeNs: stat.mtimeNs }
  } catch {
    return undefined
  }
}

/** 412 for a failed If-Match, 304 for a matching If-None-Match, else undefined. */
function preconditionStatus(req: http.IncomingMessage, etag: string): number | undefined {
  const ifMatch = req.headers['if-match']
  if (ifMatch !== undefined && !etagListMatches(ifMatch, etag, false)) return 412
  const ifNoneMatch = req.headers['if-none-match']
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag, true)) return 304
  return undefined
}

function etagListMatches(header: string, etag: string, weak: boolean): boolean {
  if (header.trim() === '*') return true
  const strip = (tag: string) => (weak ? tag.replace(/^W\//, '') : tag)
  return header
    .split(',')
    .map(tag => tag.trim())
    .some(tag => (weak || !tag.startsWith('W/')) && strip(tag) === strip(etag))
}

/** The range a request asks for, after If-Range; 'ignored' means serve the whole body. */
function requestedRange(req: http.IncomingMessage, etag: string, size: number): RangeResult {
  const header = req.headers.range
  if (header === undefined) return 'ignored'
  const ifRange = req.headers['if-range']
  if (ifRange !== undefined && String(ifRange).trim() !== etag) return 'ignored'
  return parseRange(header, size)
}

export function parseRange(header: string, size: number): RangeResult {
  const match = /^bytes=(.*)$/.exec(header.trim())
  if (!match) return 'unsatisfiable'
  const specs = match[1].split(',').map(spec => spec.trim())
  if (specs.length > 1) return 'ignored'
  const spec = /^(\d*)-(\d*)$/.exec(specs[0])
  if (!spec || (spec[1] === '' && spec[2] === '')) return 'unsatisfiable'
  if (spec[1] === '') {
    const suffix = Number(spec[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(spec[1])
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}

function declaredLength(length: number, plan: BodyPlan): number {
  return plan.shortAt ?? length + (plan.trailingGarbage?.length ?? 0)
}

/** Splits a chunk so a stall offset and the rate limiter's piece size fall on piece edges. */
function splitAtStall(chunk: Buffer, sent: number, plan: BodyPlan, pieceSize: number): Buffer[] {
  const pieces: Buffer[] = []
  let offset = 0
  while (offset < chunk.length) {
    let size = Math.min(chunk.length - offset, pieceSize)
    const stallAt = plan.stall?.at
    if (stallAt !== undefined && sent + offset < stallAt)
      size = Math.min(size, stallAt - sent - offset)
    pieces.push(chunk.subarray(offset, offset + size))
    offset += size
  }
  return pieces
}

/** Writes one piece; waits for drain (or, when flush is set, for the kernel to take it). */
function writePiece(res: http.ServerResponse, piece: Buffer, flush: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed || !res.socket || res.socket.destroyed) return reject(new ClientGone())
    const onClose = () => {
      res.off('drain', onDrain)
      reject(new ClientGone())
    }
    const onDrain = () => {
      res.off('close', onClose)
      resolve()
    }
    const written = res.write(piece, error => {
      if (!flush) return
      res.off('close', onClose)
      if (error) reject(new ClientGone())
      else resolve()
    })
    if (flush) return void res.once('close', onClose)
    if (written) return resolve()
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

function sendText(exchange: Exchange, status: number, text: string): void {
  const { res, req, log } = exchange
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  if (req.method === 'HEAD') return void res.end()
  res.end(text)
  log.bytesSent += Buffer.byteLength(text)
}

function sendJson(exchange: Exchange, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n'
  exchange.res.statusCode = status
  exchange.res.setHeader('Content-Type', 'application/json')
  exchange.res.setHeader('Content-Length', Buffer.byteLength(body))
  exchange.res.end(body)
  exchange.log.bytesSent += Buffer.byteLength(body)
}

function methodNotAllowed(exchange: Exchange, allow: string): void {
  exchange.res.setHeader('Allow', allow)
  sendText(exchange, 405, 'method not allowed\n')
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > limit) throw new Error('body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseEnsureRefsRequest(text: string): {
  refs?: Record<string, string>
  commits?: string[]
} {
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null) throw new Error('expected a JSON object')
  const { refs, commits } = value as { refs?: unknown; commits?: unknown }
  const refsOk =
    refs === undefined ||
    (typeof refs === 'object' &&
      refs !== null &&
      Object.values(refs).every(sha => typeof sha === 'string'))
  const commitsOk =
    commits === undefined || (Array.isArray(commits) && commits.every(c => typeof c === 'string'))
  if (!refsOk || !commitsOk) throw new Error('refs must map names to SHAs, commits list SHAs')
  const request = value as { refs?: Record<string, string>; commits?: string[] }
  if (Object.keys(request.refs ?? {}).length === 0 && (request.commits ?? []).length === 0) {
    throw new Error('at least one of refs or commits must be provided')
  }
  return request
}

async function mirrorHead(bareDir: string): Promise<string> {
  return (await execTool('git', ['rev-parse', 'refs/heads/main'], { cwd: bareDir })).trim()
}

async function mirrorRefs(bareDir: string): Promise<Map<string, string>> {
  const out = await execTool('git', ['for-each-ref', '--format=%(objectname) %(refname)'], {
    cwd: bareDir
  })
  const refs = new Map<string, string>()
  for (const line of out.split('\n').filter(Boolean)) {
    const [sha, name] = line.split(' ')
    refs.set(name, sha)
  }
  refs.set('HEAD', await mirrorHead(bareDir))
  return refs
}

async function commitExists(bareDir: string, sha: string): Promise<boolean> {
  if (!SHA_PATTERN.test(sha)) return false
  return execTool('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd: bareDir }).then(
    () => true,
    () => false
  )
}

async function isAncestor(bareDir: string, base: string, head: string): Promise<boolean> {
  if (!(await commitExists(bareDir, base))) return false
  return execTool('git', ['merge-base', '--is-ancestor', base, head], { cwd: bareDir }).then(
    () => true,
    () => false
  )
}

/** The CGI/1.1 environment `git http-backend` expects, without the caller's GIT_* variables. */
function cgiEnvironment(
  req: http.IncomingMessage,
  bareDir: string,
  endpoint: Endpoint,
  query: URLSearchParams
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GIT_')) env[name] = value
  }
  const absolute = path.resolve(bareDir)
  Object.assign(env, {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    GIT_PROJECT_ROOT: path.dirname(absolute),
    PATH_INFO: `/${path.basename(absolute)}/${endpoint}`,
    QUERY_STRING: query.toString(),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GIT_HTTP_EXPORT_ALL: '1',
    // Like GitHub: any reachable commit may be fetched by SHA, and partial clones work.
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'uploadpack.allowReachableSHA1InWant',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_CONFIG_KEY_1: 'uploadpack.allowFilter',
    GIT_CONFIG_VALUE_1: 'true'
  })
  if (req.headers['content-length'] !== undefined)
    env.CONTENT_LENGTH = req.headers['content-length']
  if (req.headers['content-encoding'] !== undefined) {
    env.HTTP_CONTENT_ENCODING = req.headers['content-encoding']
  }
  const protocol = req.headers['git-protocol']
  if (typeof protocol === 'string') env.HTTP_GIT_PROTOCOL = protocol
  return env
}

/**
 * Reads the CGI header block from the child's stdout, answers with its Status and headers,
 * then streams the rest. Resolves true once headers were relayed, false if stdout ended first.
 */
function relayCgiResponse(
  child: ChildProcess,
  res: http.ServerResponse,
  count: (bytes: number) => void,
  paced?: Transform,
  cut?: GitCut
): Promise<boolean> {
  const stdout = child.stdout
  if (!stdout) return Promise.resolve(false)
  return new Promise(resolve => {
    let pending = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      const split = findHeaderEnd(pending)
      if (!split) return
      stdout.off('data', onData)
      stdout.off('end', onEnd)
      const { status, headers } = parseCgiHeaders(pending.subarray(0, split.headerEnd).toString())
      res.writeHead(status, headers)
      const rest = pending.subarray(split.bodyStart)
      const cutter = cut ? cutStream(cut, res) : undefined
      const body = cutter ?? paced ?? res
      if (cutter) cutter.pipe(paced ?? res)
      if (rest.length > 0) {
        body.write(rest)
        count(rest.length)
      }
      stdout.on('data', (d: Buffer) => count(d.length))
      if (paced) paced.pipe(res)
      stdout.pipe(body)
      resolve(true)
    }
    const onEnd = () => resolve(false)
    stdout.on('data', onData)
    stdout.on('end', onEnd)
  })
}

/**
 * Passes the first `cut.at` bytes on, then destroys the response's socket (a reset as the
 * client sees it) once they have been written.
 */
function cutStream(cut: GitCut, res: http.ServerResponse): Transform {
  let passed = 0
  let done = false
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (done) return callback()
      const room = cut.at - passed
      if (chunk.length <= room) {
        passed += chunk.length
        return callback(null, chunk)
      }
      done = true
      cut.onCut()
      this.push(chunk.subarray(0, room))
      // After the piece has gone out: the client gets exactly `at` bytes, then a reset.
      setTimeout(() => res.socket?.destroy(), 50)
      callback()
    }
  })
}

/** Passes bytes on no faster than `rate` a second, in tenth-of-a-second pieces. */
function pacedStream(rate: number): Transform {
  const started = Date.now()
  const pieceSize = Math.max(1, Math.floor(rate / 10))
  let sent = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const pieces: Buffer[] = []
      for (let at = 0; at < chunk.length; at += pieceSize)
        pieces.push(chunk.subarray(at, at + pieceSize))
      const next = (): void => {
        const piece = pieces.shift()
        if (!piece) return callback()
        sent += piece.length
        const due = started + (sent / rate) * 1000
        setTimeout(
          () => {
            this.push(piece)
            next()
          },
          Math.max(0, due - Date.now())
        )
      }
      next()
    }
  })
}

function findHeaderEnd(buffer: Buffer): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n')
  const lf = buffer.indexOf('\n\n')
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 }
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 }
  return undefined
}

function parseCgiHeaders(block: string): { status: number; headers: Record<string, string> } {
  let status = 200
  const headers: Record<string, string> = {}
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500
    else headers[name] = value
  }
  return { status, headers }
}
