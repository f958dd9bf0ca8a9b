/**
 * What the update-existing contenders need: the repository moved on by a number of small
 * commits past the snapshot (as a self-hosted runner finds it the next day), served with the
 * snapshot, its delta bundle, ensure-refs and git smart HTTP by the project's
 * cachew-compatible server (nginx serves files only), and last job's checkout to start from.
 *
 * The moved-on mirror is a copy of the benchmark's mirror plus AHEAD_COMMITS commits written
 * with `git fast-import`, each editing a few text files and adding one: the size of a typical
 * day's commit, not the generator's bulk ones. Cached by content in bench/.cache like the rest.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {
  snapshotUrl,
  startCachewServer,
  type CachewServer
} from '../__tests__/support/cachew-server.js'
import { execTool } from '../__tests__/support/fixtures.js'
import { BRANCH, Rng } from './generate.js'
import { BENCH_DIR, CACHE_DIR } from './options.js'
import { pruneSiblings, upstreamUrl, type MirrorInfo, type SnapshotSet } from './snapshots.js'
import { toolVersion } from './tools.js'
import { readManifest, type TreeExpectation } from './verify.js'

/** How far the repository has moved on since last job's checkout. */
export const AHEAD_COMMITS = 20
const FILES_EDITED_PER_COMMIT = 3
const TEXT_EXTENSIONS = new Set(['.ts', '.go', '.py', '.rs', '.java', '.c', '.md', '.sh'])

export interface AheadMirror {
  bareDir: string
  /** The head, AHEAD_COMMITS past the snapshot's commit. */
  commit: string
  commits: number
}

export interface InPlaceServer {
  url: string
  /** What a restored or updated tree must be. */
  expected: TreeExpectation
  stop(): Promise<void>
}

function hashOf(...parts: string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part).update('\0')
  return hash.digest('hex').slice(0, 16)
}

/** Builds (or reuses) the benchmark's mirror moved on by AHEAD_COMMITS small commits. */
export async function ensureAheadMirror(
  mirror: MirrorInfo,
  log: (line: string) => void
): Promise<AheadMirror> {
  const key = hashOf(
    mirror.commit,
    String(AHEAD_COMMITS),
    fs.readFileSync(path.join(BENCH_DIR, 'in-place.ts'), 'utf8'),
    toolVersion('git')
  )
  const prefix = `ahead-${mirror.cacheName}-`
  const root = path.join(CACHE_DIR, `${prefix}${key}`)
  const bareDir = path.join(root, 'mirror.git')
  const manifestFile = path.join(root, 'ahead.json')
  if (fs.existsSync(manifestFile)) {
    log(`moved-on mirror: cached ${root}`)
    const cached = JSON.parse(await fsp.readFile(manifestFile, 'utf8')) as AheadMirror
    return { ...cached, bareDir }
  }
  await fsp.rm(root, { recursive: true, force: true })
  await fsp.mkdir(root, { recursive: true })
  await execTool('git', ['clone', '--quiet', '--bare', mirror.bareDir, bareDir])
  await writeSmallCommits(bareDir, mirror.commit)
  const commit = (await execTool('git', ['-C', bareDir, 'rev-parse', BRANCH])).trim()
  const commits = Number(
    (await execTool('git', ['-C', bareDir, 'rev-list', '--count', commit])).trim()
  )
  const ahead: AheadMirror = { bareDir, commit, commits }
  await fsp.writeFile(manifestFile, JSON.stringify(ahead, null, 2))
  await pruneSiblings(prefix, root)
  log(`moved-on mirror: ${AHEAD_COMMITS} commits past ${mirror.commit}, now at ${commit}`)
  return ahead
}

async function writeSmallCommits(bareDir: string, base: string): Promise<void> {
  const listing = await execTool('git', ['-C', bareDir, 'ls-tree', '-r', '-z', base])
  const textFiles = listing
    .split('\0')
    .filter(record => record.startsWith('100644 blob '))
    .map(record => record.slice(record.indexOf('\t') + 1))
    .filter(name => TEXT_EXTENSIONS.has(path.extname(name)))
  const rng = new Rng(AHEAD_COMMITS * 7919)
  const contents = new Map<string, string>()
  const importer = spawn('git', ['-C', bareDir, 'fast-import', '--quiet'], {
    stdio: ['pipe', 'ignore', 'pipe']
  })
  let stderr = ''
  importer.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>(resolve => importer.on('close', resolve))
  const stream: string[] = []
  for (let c = 1; c <= AHEAD_COMMITS; c++) {
    const when = `${1_800_000_000 + c * 3600} +0000`
    const message = `Small change ${c}\n`
    stream.push(`commit refs/heads/${BRANCH}\nmark :${c}\n`)
    stream.push(`author Bench Author <bench@example.invalid> ${when}\n`)
    stream.push(`committer Bench Author <bench@example.invalid> ${when}\n`)
    stream.push(`data ${Buffer.byteLength(message)}\n${message}`)
    stream.push(c === 1 ? `from ${base}\n` : `from :${c - 1}\n`)
    for (let f = 0; f < FILES_EDITED_PER_COMMIT; f++) {
      const name = rng.pick(textFiles)
      const old =
        contents.get(name) ?? (await execTool('git', ['-C', bareDir, 'show', `${base}:${name}`]))
      const edited = `${old}${smallEdit(rng, c, f)}`
      contents.set(name, edited)
      stream.push(inlineFile(name, edited))
    }
    stream.push(inlineFile(`changes/day-${c}.md`, `${smallEdit(rng, c, 0).repeat(20)}`))
    stream.push('\n')
  }
  importer.stdin.end(stream.join(''))
  const code = await exited
  if (code !== 0) throw new Error(`git fast-import exited with ${code}: ${stderr}`)
}

