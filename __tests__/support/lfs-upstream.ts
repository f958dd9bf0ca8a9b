/**
 * A Git LFS server for tests, standing in for the upstream host's: the batch API
 * (POST /OWNER/REPO.git/info/lfs/objects/batch, download only, basic transfer) and the object
 * downloads it points at, served from a `.git/lfs/objects` directory made by the real git-lfs.
 * `requireAuthorization` is the exact Authorization value the batch API wants (401 otherwise);
 * `requests` logs method, path and whether the header was right.
 */
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'

export interface LfsUpstream {
  /** http://127.0.0.1:PORT */
  url: string
  requests: Array<{ method: string; path: string; authorized: boolean }>
  close(): Promise<void>
}

export async function startLfsUpstream(
  objectsDir: string,
  requireAuthorization?: string
): Promise<LfsUpstream> {
  const requests: LfsUpstream['requests'] = []
  let url = ''
  const server = http.createServer((req, res) => {
    const authorized =
      requireAuthorization === undefined || req.headers.authorization === requireAuthorization
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorized })
    handle(req, res, authorized).catch((error: unknown) => {
      res.statusCode = 500
      res.end(String(error))
    })
  })
  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    authorized: boolean
  ): Promise<void> {
    const target = req.url ?? '/'
    const object = /^\/objects\/([0-9a-f]{64})$/.exec(target)
    if (req.method === 'GET' && object) {
      const oid = object[1]
      const body = await fs.readFile(path.join(objectsDir, oid.slice(0, 2), oid.slice(2, 4), oid))
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
      return void res.end(body)
    }
    if (req.method !== 'POST' || !target.endsWith('.git/info/lfs/objects/batch')) {
      res.statusCode = 404
      return void res.end('not found\n')
    }
    if (!authorized) {
      res.writeHead(401, { 'Content-Type': 'application/vnd.git-lfs+json' })
      return void res.end(JSON.stringify({ message: 'credentials needed' }))
    }
    const chunks: Buffer[] = []
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk)
    const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      operation: string
      objects: Array<{ oid: string; size: number }>
    }
    const objects = await Promise.all(
      batch.objects.map(async ({ oid, size }) => {
        const file = path.join(objectsDir, oid.slice(0, 2), oid.slice(2, 4), oid)
        const stat = await fs.stat(file).catch(() => undefined)
        if (!stat || !/^[0-9a-f]{64}$/.test(oid)) {
          return { oid, size, error: { code: 404, message: 'object not found' } }
        }
        return {
          oid,
          size: stat.size,
          authenticated: true,
          actions: { download: { href: `${url}/objects/${oid}`, expires_in: 3600 } }
        }
      })
    )
    res.writeHead(200, { 'Content-Type': 'application/vnd.git-lfs+json' })
    res.end(JSON.stringify({ transfer: 'basic', objects }))
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    get url() {
      return url
    },
    requests,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
