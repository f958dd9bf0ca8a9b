/**
 * Stat data of extracted files in the form .git/index holds it (gitformat-index(5)): ten 32-bit
 * fields, ctime s, ctime ns, mtime s, mtime ns, dev, ino, mode, uid, gid, size, in that order.
 * The extractor records them with an fstat of each file it has a blob id for, just before it
 * closes the file, and src/git/index-stat.ts writes them into the index instead of walking
 * every path again with lstat (on babel/babel's 27,674 files that lstat pass was 0.18 s of the
 * main thread, after the extraction).
 *
 * Exact to the nanosecond, as git stores them, hence bigint stats: the number form gives times
 * as milliseconds in a double, which cannot hold today's times to the nanosecond.
 *
 * The record crosses from the extraction thread as one Uint32Array, transferred, whose entries
 * are parallel to the blob-id map's order (a Map keeps its insertion order through a post).
 * For babel/babel's 27,674 paths, a second map of path to stat data took 8 ms more from post
 * to receipt than the array alone; indexing the array by path on the main thread takes 4-8 ms.
 */
import type * as fs from 'node:fs'

export const STAT_FIELDS = 10
/** The mode's field. A mode of 0 (no file type) marks an entry with no record. */
export const MODE_FIELD = 6

const NS_PER_S = 1_000_000_000n
const LOW_32 = 0xffffffffn
/** Room for this many files at first; doubled when full. */
const INITIAL_SLOTS = 4096

/**
 * Stores `stat` at `at` in `into` as git's fill_stat_data stores it: each value cast to a
 * 32-bit unsigned int, so an inode, a device number or a size beyond 32 bits keeps its low 32
 * bits, and a time before 1970 its two's complement; nanoseconds are the remainder within the
 * second, never negative.
 */
export function storeStat(stat: fs.BigIntStats, into: Uint32Array, at: number): void {
  storeTime(stat.ctimeNs, into, at)
  storeTime(stat.mtimeNs, into, at + 2)
  into[at + 4] = low32(stat.dev)
  into[at + 5] = low32(stat.ino)
  into[at + MODE_FIELD] = low32(stat.mode)
  into[at + 7] = low32(stat.uid)
  into[at + 8] = low32(stat.gid)
  into[at + 9] = low32(stat.size)
}

function storeTime(ns: bigint, into: Uint32Array, at: number): void {
  let seconds = ns / NS_PER_S
  let fraction = ns % NS_PER_S
  if (fraction < 0n) {
    fraction += NS_PER_S
    seconds -= 1n
  }
  into[at] = low32(seconds)
  into[at + 1] = Number(fraction)
}

function low32(value: bigint): number {
  return Number(value & LOW_32)
}

/** The extractor's record: the stat data of files by path, kept in one growing table. */
export class StatRecorder {
  private readonly slots = new Map<string, number>()
  private table = new Uint32Array(INITIAL_SLOTS * STAT_FIELDS)
  private used = 0

  record(path: string, stat: fs.BigIntStats): void {
    let slot = this.slots.get(path)
    if (slot === undefined) {
      if (this.used === this.table.length / STAT_FIELDS) {
        const larger = new Uint32Array(this.table.length * 2)
        larger.set(this.table)
        this.table = larger
      }
      slot = this.used++
      this.slots.set(path, slot)
    }
    storeStat(stat, this.table, slot * STAT_FIELDS)
  }

  /** The file at `path` was removed or changed after its record was taken. */
  forget(path: string): void {
    this.slots.delete(path)
  }

  clear(): void {
    this.slots.clear()
  }

  /**
   * The records of `files`' paths in the map's order, STAT_FIELDS fields each, zeros for a
   * path without one; in an array of its own, which can be transferred to another thread.
   */
  inOrderOf(files: ReadonlyMap<string, unknown>): Uint32Array<ArrayBuffer> {
    const ordered = new Uint32Array(files.size * STAT_FIELDS)
    let at = 0
    for (const path of files.keys()) {
      const slot = this.slots.get(path)
      if (slot !== undefined) {
        for (let field = 0; field < STAT_FIELDS; field++) {
          ordered[at + field] = this.table[slot * STAT_FIELDS + field]
        }
      }
      at += STAT_FIELDS
    }
    return ordered
  }
}

/**
 * Where each path of `files` that has a record starts in `stats` (the extractor's
 * inOrderOf(files), as it arrived).
 */
export function recordOffsets(
  files: ReadonlyMap<string, unknown>,
  stats: Uint32Array
): Map<string, number> {
  if (stats.length !== files.size * STAT_FIELDS) {
    throw new Error(`internal: ${stats.length} stat fields for ${files.size} files`)
  }
  const offsets = new Map<string, number>()
  let at = 0
  for (const path of files.keys()) {
    if (stats[at + MODE_FIELD] !== 0) offsets.set(path, at)
    at += STAT_FIELDS
  }
  return offsets
}
