/**
 * The benchmark's inputs, built once and cached by content under bench/.cache: each bare
 * mirror (a generated one, keyed by the repository's shape and the generator's source; or a
 * real one given with --mirror, keyed by its refs and packs) and from it two snapshots made
 * the way cachew makes them (keyed by the mirror, the snapshot code and the tool versions):
 * `tar | pzstd` (current servers) and `tar | zstd -T0` (older servers, one frame). A cache
 * entry counts only once its manifest is written, so an interrupted build is rebuilt, never
 * used half-made.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import { execTool, makeSnapshot, type Compressor } from '../__tests__/support/fixtures.js'
import { BRANCH, generateMirror, type RepoShape } from './generate.js'
import { BENCH_DIR, CACHE_DIR } from './options.js'
import { toolVersion } from './tools.js'
import { sha256 } from './verify.js'

/** The two snapshot formats; each is served as its own repository (the one-frame one suffixed). */
export const FORMATS = {
  pzstd: { compressor: 'pzstd' as Compressor, suffix: '' },
  zstd: { compressor: 'zstd' as Compressor, suffix: '-zstd1frame' }
}
export type Format = keyof typeof FORMATS

/** Where a repository lives upstream: `https://HOST/OWNER/NAME`. */
export interface Upstream {
  host: string
  owner: string
  name: string
}

/** The upstream URL the action is given for one format's snapshot (the `repository` input). */
export function upstreamUrl(upstream: Upstream, format: Format): string {
  return `https://${upstream.host}/${upstream.owner}/${upstream.name}${FORMATS[format].suffix}`
}

/** `OWNER/NAME` of one format's snapshot, as GITHUB_REPOSITORY. */
export function repositorySlug(upstream: Upstream, format: Format): string {
  return `${upstream.owner}/${upstream.name}${FORMATS[format].suffix}`
}

/** Where the server keeps a snapshot, relative to its root (the path the action asks for). */
export function snapshotPath(upstream: Upstream, format: Format): string {
  return `git/${upstream.host}/${upstream.owner}/${upstream.name}${FORMATS[format].suffix}/snapshot.tar.zst`
}

/** `https://HOST/OWNER/NAME(.git)` or `git@HOST:OWNER/NAME(.git)` split into its parts. */
export function parseUpstream(url: string): Upstream | undefined {
  const match =
    /^(?:https?|git|ssh):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(
      url
    ) ?? /^[^@/]+@([^:/]+):([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url)
  return match ? { host: match[1], owner: match[2], name: match[3] } : undefined
}

/**
 * How the full-history `git clone` contender runs on a mirror: a plain clone, history cut at
 * a date (`--shallow-since`) because the mirror lacks objects a full clone needs, or skipped.
 */
export type FullClone = { args: string[]; commits: number; note?: string } | { skipped: string }

export interface MirrorInfo {
  /** 'generated' by bench/generate.ts, or a real repository's mirror given with --mirror. */
  source: 'generated' | 'mirror'
  /** Names its cache entries (`snapshots-${cacheName}-…`). */
  cacheName: string
  /** The bare mirror: what the snapshots are cloned from and git http-backend serves. */
  bareDir: string
  upstream: Upstream
  /** The default branch (HEAD of the mirror). */
  branch: string
  commit: string
  /** Commits reachable from the head. */
  commits: number
  /** Tracked paths at the head: regular files and symlinks. */
  trackedFiles: number
  packBytes: number
  /** A content key of the mirror: what its snapshots' cache entry is keyed by. */
  identity: string
  fullClone: FullClone
  /** For generated mirrors: the shape they were generated from. */
  shape?: RepoShape
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

function git(bareDir: string, args: string[]): Promise<string> {
  // A mirror may belong to another user than the one running the benchmark.
  return execTool('git', ['-c', 'safe.directory=*', '-C', bareDir, ...args])
}

async function countCommits(bareDir: string, commit: string): Promise<number> {
  return Number((await git(bareDir, ['rev-list', '--count', commit])).trim())
}

/**
 * The commits a `git clone --shallow-since` of the mirror gets, from such a clone over the
 * local transport. `rev-list --since` draws the boundary differently (it stops its walk at
 * the first older commit, where the server's shallow boundary keeps going along other
 * parents), and was one commit short on babel/babel since 2020-01-13.
 */
async function countShallowSince(bareDir: string, since: string): Promise<number> {
  const scratch = await fsp.mkdtemp(path.join(CACHE_DIR, 'shallow-count-'))
  try {
    await git(path.dirname(scratch), [
      'clone',
      '--quiet',
      '--bare',
      '--single-branch',
      `--shallow-since=${since}`,
      `file://${bareDir}`,
      scratch
    ])
    return Number((await git(scratch, ['rev-list', '--count', 'HEAD'])).trim())
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true })
  }
}

