/**
 * What a restore of an https:// server through a proxy costs: the action's bundles, each run
 * through a real squid against the test server over TLS, alternating, with the CONNECTs squid
 * saw per run, the snapshot GETs, and wall time, CPU seconds (user + sys) and minor page
 * faults from GNU time. Compares tunnels opened per request with tunnels kept alive.
 * --rtt-ms puts a relay between the action and squid that holds every packet for half that
 * each way: a proxy some distance away, without touching the machine's network settings.
 *
 *   npm run build && cp dist/index.js /some/tmpfs/new.js    # and an older bundle as old.js
 *   npx tsx bench/proxy-tunnels.ts --dir /some/tmpfs [--reps 5] [--mb 64] [--chunk-mb 1] \
 *     [--concurrency 4] [--rtt-ms 0] /some/tmpfs/old.js /some/tmpfs/new.js
 *
 * --dir holds everything written (mirror, snapshot, workspaces): put it on a tmpfs or a
 * journaled filesystem. Needs squid, openssl, git, tar, zstd and GNU time (/usr/bin/time).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as net from 'node:net'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { startCachewServer } from '../__tests__/support/cachew-server.js'
import { selfSignedIdentity } from '../__tests__/support/certificate.js'
import { makeMirror, type Mirror } from '../__tests__/support/fixtures.js'
import { startProxy, type ForwardProxy } from '../__tests__/support/proxy.js'
import { git } from '../__tests__/support/tree.js'

const HOST = 'cachew.proxy.test'
const UPSTREAM = 'https://github.example/acme/tunnels'
const MiB = 1024 * 1024

interface Sample {
  connects: number
  gets: number
  wall: number
  cpu: number
  minorFaults: number
}

async function main(): Promise<void> {
  const { values, positionals: bundles } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      reps: { type: 'string', default: '5' },
      mb: { type: 'string', default: '64' },
      'chunk-mb': { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '4' },
      'rtt-ms': { type: 'string', default: '0' }
    }
  })
  if (!values.dir || bundles.length === 0) {
    throw new Error('usage: proxy-tunnels.ts --dir DIR [--reps N] [--mb N] BUNDLE.js...')
  }
  const root = await fs.mkdtemp(path.join(path.resolve(values.dir), 'proxy-tunnels-'))
  const identity = await selfSignedIdentity(path.join(root, 'tls'), HOST)
  const mirror = await makeMirror(path.join(root, 'repo'), {
    files: 200,
    commits: 1,
    upstreamUrl: UPSTREAM
  })
  const snapshot = path.join(root, 'snapshot.tar.zst')
  const commit = await snapshotWithBallast(mirror, root, snapshot, Number(values.mb) * MiB)
  const size = (await fs.stat(snapshot)).size
  const server = await startCachewServer({}, 0, identity)
  server.addRepository(UPSTREAM, { file: snapshot, commit }, mirror)
  const proxy = await startProxy({ hosts: { [HOST]: '127.0.0.1' } })
  const relay = await startRelay(Number(new URL(proxy.url).port), Number(values['rtt-ms']) / 2)
  const samples = new Map<string, Sample[]>(bundles.map(bundle => [bundle, []]))
  const serverUrl = `https://${HOST}:${new URL(server.url).port}`
  try {
    for (let rep = 0; rep < Number(values.reps); rep++) {
      // Alternate the order, so neither bundle always runs on a warmer machine.
      const order = rep % 2 === 0 ? bundles : [...bundles].reverse()
      for (const bundle of order) {
        server.resetStats()
        const before = (await proxy.requestHeaders()).length
        const run = path.join(root, `run-${rep}-${path.basename(bundle)}`)
        const measured = await runBundle(bundle, run, {
          'INPUT_SERVER-URL': serverUrl,
          INPUT_REPOSITORY: UPSTREAM,
          'INPUT_DOWNLOAD-CHUNK-SIZE-MB': values['chunk-mb'],
          'INPUT_DOWNLOAD-CONCURRENCY': values.concurrency,
          GITHUB_SHA: commit,
          GITHUB_REF: 'refs/heads/main',
          GITHUB_EVENT_NAME: 'push',
          https_proxy: `http://127.0.0.1:${relay.port}`,
          NODE_EXTRA_CA_CERTS: identity.certFile,
          GIT_SSL_CAINFO: identity.certFile
        })
        await server.idle()
        const connects = await connectsSince(proxy, before, serverUrl)
        const gets = server.requests.filter(r => r.method === 'GET').length
        samples.get(bundle)?.push({ ...measured, connects, gets })
        await fs.rm(run, { recursive: true, force: true })
      }
    }
  } finally {
    relay.close()
    await proxy.stop()
    await server.close()
    await fs.rm(root, { recursive: true, force: true })
  }
  console.log(
    `snapshot ${(size / MiB).toFixed(1)} MiB, chunks of ${values['chunk-mb']} MiB, ` +
      `concurrency ${values.concurrency}, round trip to the proxy +${values['rtt-ms']} ms, ` +
      `${values.reps} runs each (medians)`
  )
  console.log('bundle | CONNECTs | GETs | wall s | CPU s (user+sys) | minor faults')
  for (const [bundle, runs] of samples) {
    const m = (pick: (s: Sample) => number) => median(runs.map(pick))
    console.log(
      `${path.basename(bundle)} | ${m(s => s.connects)} | ${m(s => s.gets)} | ` +
        `${m(s => s.wall).toFixed(2)} | ${m(s => s.cpu).toFixed(2)} | ${m(s => s.minorFaults)}`
    )
  }
}

/** The mirror's tree plus `ballast` random bytes git ignores, as one snapshot. */
async function snapshotWithBallast(
  mirror: Mirror,
  root: string,
  file: string,
  ballast: number
): Promise<string> {
  const clone = path.join(root, 'clone')
  await git(root, 'clone', '-q', mirror.bareDir, clone)
  await git(clone, 'remote', 'set-url', 'origin', mirror.upstreamUrl)
  await fs.appendFile(path.join(clone, '.git', 'info', 'exclude'), 'ballast.bin\n')
  await fs.writeFile(path.join(clone, 'ballast.bin'), randomBytes(ballast))
  const commit = await git(clone, 'rev-parse', 'HEAD')
  await exec('sh', ['-c', 'tar -cpf - -C "$1" . | zstd -q -1 -c > "$2"', 'sh', clone, file])
  await fs.rm(clone, { recursive: true, force: true })
  return commit
}

