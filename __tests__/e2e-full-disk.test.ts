/**
 * A disk that fills up mid-extraction, end to end on dist/index.js: the workspace and
 * RUNNER_TEMP on one small tmpfs (mounted by the test; root is needed, as in CI), where the
 * compressed snapshot fits and the tree does not. The step fails with a message that names the
 * filesystem and the bytes the tree needs, and leaves the workspace and RUNNER_TEMP as it found
 * them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import {
  execTool,
  makeMirror,
  makeSnapshot,
  type Mirror,
  type Snapshot
} from './support/fixtures.js'
import { listDir, runAction, visibleLog } from './support/run-action.js'
import { manifest } from './support/tree.js'

const MiB = 1024 * 1024
let server: CachewServer
let mirror: Mirror
let snapshot: Snapshot
let disk: string
let mounted = false
let root: string

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-full-disk-'))
  mirror = await makeMirror(path.join(root, 'repo'), {
    files: 200,
    commits: 1,
    fileSize: 32 * 1024
  })
  snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
  disk = path.join(root, 'disk')
  await fs.mkdir(disk)
  // Room for the compressed snapshot and 2 MiB more: the tree (about 6.5 MB) cannot fit.
  const size = Math.ceil((snapshot.size + 2 * MiB) / MiB)
  await execTool('mount', ['-t', 'tmpfs', '-o', `size=${size}m`, 'tmpfs', disk])
  mounted = true
})

afterAll(async () => {
  await server?.close()
  if (mounted) await execTool('umount', [disk])
  // Not a support/temp.ts directory: that is removed before this hook has unmounted the disk.
  await fs.rm(root, { recursive: true, force: true })
})

describe('a disk that fills up while the tree is written', () => {
  it('fails naming the filesystem and what the tree needs; nothing is left behind', async () => {
    const workspace = path.join(disk, 'ws')
    const runnerTemp = path.join(disk, 'runner-temp')
    await fs.mkdir(workspace)
    await fs.mkdir(runnerTemp)
    await fs.writeFile(path.join(workspace, 'precious.txt'), 'the job found this here\n')
    const before = await manifest(disk)
    const run = await runAction({
      inputs: { 'server-url': server.url, repository: mirror.upstreamUrl },
      workspace,
      runnerTemp
    })
    expect(run.exitCode).toBe(1)
    const log = visibleLog(run)
    expect(log).toMatch(
      new RegExp(
        `::error::Not enough disk space to extract the snapshot: the filesystem of ${disk}/` +
          String.raw`\.cachew-restore-\d+-\w+ ran out \([0-9.]+ [KM]iB free of [0-9.]+ MiB\) after ` +
          String.raw`[0-9.]+ [KM]iB of files, while writing '[^']+'; the tree needs at least [0-9.]+ [KM]iB\.`
      )
    )
    expect(log).not.toMatch(/\n\s+at /) // no stack trace
    expect(await manifest(disk)).toEqual(before)
    expect(await listDir(runnerTemp)).toEqual([])
  })
})