async function countTracked(bareDir: string, commit: string): Promise<number> {
  const listed = await git(bareDir, ['ls-tree', '-r', '--name-only', '-z', commit])
  return listed.split('\0').filter(Boolean).length
}

/** Bytes of the mirror's packs and loose objects. */
async function objectBytes(bareDir: string): Promise<number> {
  const counts = await git(bareDir, ['count-objects', '-v'])
  const kib = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(counts)?.[1] ?? 0)
  return (kib('size-pack') + kib('size')) * 1024
}

/**
 * Builds (or reuses) a generated bare mirror. `cacheName` names its cache entries; entries of
 * the same name with another key are removed once the new one is made.
 */
export async function ensureMirror(
  cacheName: string,
  shape: RepoShape,
  upstream: Upstream,
  log: (line: string) => void
): Promise<MirrorInfo> {
  const key = hashOf(JSON.stringify(shape), sourceOf('generate.ts'), toolVersion('git'))
  const root = path.join(CACHE_DIR, `repo-${cacheName}-${key}`)
  const bareDir = path.join(root, 'mirror.git')
  const manifestFile = path.join(root, 'repo.json')
  const cached = readManifest<MirrorInfo>(manifestFile)
  if (cached?.identity) {
    log(`mirror ${cacheName}: cached ${root}`)
    return { ...cached, bareDir }
  }
  await fsp.rm(root, { recursive: true, force: true })
  await fsp.mkdir(root, { recursive: true })
  const started = performance.now()
  log(
    `mirror ${cacheName}: generating ${shape.files} files, ${shape.commits} commits into ${bareDir}`
  )
  const commit = await generateMirror(bareDir, shape, line => log(`  ${line}`))
  const commits = await countCommits(bareDir, commit)
  const info: MirrorInfo = {
    source: 'generated',
    cacheName,
    bareDir,
    upstream,
    branch: BRANCH,
    commit,
    commits,
    trackedFiles: await countTracked(bareDir, commit),
    packBytes: await objectBytes(bareDir),
    identity: `generated ${key}`,
    fullClone: { args: [], commits },
    shape
  }
  await fsp.writeFile(manifestFile, JSON.stringify(info, null, 2))
  await pruneSiblings(`repo-${cacheName}-`, root)
  log(
    `mirror ${cacheName}: ${commit}, ${info.trackedFiles} files, made in ${((performance.now() - started) / 1000).toFixed(1)} s`
  )
  return info
}

/** What --mirror takes besides the path. */
export interface RealMirrorOptions {
  /** The upstream URL, when the mirror's config does not say (remote.origin.url). */
  url?: string
  /** Clone history since this date for the full-clone contender (`git clone --shallow-since`). */
  cloneSince?: string
}

/**
 * A bare date as an exact instant, midnight UTC. git reads `2020-01-13` as that day at the
 * current time of day, so the shallow boundary, and the commit count a clone is checked
 * against, moved with the clock: counted at 19:52, checked after midnight, babel/babel's clone
 * since 2020-01-13 had 4,248 commits against the 4,243 expected.
 */
export function exactSince(since: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(since) ? `${since} 00:00:00 +0000` : since
}