/**
 * A TCP relay to the proxy that delays everything by `delayMs` each way, in order (the
 * proxy's connection is opened at once; only data and ends wait).
 */
async function startRelay(
  proxyPort: number,
  delayMs: number
): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>()
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', data => setTimeout(() => to.write(data), delayMs))
    from.on('end', () => setTimeout(() => to.end(), delayMs))
    from.on('error', () => to.destroy())
    from.on('close', () => setTimeout(() => to.destroy(), delayMs + 1))
  }
  const server = net.createServer(client => {
    const upstream = net.connect(proxyPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    }
    forward(client, upstream)
    forward(upstream, client)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  }
}

/** Runs the bundle as the runner would, under GNU time. */
async function runBundle(
  bundle: string,
  dir: string,
  env: Record<string, string | undefined>
): Promise<Omit<Sample, 'connects' | 'gets'>> {
  const workspace = path.join(dir, 'workspace')
  const runnerTemp = path.join(dir, 'temp')
  await fs.mkdir(workspace, { recursive: true })
  await fs.mkdir(runnerTemp, { recursive: true })
  const files = ['output', 'state', 'summary'].map(name => path.join(dir, name))
  await Promise.all(files.map(file => fs.writeFile(file, '')))
  const timeFile = path.join(dir, 'time')
  const started = process.hrtime.bigint()
  await exec('/usr/bin/time', ['-v', '-o', timeFile, process.execPath, path.resolve(bundle)], {
    cwd: workspace,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: runnerTemp,
      GITHUB_OUTPUT: files[0],
      GITHUB_STATE: files[1],
      GITHUB_STEP_SUMMARY: files[2],
      ...env
    }
  })
  const wall = Number(process.hrtime.bigint() - started) / 1e9
  const time = await fs.readFile(timeFile, 'utf8')
  const field = (name: string) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(time)?.[1] ?? NaN)
  return {
    wall,
    cpu: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
    minorFaults: field('Minor \\(reclaiming a frame\\) page faults')
  }
}

/** CONNECTs to the server that squid logged after the first `before` lines. */
async function connectsSince(proxy: ForwardProxy, before: number, serverUrl: string) {
  const target = `CONNECT ${new URL(serverUrl).host} `
  return (await proxy.requestHeaders()).slice(before).filter(line => line.startsWith(target)).length
}

function exec(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', d => (output += d))
    child.stderr.on('data', d => (output += d))
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} exited ${code}: ${output.slice(-2000)}`))
    )
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
