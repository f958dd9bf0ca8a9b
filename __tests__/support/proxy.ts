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
 *   await proxy.stop()
 *
 * squid runs in the foreground as a child (`squid -N -f DIR/squid.conf`) with its config,
 * hosts file, pid file and logs in its own temp directory, on 127.0.0.1 and a free port, with
 * no cache: every request is forwarded, and CONNECT is allowed to any port. Requires the squid
 * binary on PATH (Debian package `squid`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { freePort, stopDaemon, waitUntilListening } from './daemon.js'

export interface ProxyOptions {
  /** Names the proxy resolves, to addresses (its hosts file; it has no other resolver). */
  hosts: Record<string, string>
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT, the value for http_proxy / https_proxy. */
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
  let lastError: unknown
  // A free port can be taken between choosing it and squid binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    await fsp.writeFile(path.join(dir, 'squid.conf'), squidConfig(dir, port))
    const child = spawnSquid(dir)
    try {
      await waitUntilListening('squid', child, port, path.join(dir, 'cache.log'), START_TIMEOUT_MS)
      return runningProxy(child, dir, port)
    } catch (error) {
      lastError = error
      await stopDaemon(child, undefined, STOP_TIMEOUT_MS)
    }
  }
  await fsp.rm(dir, { recursive: true, force: true })
  throw lastError
}

function runningProxy(child: ChildProcess, dir: string, port: number): ForwardProxy {
  let markers = 0
  const settled = async (name: string): Promise<string[]> => {
    const file = path.join(dir, name)
    await settle(port, file, `/settled-${process.pid}-${++markers}`)
    return readLines(file)
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => settled('access.log'),
    requestHeaders: () => settled('headers.log'),
    stop: () => stopDaemon(child, dir, STOP_TIMEOUT_MS)
  }
}

/**
 * squid writes a line when a transaction ends, so a request that ended just now may not be
 * logged yet. A marker request sent after it ends later, so once the marker is in the log,
 * so is everything before it.
 */
async function settle(port: number, logFile: string, marker: string): Promise<void> {
  const target = `http://127.0.0.1:${await freePort()}${marker}`
  await new Promise<void>(resolve => {
    const request = http.get({ host: '127.0.0.1', port, path: target }, response => {
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

function squidConfig(dir: string, port: number): string {
  const inside = (name: string) => path.join(dir, name)
  return `http_port 127.0.0.1:${port}
pid_filename ${inside('squid.pid')}
cache_log ${inside('cache.log')}
# squid's native format, spelled out: a format that logs headers turns on header logging for
# the built-in formats as well.
logformat plain %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt
access_log stdio:${inside('access.log')} logformat=plain
logformat headers %rm %ru [%>h]
access_log stdio:${inside('headers.log')} logformat=headers
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
http_access allow localhost
http_access deny all
`
}

function spawnSquid(dir: string): ChildProcess {
  return spawn('squid', ['-N', '-f', path.join(dir, 'squid.conf')], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
}
