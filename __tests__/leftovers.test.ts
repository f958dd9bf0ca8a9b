/**
 * What a SIGKILLed restore leaves is removed by the next one, except a backup whose swap may
 * not have finished: that is kept, with its staging directory, since it may be the only copy
 * of the previous content.
 */
import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  BACKUP_PREFIX,
  makeWorkDirectory,
  processAlive,
  SPOOL_PREFIX,
  STAGING_PREFIX,
  sweepLeftovers
} from '../src/archive/leftovers.js'
import { tempDirectory } from './support/temp.js'

/** The pid of a process that has exited, so no process has it (barring reuse in between). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'])
  await once(child, 'exit')
  return child.pid!
}

async function make(parent: string, name: string, children: string[] = []): Promise<string> {
  const directory = path.join(parent, name)
  await fs.mkdir(directory)
  for (const child of children) await fs.writeFile(path.join(directory, child), child)
  return directory
}

describe('sweepLeftovers', () => {
  it('tells a live process from a gone one', async () => {
    expect(processAlive(process.pid)).toBe(true)
    expect(processAlive(await deadPid())).toBe(false)
  })

  it('names its directories with the pid, and spares those of live processes', async () => {
    const parent = await tempDirectory('leftovers-')
    const own = await makeWorkDirectory(parent, STAGING_PREFIX)
    expect(path.basename(own)).toMatch(new RegExp(`^\\.cachew-restore-${process.pid}-\\w{6}$`))
    const report = await sweepLeftovers(parent, [STAGING_PREFIX, BACKUP_PREFIX])
    expect(report).toEqual({ removed: [], kept: [] })
    expect(await fs.readdir(parent)).toEqual([path.basename(own)])
  })

  it('removes a dead process’s staging directory and spool, and nothing else', async () => {
    const parent = await tempDirectory('leftovers-')
    const pid = await deadPid()
    const staging = await make(parent, `${STAGING_PREFIX}${pid}-abc123`, ['half-extracted'])
    const spool = await make(parent, `${SPOOL_PREFIX}${pid}-def456`, ['snapshot.tar.zst'])
    await make(parent, 'repo', ['keep'])
    await make(parent, `${STAGING_PREFIX}not-ours`)
    const report = await sweepLeftovers(parent, [STAGING_PREFIX, BACKUP_PREFIX, SPOOL_PREFIX])
    expect(report.removed.sort()).toEqual([staging, spool].sort())
    expect((await fs.readdir(parent)).sort()).toEqual(['.cachew-restore-not-ours', 'repo'])
  })

  it('removes a backup once its swap is complete (staging gone or empty)', async () => {
    const parent = await tempDirectory('leftovers-')
    const pid = await deadPid()
    // Killed while deleting the backup: every staged child had moved in.
    await make(parent, `${STAGING_PREFIX}${pid}-aaaaaa`)
    await make(parent, `${BACKUP_PREFIX}${pid}-aaaaaa`, ['old-readme'])
    // Killed after the staging directory was removed, before the backup was.
    await make(parent, `${BACKUP_PREFIX}${pid}-bbbbbb`, ['old-readme'])
    await sweepLeftovers(parent, [STAGING_PREFIX, BACKUP_PREFIX])
    expect(await fs.readdir(parent)).toEqual([])
  })

  it('keeps a backup and its staging directory when the swap was interrupted', async () => {
    const parent = await tempDirectory('leftovers-')
    const pid = await deadPid()
    const staging = await make(parent, `${STAGING_PREFIX}${pid}-cccccc`, ['not-yet-moved'])
    const backup = await make(parent, `${BACKUP_PREFIX}${pid}-cccccc`, ['previous-content'])
    const report = await sweepLeftovers(parent, [STAGING_PREFIX, BACKUP_PREFIX])
    expect(report.kept.sort()).toEqual([backup, staging].sort())
    expect(report.removed).toEqual([])
    expect(await fs.readFile(path.join(backup, 'previous-content'), 'utf8')).toBe(
      'previous-content'
    )
  })
})
