/**
 * The system nginx as a second, independently written snapshot server: static files with its
 * own ETag, Accept-Ranges, 206, If-Match (412) and 416 handling.
 *
 *   // put the file where a client will ask for it:
 *   //   <root>/git/github.example/acme/widgets/snapshot.tar.zst
 *   const nginx = await startNginx({ root, commit: snap.commit, limitRate: '2m' })
 *   // GET `${nginx.url}/git/github.example/acme/widgets/snapshot.tar.zst`
 *   await nginx.stop()
 *
 * nginx runs in the foreground as a child (`nginx -p DIR -e DIR/error.log -c DIR/nginx.conf
 * -g 'daemon off;'`) with its pid file, logs and temp paths in its own temp directory, on
 * 127.0.0.1 and a free port. `commit` adds `X-Cachew-Snapshot-Commit` to snapshot.tar.zst
 * responses; `limitRate` sets nginx's per-connection `limit_rate` (e.g. '500k', '2m').
 * Requires the nginx binary on PATH (Debian package `nginx`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { freePort, stopDaemon, waitUntilListening } from './daemon.js'
import { snapshotUrl } from './cachew-server.js'

export interface NginxOptions {
  root: string
  commit?: string
  limitRate?: string
}

export interface NginxServer {
  url: string
  /** The nginx access log (one line per request). */
  accessLog: string
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

/**
 * nginx serving one snapshot file at the path cachew would serve it from, for a repository:
 * the file is copied under `site` (a fresh directory) first.
 */
export async function startNginxServing(
  site: string,
  snapshot: { upstreamUrl: string; file: string; commit?: string },
  options: Omit<NginxOptions, 'root' | 'commit'> = {}
): Promise<NginxServer> {
  const served = new URL(snapshotUrl('http://x', snapshot.upstreamUrl)).pathname
  const file = path.join(site, decodeURIComponent(served))
  await fsp.mkdir(path.dirname(file), { recursive: true })
  await fsp.copyFile(snapshot.file, file)
  return startNginx({ ...options, root: site, commit: snapshot.commit })
}

export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'nginx-'))
  let lastError: unknown
  // A free port can be taken between choosing it and nginx binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    await fsp.writeFile(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, options))
    const child = spawnNginx(dir)
    try {
      await waitUntilListening('nginx', child, port, path.join(dir, 'error.log'), START_TIMEOUT_MS)
      return {
        url: `http://127.0.0.1:${port}`,
        accessLog: path.join(dir, 'access.log'),
        stop: () => stopDaemon(child, dir, STOP_TIMEOUT_MS)
      }
    } catch (error) {
      lastError = error
      await stopDaemon(child, undefined, STOP_TIMEOUT_MS)
    }
  }
  await fsp.rm(dir, { recursive: true, force: true })
  throw lastError
}

function nginxConfig(dir: string, port: number, options: NginxOptions): string {
  const inside = (name: string) => JSON.stringify(path.join(dir, name))
  const root = JSON.stringify(path.resolve(options.root))
  const rate = options.limitRate ? `limit_rate ${options.limitRate};` : ''
  const commit = options.commit
    ? `add_header X-Cachew-Snapshot-Commit ${JSON.stringify(options.commit)};`
    : ''
  // Workers drop to `nobody` when the master runs as root and could not read the 0700 temp
  // directories tests create, so as root they stay root.
  const user = process.getuid?.() === 0 ? 'user root;' : ''
  return `${user}
worker_processes 1;
pid ${inside('nginx.pid')};
error_log ${inside('error.log')} warn;
events { worker_connections 256; }
http {
  types { application/zstd zst; application/x-git-bundle bundle; }
  default_type application/octet-stream;
  access_log ${inside('access.log')};
  client_body_temp_path ${inside('client_body')};
  proxy_temp_path ${inside('proxy')};
  fastcgi_temp_path ${inside('fastcgi')};
  uwsgi_temp_path ${inside('uwsgi')};
  scgi_temp_path ${inside('scgi')};
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    ${rate}
    location ~ /snapshot\\.tar\\.zst$ {
      ${rate}
      ${commit}
    }
  }
}
`
}

function spawnNginx(dir: string): ChildProcess {
  const args = ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')]
  return spawn('nginx', [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
}
