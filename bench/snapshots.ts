/**
 * The benchmark's inputs, built once and cached by content under bench/.cache: the bare
 * mirror (keyed by the repository's shape and the generator's source), and from it two
 * snapshots made the way cachew makes them (keyed by the mirror, the snapshot code and the
 * tool versions): `tar | pzstd` (current servers) and `tar | zstd -T0` (older servers, one
 * frame). A cache entry counts only once its manifest is written, so an interrupted build
 * is rebuilt, never used half-made.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import { execTool, makeSnapshot, type Compressor } from '../__tests__/support/fixtures.js'
import { generateMirror, SHAPES, type RepoShape } from './generate.js'
import { BENCH_DIR, CACHE_DIR, type Scale } from './options.js'
import { toolVersion } from './tools.js'
import { sha256 } from './verify.js'

export const UPSTREAM_HOST = 'github.com'
export const UPSTREAM_OWNER = 'bench'

/** The two snapshot formats, each served as its own repository. */
export const FORMATS = {
  pzstd: { compressor: 'pzstd' as Compressor, repo: 'monorepo' },
  zstd: { compressor: 'zstd' as Compressor, repo: 'monorepo-zstd1frame' }
}
export type Format = keyof typeof FORMATS

export function upstreamUrl(format: Format): string {
  return `https://${UPSTREAM_HOST}/${UPSTREAM_OWNER}/${FORMATS[format].repo}`
}

/** Where the server keeps a snapshot, relative to its root (the path the action asks for). */
export function snapshotPath(format: Format): string {
  return `git/${UPSTREAM_HOST}/${UPSTREAM_OWNER}/${FORMATS[format].repo}/snapshot.tar.zst`
}

export interface MirrorInfo {
  /** Directory holding the bare mirror `mirror.git` (the git server's project root). */
  root: string
  bareDir: string
  commit: string
  /** Commits reachable from the head. */
  commits: number
  /** Tracked paths at the head: regular files and symlinks. */
  trackedFiles: number
  packBytes: number
  shape: RepoShape
}

export interface SnapshotFile {
  format: Format
  compressor: string
  file: string
  bytes: number
  sha256: string
  /** zstd frames in the stream (pzstd writes several, each behind a skippable frame). */
  frames: number
}

export interface SnapshotSet {
  commit: string
  /** Uncompressed tar size and entry count (the same for both formats). */
  tarBytes: number
  tarEntries: number
  /** The directory to serve: snapshots at their server paths under it. */
  wwwRoot: string
  files: Record<Format, SnapshotFile>
}

function hashOf(...parts: string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part).update('\0')
  return hash.digest('hex').slice(0, 16)
}

function sourceOf(file: string): string {
  return fs.readFileSync(path.join(BENCH_DIR, file), 'utf8')
}

/** Removes older cache entries of the same kind (`${prefix}<key>`) once a new one is made. */
export async function pruneSiblings(prefix: string, keep: string): Promise<void> {
  for (const name of await fsp.readdir(CACHE_DIR)) {
    if (name.startsWith(prefix) && name !== path.basename(keep)) {
      await fsp.rm(path.join(CACHE_DIR, name), { recursive: true, force: true })
    }
  }
}

function readManifest<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** Counts zstd frames, walking pzstd's skippable frames (each gives the next frame's size). */
export function countFrames(file: string): number {
  const fd = fs.openSync(file, 'r')
  try {
    const size = fs.fstatSync(fd).size
    const header = Buffer.alloc(12)
    let offset = 0
    let frames = 0
    while (offset < size) {
      fs.readSync(fd, header, 0, 12, offset)
      const magic = header.readUInt32LE(0)
      if ((magic & 0xfffffff0) !== 0x184d2a50) return frames + 1 // a plain frame runs to the end
      const length = header.readUInt32LE(4)
      const next = length === 4 ? header.readUInt32LE(8) : 0
      offset += 8 + length + next
      if (next > 0) frames++
    }
    return frames
  } finally {
    fs.closeSync(fd)
  }
}

