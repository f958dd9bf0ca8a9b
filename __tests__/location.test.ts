import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { chooseSpoolDirectory, ensureFreeSpace } from '../src/download/location.js'
import type { Log } from '../src/report/log.js'

const lines: string[] = []
const log: Log = {
  info: m => lines.push(m),
  notice: m => lines.push(m),
  warning: m => lines.push(m),
  debug: () => undefined,
  group: (_name, fn) => fn()
}

describe('spool location', () => {
  it('uses RUNNER_TEMP when it shares the target filesystem, and cleans up after itself', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'loc-'))
    const tempDir = path.join(root, 'runner-temp')
    const chosen = await chooseSpoolDirectory(tempDir, path.join(root, 'ws', 'not-yet'), log)
    expect(path.dirname(chosen.path)).toBe(tempDir)
    await fs.writeFile(path.join(chosen.path, 'x'), 'y')
    await chosen.cleanup()
    expect(await fs.readdir(tempDir)).toEqual([])
    await fs.rm(root, { recursive: true })
  })

  it('fails early, with the numbers, when the snapshot cannot fit', async () => {
    const free = await fs.statfs(os.tmpdir())
    const tooBig = free.bavail * free.bsize + 1024 ** 3
    await expect(ensureFreeSpace(os.tmpdir(), tooBig)).rejects.toThrow(
      /Not enough disk space for the snapshot: it needs [\d.]+ GiB in .*, [\d.]+ (GiB|MiB) is free/
    )
    await expect(ensureFreeSpace(os.tmpdir(), 1024)).resolves.toBeUndefined()
  })
})