function inlineFile(name: string, content: string): string {
  return `M 100644 inline ${name}\ndata ${Buffer.byteLength(content)}\n${content}\n`
}

function smallEdit(rng: Rng, commit: number, file: number): string {
  const words = Array.from({ length: 8 }, () => rng.int(1 << 20).toString(36))
  return `// change ${commit}.${file}: ${words.join(' ')}\n`
}

/**
 * The cachew-compatible server for the update-existing contenders: the pzstd snapshot at the
 * benchmark's commit, a delta bundle to the moved-on head (made once, before any sample), and
 * the moved-on mirror for ensure-refs and fetches.
 */
export async function startInPlaceServer(
  mirror: MirrorInfo,
  snapshots: SnapshotSet,
  ahead: AheadMirror
): Promise<InPlaceServer> {
  const server: CachewServer = await startCachewServer()
  const upstream = upstreamUrl(mirror.upstream, 'pzstd')
  server.addRepository(
    upstream,
    { file: snapshots.files.pzstd.file, commit: snapshots.commit, bundleBase: snapshots.commit },
    { upstreamUrl: upstream, bareDir: ahead.bareDir, workDir: '', commits: [] }
  )
  try {
    const base = snapshotUrl(server.url, upstream).replace(/\/snapshot\.tar\.zst$/, '')
    const bundle = await fetch(`${base}/snapshot.bundle?base=${snapshots.commit}`)
    await bundle.arrayBuffer()
    if (bundle.status !== 200) throw new Error(`the delta bundle answered ${bundle.status}`)
    const manifest = await readManifest(ahead.bareDir, ahead.commit)
    return {
      url: server.url,
      expected: { commit: ahead.commit, commits: ahead.commits, manifest },
      stop: () => server.close()
    }
  } catch (error) {
    await server.close()
    throw error
  }
}

/**
 * Last job's checkout in `workspace`: the snapshot restored (extracted, index refreshed), plus
 * what a build leaves: a directory of outputs, a stray file, an edit to a tracked file.
 */
export async function lastJobsCheckout(workspace: string, snapshotFile: string): Promise<void> {
  await execTool('bash', [
    '-c',
    'set -o pipefail; zstd -q -dc -- "$1" | tar -x -C "$2"',
    'bash',
    snapshotFile,
    workspace
  ])
  await execTool('git', ['-C', workspace, 'update-index', '-q', '--refresh'])
  await fsp.mkdir(path.join(workspace, 'build', 'obj'), { recursive: true })
  for (let i = 0; i < 50; i++) {
    await fsp.writeFile(path.join(workspace, 'build', 'obj', `unit-${i}.o`), `object ${i}\n`)
  }
  await fsp.writeFile(path.join(workspace, 'stray.log'), 'left by the last job\n')
  await fsp.appendFile(path.join(workspace, 'README.md'), 'an edit the last job made\n')
  settle()
}

/**
 * A checkout of history unrelated to the repository, with the same origin: fetching the
 * commit needs everything, so the fetch passes its budget and is cut off.
 */
export async function unrelatedCheckout(workspace: string, origin: string): Promise<void> {
  const git = (...args: string[]) =>
    execTool('git', [
      '-c',
      'user.name=Bench',
      '-c',
      'user.email=bench@example.invalid',
      '-C',
      workspace,
      ...args
    ])
  await git('init', '--quiet', `--initial-branch=${BRANCH}`)
  await fsp.writeFile(path.join(workspace, 'README.md'), 'another history\n')
  await git('add', 'README.md')
  await git('commit', '--quiet', '-m', 'unrelated')
  await git('remote', 'add', 'origin', origin)
  settle()
}

/** The preparation's writeback must not slow the measured run. */
function settle(): void {
  spawnSync('sync')
}