/** Objects that branches and tags (what `git clone` fetches) reach but the mirror lacks. */
async function missingObjects(bareDir: string, since?: string): Promise<number> {
  const args = ['rev-list', '--objects', '--missing=print', '--branches', '--tags']
  if (since) args.push(`--since=${since}`)
  const listed = await git(bareDir, args)
  return listed.split('\n').filter(line => line.startsWith('?')).length
}

/** The upstream of a mirror: the URL given, its origin, or a stand-in named after its directory. */
async function mirrorUpstream(
  bareDir: string,
  given: string | undefined,
  log: (line: string) => void
): Promise<Upstream> {
  const origin = await git(bareDir, ['config', '--get', 'remote.origin.url']).catch(() => '')
  const url = given ?? origin.trim()
  if (url !== '') {
    const upstream = parseUpstream(url)
    if (!upstream) throw new Error(`cannot read HOST/OWNER/NAME from the mirror's URL ${url}`)
    return upstream
  }
  const name = path
    .basename(bareDir)
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]/g, '-')
  const upstream = { host: 'github.com', owner: 'mirror', name: name || 'repository' }
  log(
    `mirror: no remote.origin.url in its config; serving it as ${upstreamUrl(upstream, 'pzstd')} (--mirror-url names it)`
  )
  return upstream
}

/**
 * Reads (or reuses what was read of) a real repository's bare mirror, as `git clone --mirror`
 * makes one. Nothing is written into it; its facts are cached under a key made of its refs
 * and packs, so a fetched mirror gets new snapshots.
 */
export async function ensureRealMirror(
  given: string,
  options: RealMirrorOptions,
  log: (line: string) => void
): Promise<MirrorInfo> {
  const bareDir = path.resolve(given)
  const bare = await git(bareDir, ['rev-parse', '--is-bare-repository']).catch((error: Error) => {
    throw new Error(`--mirror ${given} is not a git repository: ${error.message}`, { cause: error })
  })
  if (bare.trim() !== 'true') {
    throw new Error(`--mirror ${given} is not a bare repository (make one with git clone --mirror)`)
  }
  const upstream = await mirrorUpstream(bareDir, options.url, log)
  const packs = fs
    .readdirSync(path.join(bareDir, 'objects', 'pack'))
    .sort()
    .map(name => `${name} ${fs.statSync(path.join(bareDir, 'objects', 'pack', name)).size}`)
  const identity = hashOf(
    await git(bareDir, ['symbolic-ref', 'HEAD']),
    await git(bareDir, ['rev-parse', 'HEAD']),
    await git(bareDir, ['for-each-ref', '--format=%(objectname) %(refname)']),
    packs.join('\n'),
    JSON.stringify(upstream),
    options.cloneSince ?? '',
    toolVersion('git'),
    // Bumped when what is read of a mirror changes (2: the shallow clone's commit count; 3: a
    // bare date's boundary is midnight UTC, see exactSince).
    'facts 3'
  )
  const root = path.join(CACHE_DIR, `real-${identity}`)
  const manifestFile = path.join(root, 'repo.json')
  const cached = readManifest<MirrorInfo>(manifestFile)
  if (cached) {
    log(`mirror ${upstream.owner}/${upstream.name}: facts cached in ${root}`)
    return { ...cached, bareDir }
  }
  const started = performance.now()
  const branch = (await git(bareDir, ['symbolic-ref', '--short', 'HEAD'])).trim()
  const commit = (await git(bareDir, ['rev-parse', 'HEAD'])).trim()
  const commits = await countCommits(bareDir, commit)
  const missing = await missingObjects(bareDir)
  let fullClone: FullClone = { args: [], commits }
  if (options.cloneSince) {
    const since = exactSince(options.cloneSince)
    const stillMissing = await missingObjects(bareDir, since)
    if (stillMissing > 0) {
      throw new Error(
        `--clone-since ${since}: the mirror still lacks ${stillMissing} object(s) that history since then needs`
      )
    }
    fullClone = {
      args: [`--shallow-since=${since}`],
      commits: await countShallowSince(bareDir, since),
      note:
        `history since ${options.cloneSince} (\`git clone --shallow-since='${since}'\`)` +
        (missing > 0 ? `: the mirror lacks ${missing} older object(s) a full clone needs` : '')
    }
  } else if (missing > 0) {
    fullClone = {
      skipped:
        `the mirror lacks ${missing} object(s) that its branches and tags reach, so a full ` +
        '`git clone` of it fails; --clone-since DATE clones the history since DATE instead'
    }
  }
  const info: MirrorInfo = {
    source: 'mirror',
    cacheName: 'real',
    bareDir,
    upstream,
    branch,
    commit,
    commits,
    trackedFiles: await countTracked(bareDir, commit),
    packBytes: await objectBytes(bareDir),
    identity,
    fullClone
  }
  await fsp.mkdir(root, { recursive: true })
  await fsp.writeFile(manifestFile, JSON.stringify(info, null, 2))
  await pruneSiblings('real-', root)
  log(
    `mirror ${upstream.owner}/${upstream.name}: ${commit} on ${branch}, ${info.trackedFiles} files, ` +
      `${commits} commits, read in ${((performance.now() - started) / 1000).toFixed(1)} s`
  )
  return info
}

