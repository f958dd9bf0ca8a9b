/**
 * git's smart HTTP protocol served by `git http-backend` through a small CGI bridge: what a
 * `git clone` from a git host costs, measured on this machine without a network. One
 * http-backend process per request, as under any CGI web server.
 */
import { spawn } from 'node:child_process'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface GitServer {
  /** Base URL; a repository `name.git` under the project root is at `${url}/name.git`. */
  url: string
  stop(): Promise<void>
}

/**
 * What upload-pack is configured with, as a git host configures it (GitHub allows both), given
 * through the environment because the mirror is only read. allowFilter: without it the server
 * ignores `git clone --filter=blob:none` (git warns "filtering not recognized by server") and
 * sends every blob, so a partial clone is not partial (with it, babel/babel's blob:none clone
 * with `sparse-checkout set packages/babel-core` holds 367 blobs in 33 MB of packs, against the
 * mirror's 600,000 objects in 239 MB). allowAnySHA1InWant: the blobs a partial clone fetches later (on checkout,
 * on `git sparse-checkout set`) are asked for by id, and no ref points at them; protocol v2
 * (git's default) serves them anyway, but over v0 git 2.39 fails without it ("Server does not
 * allow request for unadvertised object").
 */
const UPLOAD_PACK_CONFIG: NodeJS.ProcessEnv = {
  GIT_CONFIG_COUNT: '2',
  GIT_CONFIG_KEY_0: 'uploadpack.allowFilter',
  GIT_CONFIG_VALUE_0: 'true',
  GIT_CONFIG_KEY_1: 'uploadpack.allowAnySHA1InWant',
  GIT_CONFIG_VALUE_1: 'true'
}

/** CGI variables for one request (RFC 3875), plus the ones http-backend reads itself. */
function cgiEnvironment(request: http.IncomingMessage, projectRoot: string): NodeJS.ProcessEnv {
  const url = new URL(request.url ?? '/', 'http://localhost')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    REQUEST_METHOD: request.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
    CONTENT_TYPE: request.headers['content-type'] ?? '',
    ...UPLOAD_PACK_CONFIG
  }
  if (request.headers['content-length']) env.CONTENT_LENGTH = request.headers['content-length']
  const encoding = request.headers['content-encoding']
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding
  const protocol = request.headers['git-protocol']
  if (typeof protocol === 'string') env.HTTP_GIT_PROTOCOL = protocol
  return env
}

/** Splits the CGI header block from the body; returns undefined until it is complete. */
function splitHeaders(buffer: Buffer): { head: string; body: Buffer } | undefined {
  for (const separator of ['\r\n\r\n', '\n\n']) {
    const at = buffer.indexOf(separator)
    if (at >= 0) {
      return {
        head: buffer.subarray(0, at).toString('latin1'),
        body: buffer.subarray(at + separator.length)
      }
    }
  }
  return undefined
}

function applyCgiHeaders(head: string, response: http.ServerResponse): void {
  response.statusCode = 200
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === 'status') response.statusCode = Number.parseInt(value, 10)
    else response.setHeader(name, value)
  }
}

function handle(request: http.IncomingMessage, response: http.ServerResponse, root: string): void {
  const backend = spawn('git', ['http-backend'], {
    env: cgiEnvironment(request, root),
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let pending: Buffer = Buffer.alloc(0)
  let headersSent = false
  let stderr = ''
  backend.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  backend.stdin.on('error', () => undefined) // the backend may answer before reading the body
  request.pipe(backend.stdin)
  backend.stdout.on('data', (data: Buffer) => {
    if (headersSent) {
      if (!response.write(data)) {
        backend.stdout.pause()
        response.once('drain', () => backend.stdout.resume())
      }
      return
    }
    pending = Buffer.concat([pending, data])
    const split = splitHeaders(pending)
    if (!split) return
    applyCgiHeaders(split.head, response)
    headersSent = true
    if (split.body.length > 0) response.write(split.body)
  })
  backend.on('close', code => {
    if (!headersSent) {
      response.statusCode = 500
      response.end(`git http-backend exited with ${code}: ${stderr}`)
    } else {
      response.end()
    }
  })
  response.on('close', () => backend.kill())
}

export async function startGitServer(projectRoot: string): Promise<GitServer> {
  const server = http.createServer((request, response) => handle(request, response, projectRoot))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
