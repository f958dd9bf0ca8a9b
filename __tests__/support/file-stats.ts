/**
 * Checks an extraction's stat record (ExtractResult.fileStats) against the files on disk: one
 * entry per blob id, in blobIds' order, each what an lstat of the path gives now, or zeros for
 * the paths the extractor must not vouch for (symlinks, hard links and their targets).
 */
import { expect } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ExtractResult } from '../../src/archive/extract.js'
import { STAT_FIELDS, storeStat } from '../../src/archive/file-stats.js'

export function expectRecordedStats(
  result: ExtractResult,
  directory: string,
  unrecorded: readonly string[]
): void {
  const { blobIds, fileStats } = result
  expect(fileStats.length).toBe(blobIds.size * STAT_FIELDS)
  const actual: Record<string, number[]> = {}
  const expected: Record<string, number[]> = {}
  let at = 0
  for (const name of blobIds.keys()) {
    actual[name] = [...fileStats.subarray(at, at + STAT_FIELDS)]
    const fields = new Uint32Array(STAT_FIELDS)
    if (!unrecorded.includes(name)) {
      const file = path.join(directory, Buffer.from(name, 'latin1').toString())
      storeStat(fs.lstatSync(file, { bigint: true }), fields, 0)
    }
    expected[name] = [...fields]
    at += STAT_FIELDS
  }
  expect(actual).toEqual(expected)
}
