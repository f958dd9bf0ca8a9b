/**
 * Where the download's temp file goes: RUNNER_TEMP when it is on the target's filesystem;
 * otherwise a hidden directory beside the target, so a small tmpfs or a separate quota
 * cannot break a big restore. Before downloading, the space is checked.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  makeWorkDirectory,
  SPOOL_BESIDE_PREFIX,
  SPOOL_PREFIX,
  sweepLeftovers
} from '../archive/leftovers.js'
import { ExpectedError } from '../errors.js'
import { formatBytes, type Log } from '../report/log.js'

export interface SpoolDirectory {
  path: string
  /** Removes what the restore created there (the directory itself when it made one). */
  cleanup(): Promise<void>
}

async function deviceOf(location: string): Promise<number> {
  for (let current = path.resolve(location); ; current = path.dirname(current)) {
    try {
      return (await fs.stat(current)).dev
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || current === path.dirname(current))
        throw error
    }
  }
}

export async function chooseSpoolDirectory(
  tempDir: string,
  target: string,
  log: Log
): Promise<SpoolDirectory> {
  await fs.mkdir(tempDir, { recursive: true })
  await sweepLeftovers(tempDir, [SPOOL_PREFIX])
  const own = await makeWorkDirectory(tempDir, SPOOL_PREFIX)
  if ((await deviceOf(own)) === (await deviceOf(target))) {
    return { path: own, cleanup: () => fs.rm(own, { recursive: true, force: true }) }
  }
  await fs.rm(own, { recursive: true, force: true })
  const parent = path.dirname(target)
  await fs.mkdir(parent, { recursive: true })
  await sweepLeftovers(parent, [SPOOL_BESIDE_PREFIX])
  const beside = await makeWorkDirectory(parent, SPOOL_BESIDE_PREFIX)
  log.info(
    `RUNNER_TEMP (${tempDir}) is on another filesystem than ${target}; downloading into ${beside}`
  )
  return { path: beside, cleanup: () => fs.rm(beside, { recursive: true, force: true }) }
}

/** Fails early, with the numbers, when the compressed snapshot cannot fit. */
export async function ensureFreeSpace(directory: string, bytes: number | undefined): Promise<void> {
  if (bytes === undefined) return
  const stats = await fs.statfs(directory)
  const free = stats.bavail * stats.bsize
  if (free < bytes) {
    throw new ExpectedError(
      `Not enough disk space for the snapshot: it needs ${formatBytes(bytes)} in ${directory}, ` +
        `${formatBytes(free)} is free. Free some space or point RUNNER_TEMP at a larger volume.`
    )
  }
}
