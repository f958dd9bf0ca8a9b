/**
 * The system squid as an off-the-shelf forward proxy on 127.0.0.1, for tests that check the
 * action honours the runner's proxy variables. It resolves names from its own hosts file, so a
 * test can use a hostname that only the proxy knows: a client that bypasses the proxy cannot
 * resolve it, and one that uses it leaves a line in the access log.
 *
 *   const proxy = await startProxy({ hosts: { 'cachew.proxy.test': '127.0.0.1' } })
 *   // env: { http_proxy: proxy.url }, server-url: http://cachew.proxy.test:PORT
 *   const lines = await proxy.log()  // e.g. '... TCP_TUNNEL/200 ... CONNECT cachew.proxy.test:PORT ...'
 *   const seen = await proxy.requestHeaders()  // 'CONNECT cachew.proxy.test:PORT [Host: ...]'
 *   const sent = await proxy.requests()  // [{ clientPort, method, url }]: connection reuse
 *   await proxy.stop()
 *
 * squid runs in the foreground as a child (`squid -N -f DIR/squid.conf`) with its config,
 * hosts file, pid file and logs in its own temp directory, on 127.0.0.1 and a free port, with
 * no cache: every request is forwarded, and CONNECT is allowed to any port unless `stock` asks
 * for the access rules squid ships with. `users` makes it require Basic proxy credentials
 * (checked by squid's basic_ncsa_auth helper against an htpasswd file made by openssl); `tls`
 * makes it an https:// proxy (clients speak TLS to the proxy itself, with that identity).
 * Requires the squid binary on PATH (Debian package `squid`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import * as os from 'node:os'
import * as path from 'node:path'
import { freePort, stopDaemon, waitUntilListening } from './daemon.js'

export interface ProxyOptions {
  /** Names the proxy resolves, to addresses (its hosts file; it has no other resolver). */
  hosts: Record<string, string>
  /**
   * The access rules of squid's stock squid.conf, as a corporate proxy left at its defaults
   * has them: CONNECT only to port 443, other requests only to its "safe" ports (80, 443,
   * 1025-65535 and a few more).
   */
  stock?: boolean
  /** Require Basic proxy credentials: user name to password. */
  users?: Record<string, string>
  /** Serve https:// (TLS to the proxy) with this key and certificate (PEM), for 127.0.0.1. */
  tls?: { key: string | Buffer; cert: string | Buffer }
}

/** One request as the proxy received it. */
export interface ProxiedRequest {
  /** The client's port: requests with the same one came over one kept-alive connection. */
  clientPort: number
  method: string
  /** As squid logs it: absolute for forwarded requests, host:port for CONNECT, no query. */
  url: string
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT (https:// with `tls`), the value for http_proxy / https_proxy. */
  url: string
  /**
   * The access log's lines (squid's native format: time, elapsed, client, result/status,
   * bytes, method, URL, ...), including every request that ended before this call.
   */
  log(): Promise<string[]>
  /**
   * What the proxy saw of each request: method, URL and the request headers it received
   * (escaped by squid). For a CONNECT that is the CONNECT request alone, not what it tunnels.
   */
  requestHeaders(): Promise<string[]>
  requests(): Promise<ProxiedRequest[]>
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 5_000
const SETTLE_TIMEOUT_MS = 5_000

export async function startProxy(options: ProxyOptions): Promise<ForwardProxy> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'squid-'))
  await handToSquidUser(dir)
  const hostsFile = path.join(dir, 'hosts')
  await fsp.writeFile(hostsFile, hostsText(options.hosts))
  if (options.users) await fsp.writeFile(path.join(dir, 'passwords'), passwordsText(options.users))
  const auth = options.users ? await basicAuthHelper() : undefined
  if (options.tls) {
    await fsp.writeFile(path.join(dir, 'key.pem'), options.tls.key)
    await fsp.writeFile(path.join(dir, 'cert.pem'), options.tls.cert)
  }
  const rules = { stock: options.stock, auth, tls: !!options.tls }
  let lastError: unknown
  // A free port can be taken between choosing it and squid binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    await fsp.writeFile(path.join(dir, 'squid.conf'), squidConfig(dir, port, rules))
    const child = spawnSquid(dir)
    try {
      await waitUntilListening('squid', child, port, path.join(dir, 'cache.log'), START_TIMEOUT_MS)
      return runningProxy(child, dir, port, rules.tls)
    } catch (error) {
      lastError = error
      await stopDaemon(child, undefined, STOP_TIMEOUT_MS)
    }
  }
  await fsp.rm(dir, { recursive: true, force: true })
  throw lastError
}

function runningProxy(child: ChildProcess, dir: string, port: number, tls: boolean): ForwardProxy {
  let markers = 0
  const settled = async (name: string): Promise<string[]> => {
    const file = path.join(dir, name)
    await settle(port, tls, file, `/settled-${process.pid}-${++markers}`)
    return readLines(file)
  }
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    log: () => settled('access.log'),
    requestHeaders: () => settled('headers.log'),
    requests: async () => (await settled('requests.log')).map(parseRequestLine),
    stop: () => stopDaemon(child, dir, STOP_TIMEOUT_MS)
  }
}

