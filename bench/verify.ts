/**
 * Checks that a contender really produced what it claims, so a broken one cannot post a
 * fast time: the restored tree is at the snapshot's commit with its history, `git status`
 * finds nothing changed or missing (git rehashes every file whose stat data it does not
 * trust, so corrupt content shows), and the file count matches the commit's.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import { execTool } from '../__tests__/support/fixtures.js'

export interface TreeExpectation {
  commit: string
  /** Regular files and symlinks outside .git. */
  files: number
  /** Commits reachable from HEAD (1 for a shallow clone). */
  commits: number
}

export class VerificationError extends Error {}

function git(dir: string, args: string[]): Promise<string> {
  // The tree may belong to another user than the one running the checks.
  return execTool('git', ['-c', 'safe.directory=*', '-C', dir, ...args])
}

/** Counts regular files and symlinks under dir, not descending into .git at the top. */
export async function countFiles(dir: string): Promise<number> {
  let count = 0
  const walk = async (current: string, top: boolean): Promise<void> => {
    for (const entry of await fsp.readdir(current, { withFileTypes: true })) {
      if (top && entry.name === '.git') continue
      if (entry.isDirectory()) await walk(path.join(current, entry.name), false)
      else if (entry.isFile() || entry.isSymbolicLink()) count++
    }
  }
  await walk(dir, true)
  return count
}

export async function verifyTree(dir: string, expect: TreeExpectation): Promise<void> {
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
  const status = await git(dir, ['status', '--porcelain', '--ignored'])
  if (status.trim() !== '') {
    const lines = status.trim().split('\n')
    throw new VerificationError(
      `git status reports ${lines.length} difference(s): ${lines.slice(0, 5).join('; ')}`
    )
  }
  const files = await countFiles(dir)
  if (files !== expect.files) {
    throw new VerificationError(`${files} files in the tree, the commit has ${expect.files}`)
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
