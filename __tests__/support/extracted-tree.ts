/**
 * What an extraction made, to hold the in-process extractor to GNU tar on the same archive:
 * per path its type, permission bits (special bits included), size and content hash or link
 * target, and which paths share an inode (hard links); beside that every path's mtime in
 * nanoseconds.
 */
import { expect } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface ExtractedTree {
  /** One line per path ('.' is the root), sorted. */
  lines: string[]
  mtimes: Map<string, bigint>
}

export async function describeTree(root: string): Promise<ExtractedTree> {
  const found: Array<{ relative: string; line: string; ino: bigint; links: bigint }> = []
  const mtimes = new Map<string, bigint>()
  async function visit(relative: string): Promise<void> {
    const full = path.join(root, relative)
    const stat = await fs.lstat(full, { bigint: true })
    mtimes.set(relative, stat.mtimeNs)
    const mode = (stat.mode & 0o7777n).toString(8)
    if (stat.isSymbolicLink()) {
      found.push({
        relative,
        line: `${relative} -> ${await fs.readlink(full)}`,
        ino: 0n,
        links: 1n
      })
    } else if (stat.isDirectory()) {
      found.push({ relative, line: `${relative}/ ${mode}`, ino: 0n, links: 1n })
      for (const name of await fs.readdir(full)) await visit(path.join(relative, name))
    } else if (stat.isFile()) {
      const digest = createHash('sha256')
        .update(await fs.readFile(full))
        .digest('hex')
        .slice(0, 16)
      const line = `${relative} ${mode} ${stat.size} ${digest}`
      found.push({ relative, line, ino: stat.ino, links: stat.nlink })
    } else {
      found.push({ relative, line: `${relative} special ${mode}`, ino: 0n, links: 1n })
    }
  }
  await visit('.')
  found.sort((a, b) => (a.relative < b.relative ? -1 : 1))
  // Hard links: every path of an inode names the first path that has it.
  const firstOfInode = new Map<bigint, string>()
  const lines = found.map(({ relative, line, ino, links }) => {
    if (links < 2n) return line
    const first = firstOfInode.get(ino)
    if (first === undefined) firstOfInode.set(ino, relative)
    return first === undefined ? line : `${line} same inode as ${first}`
  })
  return { lines, mtimes }
}

/** Extracts with GNU tar as the action used to run it. */
export async function gnuTarExtract(archive: string, into: string): Promise<void> {
  await fs.mkdir(into, { recursive: true })
  const flags = ['--no-same-owner', '--no-same-permissions', '--delay-directory-restore']
  await run('tar', ['-x', ...flags, '-f', archive, '-C', into])
}

/**
 * The paths an archive lists, as describeTree names them ('.' the root): the directories
 * among them have the archive's mtimes, others tar made with the time of extraction.
 */
export async function listedPaths(archive: string): Promise<Set<string>> {
  const { stdout } = await run('tar', ['-tf', archive, '--quoting-style=literal'], {
    maxBuffer: 1 << 30
  })
  const names = stdout.split('\n').filter(name => name !== '')
  return new Set(names.map(name => path.posix.normalize(name).replace(/(.)\/$/, '$1')))
}

/**
 * The same tree, and the same mtimes for the paths `timed` accepts. Node sets times from a
 * double, so a time with nanoseconds may land a few hundred nanoseconds off: within a
 * microsecond is the same; `exact` demands equality (archives with whole seconds).
 */
export function expectSameTree(
  actual: ExtractedTree,
  expected: ExtractedTree,
  options: { exact?: boolean; timed?: (relative: string) => boolean } = {}
): void {
  expect(actual.lines).toEqual(expected.lines)
  const timed = options.timed ?? (() => true)
  const tolerance = options.exact ? 0n : 1000n
  const off: string[] = []
  for (const [relative, time] of expected.mtimes) {
    if (!timed(relative)) continue
    const difference = (actual.mtimes.get(relative) ?? 0n) - time
    if (difference > tolerance || difference < -tolerance) {
      off.push(`${relative}: ${actual.mtimes.get(relative)} instead of ${time}`)
    }
  }
  expect(off).toEqual([])
}