function parseRequestLine(line: string): ProxiedRequest {
  const [clientPort, method, url] = line.split(' ')
  return { clientPort: Number(clientPort), method, url }
}

/**
 * squid writes a line when a transaction ends, so a request that ended just now may not be
 * logged yet. A marker request sent after it ends later, so once the marker is in the log,
 * so is everything before it.
 */
async function settle(port: number, tls: boolean, logFile: string, marker: string): Promise<void> {
  const target = `http://127.0.0.1:${await freePort()}${marker}`
  const get = tls ? https.get : http.get
  await new Promise<void>(resolve => {
    // The proxy's certificate is the test's own, and this request only marks the log.
    const options = { host: '127.0.0.1', port, path: target, rejectUnauthorized: false }
    const request = get(options, response => {
      response.resume()
      response.on('end', resolve)
    })
    request.on('error', () => resolve())
  })
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  while (Date.now() < deadline) {
    if ((await readLines(logFile)).some(line => line.includes(marker))) return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`squid did not log ${marker} within ${SETTLE_TIMEOUT_MS} ms`)
}

async function readLines(file: string): Promise<string[]> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean)
}

function hostsText(hosts: Record<string, string>): string {
  return Object.entries(hosts)
    .map(([name, address]) => `${address} ${name}\n`)
    .join('')
}

/**
 * squid started as root drops to its own user (`proxy` on Debian), which must be able to write
 * its logs and pid file in the 0700 temp directory.
 */
async function handToSquidUser(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return
  const user = await squidUser()
  if (user) await fsp.chown(dir, user.uid, user.gid)
}

async function squidUser(): Promise<{ uid: number; gid: number } | undefined> {
  const passwd = await fsp.readFile('/etc/passwd', 'utf8').catch(() => '')
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':')
    if (name === 'proxy') return { uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}

/** htpasswd lines, each password hashed by `openssl passwd -apr1` (MD5, which the helper reads). */
function passwordsText(users: Record<string, string>): string {
  return Object.entries(users)
    .map(([user, password]) => {
      const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: password })
      return `${user}:${hash.toString('utf8').trim()}\n`
    })
    .join('')
}

/** squid's helper that checks Basic credentials against an htpasswd file. */
async function basicAuthHelper(): Promise<string> {
  for (const dir of ['/usr/lib/squid', '/usr/lib64/squid', '/usr/libexec/squid']) {
    const helper = path.join(dir, 'basic_ncsa_auth')
    if (
      await fsp.access(helper).then(
        () => true,
        () => false
      )
    )
      return helper
  }
  throw new Error("squid's basic_ncsa_auth helper was not found")
}

interface AccessRules {
  stock?: boolean
  /** The basic_ncsa_auth helper, when credentials are required. */
  auth?: string
  tls: boolean
}

function squidConfig(dir: string, port: number, rules: AccessRules): string {
  const inside = (name: string) => path.join(dir, name)
  // squid's stock rules (its shipped squid.conf): the ports it calls safe, CONNECT to 443 only.
  const stock = rules.stock
    ? `acl SSL_ports port 443
acl Safe_ports port 80 21 443 70 210 1025-65535 280 488 591 777
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
`
    : ''
  const auth = rules.auth
    ? `auth_param basic program ${rules.auth} ${inside('passwords')}
auth_param basic realm cachew-restore tests
acl authenticated proxy_auth REQUIRED
http_access deny !authenticated
`
    : ''
  const listen = rules.tls
    ? `https_port 127.0.0.1:${port} tls-cert=${inside('cert.pem')} tls-key=${inside('key.pem')}`
    : `http_port 127.0.0.1:${port}`
  return `${listen}
pid_filename ${inside('squid.pid')}
cache_log ${inside('cache.log')}
# squid's native format, spelled out: a format that logs headers turns on header logging for
# the built-in formats as well.
logformat plain %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt
access_log stdio:${inside('access.log')} logformat=plain
logformat headers %rm %ru [%>h]
access_log stdio:${inside('headers.log')} logformat=headers
logformat requests %>p %rm %ru
access_log stdio:${inside('requests.log')} logformat=requests
cache_store_log none
coredump_dir ${dir}
hosts_file ${inside('hosts')}
# No resolver but the hosts file: a name it lacks fails at once instead of leaving the machine.
dns_nameservers 127.0.0.1
dns_timeout 1 seconds
netdb_filename none
pinger_enable off
cache deny all
cache_mem 0 MB
shutdown_lifetime 0 seconds
${stock}${auth}http_access allow localhost
http_access deny all
`
}

function spawnSquid(dir: string): ChildProcess {
  return spawn('squid', ['-N', '-f', path.join(dir, 'squid.conf')], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
}