/** The manifest with its paths made absolute again for where the cache is now. */
function located(set: SnapshotSet, dir: string, upstream: Upstream): SnapshotSet {
  const wwwRoot = path.join(dir, 'www')
  const files = { ...set.files }
  for (const format of Object.keys(files) as Format[]) {
    files[format] = { ...files[format], file: path.join(wwwRoot, snapshotPath(upstream, format)) }
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
    mirror.identity,
    JSON.stringify(mirror.upstream),
    JSON.stringify(FORMATS),
    fs.readFileSync(path.join(BENCH_DIR, '..', '__tests__', 'support', 'fixtures.ts'), 'utf8'),
    toolVersion('zstd', '-V'),
    toolVersion('tar'),
    toolVersion('git')
  )
  const prefix = `snapshots-${mirror.cacheName}-`
  const dir = path.join(CACHE_DIR, `${prefix}${key}`)
  const manifestFile = path.join(dir, 'snapshots.json')
  const cached = readManifest<SnapshotSet>(manifestFile)
  if (cached) {
    log(`snapshots ${mirror.cacheName}: cached ${dir}`)
    return located(cached, dir, mirror.upstream)
  }
  await fsp.rm(dir, { recursive: true, force: true })
  const wwwRoot = path.join(dir, 'www')
  const files = {} as Record<Format, SnapshotFile>
  for (const format of Object.keys(FORMATS) as Format[]) {
    const { compressor } = FORMATS[format]
    const started = performance.now()
    const target = path.join(wwwRoot, snapshotPath(mirror.upstream, format))
    await fsp.mkdir(path.dirname(target), { recursive: true })
    // makeSnapshot clones beside its output: build on the scratch filesystem, then move here.
    const scratch = await fsp.mkdtemp(path.join(scratchDir, `snapshot-${format}-`))
    const made = await makeSnapshot(
      {
        upstreamUrl: upstreamUrl(mirror.upstream, format),
        bareDir: mirror.bareDir,
        workDir: '',
        commits: []
      },
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
      `snapshots ${mirror.cacheName}: ${format} ${files[format].bytes} bytes, ${files[format].frames} frame(s), ${seconds} s`
    )
  }
  const tarBytes = Number((await decodeInto(files.pzstd.file, 'wc -c')).trim())
  const tarEntries = Number((await decodeInto(files.pzstd.file, 'tar -t | wc -l')).trim())
  const set: SnapshotSet = { commit: mirror.commit, tarBytes, tarEntries, wwwRoot, files }
  await fsp.writeFile(manifestFile, JSON.stringify(set, null, 2))
  await pruneSiblings(prefix, dir)
  return set
}
