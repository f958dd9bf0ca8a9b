/**
 * Checks that a contender really produced what it claims, so a broken one cannot post a
 * fast time. Every restored tree must be at the snapshot's commit with its history and hold
 * exactly the commit's files, each with the commit's size, type and executable bit. The deep
 * check adds `git status`: git rehashes every file whose stat data it does not trust, so
 * wrong content of the right size shows too. That costs seconds on a freshly extracted tree,
 * so contenders that are not under test (the CLI baselines) take it on their first
 * repetition only.
 *
 * A sparse tree (cone mode) must hold exactly the files of the cone, each with the commit's
 * content (hashed here, not left to git's stat trust), every other index entry marked
 * skip-worktree, and the configuration `git sparse-checkout set` leaves; its status check is
 * always taken.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { execTool } from '../__tests__/support/fixtures.js'

/** What a tracked path is at the commit. */
interface Entry {
  size: number
  kind: 'file' | 'executable' | 'symlink'
  /** The blob's object id (in the commit's manifest; a scanned tree has none). */
  oid?: string
}

export interface TreeExpectation {
  commit: string
  /** Commits reachable from HEAD (1 for a shallow clone). */
  commits: number
  /** Every tracked path (outside .git) at the commit. */
  manifest: Map<string, Entry>
  /** A cone-mode sparse checkout of these directories (`git sparse-checkout set DIR…`). */
  sparse?: string[]
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
    const [mode, , oid, size] = record.slice(0, tab).trim().split(/\s+/)
    const kind = mode === '120000' ? 'symlink' : mode === '100755' ? 'executable' : 'file'
    manifest.set(record.slice(tab + 1), { size: Number(size), kind, oid })
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

/**
 * Whether a path is in a cone-mode sparse checkout of these directories, by git's rule
 * (git-sparse-checkout(1), "Internals — cone mode"): every file at the top level, every file
 * below a listed directory, and the files directly inside each ancestor of one.
 */
export function inSparseCone(file: string, cones: string[]): boolean {
  const slash = file.lastIndexOf('/')
  if (slash < 0) return true
  const parent = file.slice(0, slash)
  return cones.some(cone => file.startsWith(`${cone}/`) || `${cone}/`.startsWith(`${parent}/`))
}

/** The manifest's entries a cone-mode sparse checkout of these directories keeps. */
export function sparseManifest(manifest: Map<string, Entry>, cones: string[]): Map<string, Entry> {
  return new Map([...manifest].filter(([name]) => inSparseCone(name, cones)))
}

/** A blob's object id from its content, in the hash the oid's length says (sha1 or sha256). */
function blobId(content: Buffer, like: string): string {
  const hash = createHash(like.length === 64 ? 'sha256' : 'sha1')
  return hash.update(`blob ${content.length}\0`).update(content).digest('hex')
}

/**
 * The sparse checkout as `git sparse-checkout set --cone` leaves it: the patterns, cone mode,
 * skip-worktree on exactly the index entries outside the cone, and each file in the tree with
 * the commit's content. A few hundred files, so hashing them all is cheap.
 */
async function verifySparse(
  dir: string,
  cones: string[],
  manifest: Map<string, Entry>,
  kept: Map<string, Entry>
): Promise<void> {
  const listed = (await git(dir, ['sparse-checkout', 'list'])).trim().split('\n')
  if (listed.join('\n') !== cones.join('\n')) {
    throw new VerificationError(
      `git sparse-checkout list gives ${JSON.stringify(listed)}, not ${JSON.stringify(cones)}`
    )
  }
  const cone = (await git(dir, ['config', '--get', 'core.sparseCheckoutCone'])).trim()
  if (cone !== 'true') throw new VerificationError(`core.sparseCheckoutCone is '${cone}'`)
  const problems: string[] = []
  let entries = 0
  // "H path": in the working tree; "S path": skip-worktree (git ls-files -t)
  for (const record of (await git(dir, ['ls-files', '-t', '-z'])).split('\0')) {
    if (record === '') continue
    entries++
    const [tag, name] = [record.slice(0, 1), record.slice(2)]
    const want = kept.has(name) ? 'H' : 'S'
    if (!manifest.has(name)) problems.push(`${name} is in the index, not in the commit`)
    else if (tag !== want) problems.push(`${name} is '${tag}' in the index, not '${want}'`)
  }
  if (entries !== manifest.size) {
    problems.push(`the index has ${entries} entries, the commit ${manifest.size} paths`)
  }
  for (const [name, entry] of kept) {
    const file = path.join(dir, name)
    const content =
      entry.kind === 'symlink' ? Buffer.from(fs.readlinkSync(file)) : fs.readFileSync(file)
    if (entry.oid && blobId(content, entry.oid) !== entry.oid) {
      problems.push(`${name} differs from the commit's content`)
    }
  }
  if (problems.length > 0) {
    throw new VerificationError(
      `sparse checkout: ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`
    )
  }
}

/**
 * That a `git clone --filter=blob:none` really is partial: the blobs it holds are exactly
 * those of the files it checked out (a server that ignored the filter sends all 600,000
 * objects of babel/babel). Returns what it holds, for the results.
 */
export async function verifyPartialClone(
  dir: string,
  kept: Map<string, Entry>
): Promise<{ blobs: number; objects: number; packBytes: number }> {
  const listing = await git(dir, [
    'cat-file',
    '--batch-all-objects',
    '--batch-check=%(objecttype) %(objectname)'
  ])
  const blobs = new Set<string>()
  let objects = 0
  for (const line of listing.split('\n')) {
    if (line === '') continue
    objects++
    if (line.startsWith('blob ')) blobs.add(line.slice(5))
  }
  const wanted = new Set([...kept.values()].map(entry => entry.oid))
  const extra = [...blobs].filter(oid => !wanted.has(oid)).length
  const missing = [...wanted].filter(oid => oid && !blobs.has(oid)).length
  if (extra > 0 || missing > 0) {
    throw new VerificationError(
      `the partial clone holds ${blobs.size} blobs: ${extra} outside the checkout, ${missing} of it missing`
    )
  }
  const packs = path.join(dir, '.git', 'objects', 'pack')
  const packBytes = fs
    .readdirSync(packs)
    .filter(name => name.endsWith('.pack'))
    .reduce((sum, name) => sum + fs.statSync(path.join(packs, name)).size, 0)
  return { blobs: blobs.size, objects, packBytes }
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
  const kept = expect.sparse ? sparseManifest(expect.manifest, expect.sparse) : expect.manifest
  compareManifests(await scanTree(dir), kept)
  if (expect.sparse) await verifySparse(dir, expect.sparse, expect.manifest, kept)
  else if (!options.deep) return
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
