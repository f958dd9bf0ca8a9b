/** The runner cache's own rules: sound entries only, atomic stores, a size bound by LRU. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { RunnerCache } from '../src/cache/runner-cache.js'
import { recordingLog } from './git-helpers.js'

const SERVER = 'https://cachew.example.com'
const repo = (name: string) => `https://github.example/acme/${name}`

let toolCache: string
let work: string

beforeEach(async () => {
  toolCache = await fs.mkdtemp(path.join(os.tmpdir(), 'tool-cache-'))
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-cache-work-'))
})

afterEach(async () => {
  await fs.rm(toolCache, { recursive: true, force: true })
  await fs.rm(work, { recursive: true, force: true })
})

async function download(name: string, bytes: number): Promise<string> {
  const file = path.join(work, `${name}.tar.zst`)
  await fs.writeFile(file, Buffer.alloc(bytes, name.charCodeAt(0)))
  return file
}

async function openCache(maxBytes = 1 << 20): Promise<RunnerCache> {
  const cache = await RunnerCache.open(toolCache, maxBytes, recordingLog())
  if (!cache) throw new Error('cache did not open')
  return cache
}

async function storeAndRead(cache: RunnerCache, name: string, bytes: number) {
  await cache.store(SERVER, repo(name), await download(name, bytes), {
    etag: `"${name}"`,
    commit: 'a'.repeat(40),
    size: bytes
  })
  const found = await cache.lookup(SERVER, repo(name))
  await found?.handle.close()
  return found?.entry
}

describe('RunnerCache', () => {
  it('moves a download in and finds it again by server and repository', async () => {
    const cache = await openCache()
    const file = await download('alpha', 1000)
    await cache.store(SERVER, repo('alpha'), file, { etag: '"e1"', size: 1000 })
    await expect(fs.stat(file)).rejects.toThrow() // moved, not copied
    const found = await cache.lookup(SERVER, repo('alpha'))
    expect(found?.entry).toMatchObject({ etag: '"e1"', size: 1000 })
    expect((await found!.handle.readFile()).length).toBe(1000)
    await found!.handle.close()
    expect(await cache.lookup('https://other.example.com', repo('alpha'))).toBeUndefined()
    expect(await cache.lookup(SERVER, repo('beta'))).toBeUndefined()
  })

  it('ignores an entry whose file has the wrong size or is gone, and a malformed entry', async () => {
    const cache = await openCache()
    await storeAndRead(cache, 'alpha', 1000)
    const directory = cache.directoryFor(SERVER, repo('alpha'))
    const entryFile = path.join(directory, 'entry.json')
    const entry = JSON.parse(await fs.readFile(entryFile, 'utf8')) as { file: string }

    await fs.truncate(path.join(directory, entry.file), 999)
    expect(await cache.lookup(SERVER, repo('alpha'))).toBeUndefined()
    await fs.rm(path.join(directory, entry.file))
    expect(await cache.lookup(SERVER, repo('alpha'))).toBeUndefined()
    await fs.writeFile(entryFile, JSON.stringify({ ...entry, file: '../../etc/passwd' }))
    expect(await cache.lookup(SERVER, repo('alpha'))).toBeUndefined()
    await fs.writeFile(entryFile, '{not json')
    expect(await cache.lookup(SERVER, repo('alpha'))).toBeUndefined()
  })

  it('keeps the total under its limit by removing the least recently used repositories', async () => {
    const cache = await openCache(2500)
    await storeAndRead(cache, 'alpha', 1000)
    await storeAndRead(cache, 'beta', 1000)
    // alpha used after beta: beta is now the least recently used.
    const past = new Date(Date.now() - 60_000)
    await fs.utimes(path.join(cache.directoryFor(SERVER, repo('beta')), 'entry.json'), past, past)
    await cache.touch(SERVER, repo('alpha'))
    expect(await storeAndRead(cache, 'gamma', 1000)).toBeDefined()
    const alpha = await cache.lookup(SERVER, repo('alpha'))
    expect(alpha).toBeDefined()
    await alpha?.handle.close()
    expect(await cache.lookup(SERVER, repo('beta'))).toBeUndefined()
  })

  it('does not keep a snapshot larger than the whole limit', async () => {
    const log = recordingLog()
    const cache = (await RunnerCache.open(toolCache, 500, log))!
    await cache.store(SERVER, repo('alpha'), await download('alpha', 1000), {
      etag: '"e"',
      size: 1000
    })
    expect(await cache.lookup(SERVER, repo('alpha'))).toBeUndefined()
    expect(log.lines.join('\n')).toContain('larger than runner-cache-max-gb')
  })

  it('a reader keeps reading a file that a later store replaced', async () => {
    const cache = await openCache()
    await storeAndRead(cache, 'alpha', 1000)
    const reading = await cache.lookup(SERVER, repo('alpha'))
    await cache.store(SERVER, repo('alpha'), await download('alpha2', 2000), {
      etag: '"e2"',
      size: 2000
    })
    expect((await reading!.handle.readFile()).length).toBe(1000)
    await reading!.handle.close()
    const now = await cache.lookup(SERVER, repo('alpha'))
    expect(now?.entry.etag).toBe('"e2"')
    await now?.handle.close()
  })

  it('is off, with a line saying why, when the runner gives no RUNNER_TOOL_CACHE', async () => {
    const log = recordingLog()
    expect(await RunnerCache.open('', 1000, log)).toBeUndefined()
    expect(log.lines.join('\n')).toContain('RUNNER_TOOL_CACHE is not set')
  })
})