/** Builds (or reuses) the bare mirror for a scale. */
export async function ensureMirror(scale: Scale, log: (line: string) => void): Promise<MirrorInfo> {
  const shape = SHAPES[scale]
  const key = hashOf(JSON.stringify(shape), sourceOf('generate.ts'), toolVersion('git'))
  const root = path.join(CACHE_DIR, `repo-${scale}-${key}`)
  const manifestFile = path.join(root, 'repo.json')
  const cached = readManifest<MirrorInfo>(manifestFile)
  if (cached) {
    log(`mirror: cached ${root}`)
    return { ...cached, root, bareDir: path.join(root, 'mirror.git') }
  }
  await fsp.rm(root, { recursive: true, force: true })
  await fsp.mkdir(root, { recursive: true })
  const bareDir = path.join(root, 'mirror.git')
  const started = performance.now()
  log(`mirror: generating ${shape.files} files, ${shape.commits} commits into ${bareDir}`)
  const commit = await generateMirror(bareDir, shape, line => log(`  ${line}`))
  const count = (args: string[]) => execTool('git', ['-C', bareDir, ...args])
  const commits = Number((await count(['rev-list', '--count', commit])).trim())
  const listed = await count(['ls-tree', '-r', '--name-only', '-z', commit])
  const trackedFiles = listed.split('\0').filter(Boolean).length
  const packDir = path.join(bareDir, 'objects', 'pack')
  const packBytes = fs
    .readdirSync(packDir)
    .reduce((sum, name) => sum + fs.statSync(path.join(packDir, name)).size, 0)
  const info: MirrorInfo = { root, bareDir, commit, commits, trackedFiles, packBytes, shape }
  await fsp.writeFile(manifestFile, JSON.stringify(info, null, 2))
  await pruneSiblings(`repo-${scale}-`, root)
  log(
    `mirror: ${commit}, ${trackedFiles} files, made in ${((performance.now() - started) / 1000).toFixed(1)} s`
  )
  return info
}

/** The manifest with its paths made absolute again for where the cache is now. */
function located(set: SnapshotSet, dir: string): SnapshotSet {
  const wwwRoot = path.join(dir, 'www')
  const files = { ...set.files }
  for (const format of Object.keys(files) as Format[]) {
    files[format] = { ...files[format], file: path.join(wwwRoot, snapshotPath(format)) }
  }
  return { ...set, wwwRoot, files }
}

/** `zstd -dc FILE | <consumer>`, returning the consumer's output. */
function decodeInto(file: string, consumer: string): Promise<string> {
  return execTool('bash', [
    '-c',
    `set -o pipefail; zstd -q -dc -- "$1" | ${consumer}`,
    'bash',
    file
  ])
}

/**
 * Builds (or reuses) both snapshots of the mirror. `scratchDir` holds the temporary clones:
 * put it on a filesystem where creating and deleting a large tree is cheap.
 */
export async function ensureSnapshots(
  mirror: MirrorInfo,
  scratchDir: string,
  log: (line: string) => void
): Promise<SnapshotSet> {
  const key = hashOf(
    mirror.commit,
    path.basename(mirror.root),
    JSON.stringify(FORMATS),
    fs.readFileSync(path.join(BENCH_DIR, '..', '__tests__', 'support', 'fixtures.ts'), 'utf8'),
    toolVersion('zstd', '-V'),
    toolVersion('tar'),
    toolVersion('git')
  )
  const prefix = `snapshots-${mirror.shape.files}files-`
  const dir = path.join(CACHE_DIR, `${prefix}${key}`)
  const manifestFile = path.join(dir, 'snapshots.json')
  const cached = readManifest<SnapshotSet>(manifestFile)
  if (cached) {
    log(`snapshots: cached ${dir}`)
    return located(cached, dir)
  }
  await fsp.rm(dir, { recursive: true, force: true })
  const wwwRoot = path.join(dir, 'www')
  const files = {} as Record<Format, SnapshotFile>
  for (const format of Object.keys(FORMATS) as Format[]) {
    const { compressor } = FORMATS[format]
    const started = performance.now()
    const target = path.join(wwwRoot, snapshotPath(format))
    await fsp.mkdir(path.dirname(target), { recursive: true })
    // makeSnapshot clones beside its output: build on the scratch filesystem, then move here.
    const scratch = await fsp.mkdtemp(path.join(scratchDir, `snapshot-${format}-`))
    const made = await makeSnapshot(
      { upstreamUrl: upstreamUrl(format), bareDir: mirror.bareDir, workDir: '', commits: [] },
      path.join(scratch, 'snapshot.tar.zst'),
      { compressor }
    )
    if (made.commit !== mirror.commit) {
      throw new Error(`snapshot captured ${made.commit}, the mirror is at ${mirror.commit}`)
    }
    await fsp.copyFile(made.file, target)
    await fsp.rm(scratch, { recursive: true, force: true })
    files[format] = {
      format,
      compressor,
      file: target,
      bytes: fs.statSync(target).size,
      sha256: await sha256(target),
      frames: countFrames(target)
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    log(
      `snapshots: ${format} ${files[format].bytes} bytes, ${files[format].frames} frame(s), ${seconds} s`
    )
  }
  const tarBytes = Number((await decodeInto(files.pzstd.file, 'wc -c')).trim())
  const tarEntries = Number((await decodeInto(files.pzstd.file, 'tar -t | wc -l')).trim())
  const set: SnapshotSet = { commit: mirror.commit, tarBytes, tarEntries, wwwRoot, files }
  await fsp.writeFile(manifestFile, JSON.stringify(set, null, 2))
  await pruneSiblings(prefix, dir)
  return set
}
