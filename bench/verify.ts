/**
 * Checks that a contender really produced what it claims, so a broken one cannot post a
 * fast time. Every restored tree must be at the snapshot's commit with its history and hold
 * exactly the commit's files, each with the commit's size, type and executable bit. The deep
 * check adds `git status`: git rehashes every file whose stat data it does not trust, so
 * wrong content of the right size shows too. That costs seconds on a freshly extracted tree,
 * so contenders that are not under test (the CLI baselines) take it on their first
 * repetition only.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { execTool } from '../__tests__/support/fixtures.js'

/** What a tracked path is at the commit. */
interface Entry {
  size: number
  kind: 'file' | 'executable' | 'symlink'
}

export interface TreeExpectation {
  commit: string
  /** Commits reachable from HEAD (1 for a shallow clone). */
  commits: number
  /** Every tracked path (outside .git) at the commit. */
  manifest: Map<string, Entry>
}

export class VerificationError extends Error {}

function git(dir: string, args: string[]): Promise<string> {
  // The tree may belong to another user than the one running the checks.
  return execTool('git', ['-c', 'safe.directory=*', '-C', dir, ...args])
}

/** The commit's paths with their sizes and kinds, read from a repository that has it. */
export async function readManifest(
  repository: string,
  commit: string
): Promise<Map<string, Entry>> {
  const listing = await git(repository, ['ls-tree', '-r', '-l', '-z', commit])
  const manifest = new Map<string, Entry>()
  for (const record of listing.split('\0')) {
    if (record === '') continue
    // "<mode> <type> <sha> <size>\t<path>"
    const tab = record.indexOf('\t')
    const [mode, , , size] = record.slice(0, tab).trim().split(/\s+/)
    const kind = mode === '120000' ? 'symlink' : mode === '100755' ? 'executable' : 'file'
    manifest.set(record.slice(tab + 1), { size: Number(size), kind })
  }
  return manifest
}

/**
 * Every file and symlink under dir (not .git at the top) with its size and kind. GNU find
 * lists 40,000 files in a fraction of the time a stat per file from node takes.
 */
async function scanTree(dir: string): Promise<Map<string, Entry>> {
  const listing = await execTool('find', [
    dir,
    '-path',
    path.join(dir, '.git'),
    '-prune',
    '-o',
    '(',
    '-type',
    'f',
    '-o',
    '-type',
    'l',
    ')',
    '-printf',
    '%y %m %s %P\\0'
  ])
  const found = new Map<string, Entry>()
  for (const record of listing.split('\0')) {
    if (record === '') continue
    const [type, mode, size] = record.split(' ', 3)
    const name = record.slice(type.length + mode.length + size.length + 3)
    const kind = type === 'l' ? 'symlink' : Number.parseInt(mode, 8) & 0o100 ? 'executable' : 'file'
    found.set(name, { size: Number(size), kind })
  }
  return found
}

function compareManifests(found: Map<string, Entry>, expected: Map<string, Entry>): void {
  const problems: string[] = []
  for (const [name, want] of expected) {
    const got = found.get(name)
    if (!got) problems.push(`${name} is missing`)
    else if (got.kind !== want.kind) problems.push(`${name} is a ${got.kind}, not a ${want.kind}`)
    else if (got.size !== want.size)
      problems.push(`${name} has ${got.size} bytes, not ${want.size}`)
  }
  for (const name of found.keys()) if (!expected.has(name)) problems.push(`${name} is extra`)
  if (problems.length > 0) {
    throw new VerificationError(
      `${problems.length} path(s) differ from the commit: ${problems.slice(0, 5).join('; ')}`
    )
  }
}

export async function verifyTree(
  dir: string,
  expect: TreeExpectation,
  options: { deep: boolean }
): Promise<void> {
  const head = (await git(dir, ['rev-parse', 'HEAD'])).trim()
  if (head !== expect.commit) {
    throw new VerificationError(`HEAD is ${head}, the snapshot's commit is ${expect.commit}`)
  }
  const commits = Number((await git(dir, ['rev-list', '--count', 'HEAD'])).trim())
  if (commits !== expect.commits) {
    throw new VerificationError(
      `${commits} commits reachable from HEAD, expected ${expect.commits}`
    )
  }
  compareManifests(await scanTree(dir), expect.manifest)
  if (!options.deep) return
  const status = await git(dir, ['status', '--porcelain', '--ignored'])
  if (status.trim() !== '') {
    const lines = status.trim().split('\n')
    throw new VerificationError(
      `git status reports ${lines.length} difference(s): ${lines.slice(0, 5).join('; ')}`
    )
  }
}

export async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 }))
    hash.update(chunk)
  return hash.digest('hex')
}

/** The downloaded file is the served snapshot, byte for byte. */
export async function verifyFile(file: string, bytes: number, digest: string): Promise<void> {
  const size = fs.statSync(file).size
  if (size !== bytes)
    throw new VerificationError(`downloaded ${size} bytes, the snapshot has ${bytes}`)
  if ((await sha256(file)) !== digest) {
    throw new VerificationError('the downloaded file differs from the snapshot (sha256)')
  }
}
