/**
 * Fixture builders: real git repositories and snapshots made exactly the way cachew makes them.
 *
 *   const mirror = await makeMirror(dir, { files: 200, commits: 3 })
 *   // mirror.upstreamUrl = 'https://github.example/acme/widgets', mirror.bareDir, mirror.workDir,
 *   // mirror.commits = oldest..newest on 'main'
 *   const snap = await makeSnapshot(mirror, path.join(dir, 'snapshot.tar.zst'))
 *   // snap.commit = HEAD captured in the archive, snap.size = compressed bytes
 *   const next = await addCommit(mirror) // the mirror moves past the snapshot
 *
 * makeMirror commits `files` generated files (deterministic content and dates, so sizes and
 * the first SHA are stable run to run: mostly text, every 10th an executable script, every 25th
 * incompressible binary) plus four special entries: docs/README.md, a relative symlink to it, a
 * file with a unicode name and a file whose path is longer than the 100 bytes a plain ustar
 * header holds. The first commit is written by one `git fast-import` into the bare mirror (packed,
 * as in a fetched cachew mirror; ~40k files in seconds), whose origin is the upstream URL with a
 * mirror refspec. workDir is a clone of it (remote 'mirror'); later commits are pushed from there.
 *
 * makeSnapshot follows cachew's snapshot job: `git clone <mirror> <tmp>` (LFS smudge skipped),
 * `git remote set-url origin <upstream>`, then `tar -cpf - -C <tmp> . | <compressor>` where the
 * compressor is `pzstd -c -p N` (current servers: skippable frame + zstd frame pairs),
 * `zstd -T0 -c` (older servers: one frame) or `zstd --long=31 -T0 -c` (a 2 GiB window that
 * decoders must be told to accept).
 *
 * execTool is the small process runner the support code shares.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

export interface Mirror {
  upstreamUrl: string
  /** The bare repository cachew would keep (what the test server serves git from). */
  bareDir: string
  /** A working clone used to make new commits; pushes to bareDir. */
  workDir: string
  /** Commits on 'main', oldest first. */
  commits: string[]
}

export interface MirrorOptions {
  files?: number
  commits?: number
  upstreamUrl?: string
  /** Mean size in bytes of a generated file (sizes vary from half to one and a half times). */
  fileSize?: number
}

export type Compressor = 'pzstd' | 'zstd' | 'zstd-long'

export interface Snapshot {
  file: string
  commit: string
  size: number
}

export const DEFAULT_UPSTREAM_URL = 'https://github.example/acme/widgets'

/** Entries makeMirror always adds besides the generated files (paths relative to the tree). */
export const SPECIAL_ENTRIES = {
  readme: 'docs/README.md',
  symlink: 'src/link-to-readme.md',
  symlinkTarget: '../docs/README.md',
  unicode: 'docs/ünïcødé-文件.md',
  longPath:
    'deep/nested-directory-with-a-rather-long-name/another-nested-directory-with-a-long-name/' +
    'a-file-name-long-enough-to-push-the-path-past-the-ustar-limit.txt'
}

// ---------------------------------------------------------------- processes

export interface ExecOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
}

/** Runs a command to completion and returns its stdout; rejects with stderr on failure. */
export function execTool(
  command: string,
  args: string[],
  options: ExecOptions = {}
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => stdout.push(d))
    child.stderr.on('data', (d: Buffer) => stderr.push(d))
    child.on('error', reject)
    child.on('close', code => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'))
      else {
        const message = Buffer.concat(stderr).toString('utf8').trim()
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${message}`))
      }
    })
    child.stdin.on('error', () => undefined) // a tool that exits early must not crash us
    child.stdin.end(options.input ?? '')
  })
}

/** A fixed identity and no user-level surprises (signing, autocrlf) for fixture commits. */
const GIT_FIXTURE_CONFIG = [
  '-c',
  'user.name=Fixture Bot',
  '-c',
  'user.email=fixtures@example.invalid',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'core.autocrlf=false',
  '-c',
  'init.defaultBranch=main',
  '-c',
  'gc.auto=0',
  '-c',
  'maintenance.auto=false'
]

function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return execTool('git', [...GIT_FIXTURE_CONFIG, ...args], {
    cwd,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env }
  })
}

async function gitLine(cwd: string, args: string[]): Promise<string> {
  return (await git(cwd, args)).trim()
}

// ---------------------------------------------------------------- content

/** mulberry32: a tiny seeded PRNG, so fixture content (and so snapshot size) is reproducible. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = (
  'const let return function import export from async await if else for while new class ' +
  'interface type string number boolean null undefined true false widget value index buffer ' +
  'stream error result config cache mirror snapshot range chunk offset length options request ' +
  'response header status commit branch tree object reader writer handler server client retry'
).split(' ')

function textContent(random: () => number, size: number, firstLine: string): string {
  const lines = [firstLine]
  let length = firstLine.length + 1
  while (length < size) {
    const indent = '  '.repeat(Math.floor(random() * 4))
    const count = 3 + Math.floor(random() * 9)
    const words: string[] = []
    for (let w = 0; w < count; w++) words.push(WORDS[Math.floor(random() * WORDS.length)])
    const line = `${indent}${words.join(' ')};`
    lines.push(line)
    length += line.length + 1
  }
  return lines.join('\n').slice(0, Math.max(size, firstLine.length)) + '\n'
}

function binaryContent(random: () => number, size: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4))
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(random() * 4294967296)
  return Buffer.from(words.buffer, 0, size)
}

interface TreeEntry {
  path: string
  content: string | Buffer
  mode: '100644' | '100755' | '120000'
}

/** File i of the generated set: ~100 files per directory, two directory levels deep. */
function generatedFile(i: number, meanSize: number, random: () => number): TreeEntry {
  const dir = `src/module-${i % 20}/pkg-${Math.floor(i / 20) % 20}`
  const size = Math.max(16, Math.round(meanSize * (0.5 + random())))
  if (i % 25 === 0) {
    return { path: `${dir}/asset-${i}.bin`, content: binaryContent(random, size), mode: '100644' }
  }
  if (i % 10 === 3) {
    const body = textContent(random, size, `#!/bin/sh\n# script ${i}`)
    return { path: `${dir}/run-${i}.sh`, content: body, mode: '100755' }
  }
  const ext = ['ts', 'md', 'json', 'go'][i % 4]
  const content = textContent(random, size, `// file ${i}`)
  return { path: `${dir}/file-${i}.${ext}`, content, mode: '100644' }
}

function specialEntries(): TreeEntry[] {
  return [
    {
      path: SPECIAL_ENTRIES.readme,
      content: '# widgets\n\nA fixture repository.\n',
      mode: '100644'
    },
    { path: SPECIAL_ENTRIES.unicode, content: 'A file whose name is not ASCII.\n', mode: '100644' },
    {
      path: SPECIAL_ENTRIES.longPath,
      content: 'A file whose path does not fit a plain ustar header.\n',
      mode: '100644'
    },
    { path: SPECIAL_ENTRIES.symlink, content: SPECIAL_ENTRIES.symlinkTarget, mode: '120000' }
  ]
}

/**
 * Writes one commit holding all entries straight into a pack with `git fast-import`. Going
 * through the work tree (write, `git add`, `git push`) made ~40k loose objects that took minutes
 * to pack on a slow disk; this writes each blob once, sequentially, generated on demand.
 */
async function importInitialCommit(
  bareDir: string,
  entries: Iterable<TreeEntry>,
  message: string
): Promise<void> {
  const child = spawn('git', [...GIT_FIXTURE_CONFIG, 'fast-import', '--quiet'], {
    cwd: bareDir,
    stdio: ['pipe', 'ignore', 'pipe']
  })
  const done = exitOf(child)
  const input = child.stdin
  const write = (data: string | Buffer): Promise<void> | undefined =>
    input.write(data) ? undefined : new Promise(resolve => input.once('drain', resolve))
  input.on('error', () => undefined) // a failing fast-import reports through its exit code
  const lines: string[] = []
  let mark = 0
  for (const entry of entries) {
    const content = Buffer.from(entry.content)
    await write(`blob\nmark :${++mark}\ndata ${content.length}\n`)
    await write(content)
    await write('\n')
    lines.push(`M ${entry.mode} :${mark} ${entry.path}\n`)
  }
  const body = Buffer.from(message)
  const committer = 'Fixture Bot <fixtures@example.invalid> 1700000000 +0000'
  await write(`commit refs/heads/main\ncommitter ${committer}\ndata ${body.length}\n${message}\n`)
  await write(lines.join(''))
  input.end('\n')
  const result = await done
  if (result.code !== 0)
    throw new Error(`git fast-import failed (${result.code}): ${result.stderr}`)
}

function* fixtureEntries(files: number, meanSize: number): Generator<TreeEntry> {
  const random = makeRandom(files * 7919 + meanSize)
  for (let i = 0; i < files; i++) yield generatedFile(i, meanSize, random)
  yield* specialEntries()
}

// ---------------------------------------------------------------- mirrors

export async function makeMirror(root: string, options: MirrorOptions = {}): Promise<Mirror> {
  const files = options.files ?? 50
  const commits = Math.max(1, options.commits ?? 3)
  const upstreamUrl = options.upstreamUrl ?? DEFAULT_UPSTREAM_URL
  const workDir = path.join(root, 'work')
  const bareDir = path.join(root, 'mirror.git')
  await fsp.mkdir(root, { recursive: true })

  await initBareMirror(bareDir, upstreamUrl)
  await importInitialCommit(
    bareDir,
    fixtureEntries(files, options.fileSize ?? 1024),
    'Initial import'
  )
  await git(root, ['clone', '-q', '--origin', 'mirror', bareDir, workDir])
  const mirror: Mirror = { upstreamUrl, bareDir, workDir, commits: [] }
  for (let n = 1; n < commits; n++) await commitChange(mirror, n, `Change ${n}`)
  if (commits > 1) await git(workDir, ['push', '-q', 'mirror', 'main'])
  mirror.commits = (await gitLine(workDir, ['rev-list', '--reverse', 'main'])).split('\n')
  return mirror
}

/** A bare repository configured the way `git clone --mirror <upstream>` leaves one. */
async function initBareMirror(bareDir: string, upstreamUrl: string): Promise<void> {
  await git(path.dirname(bareDir), ['init', '-q', '--bare', '-b', 'main', bareDir])
  await git(bareDir, ['config', 'remote.origin.url', upstreamUrl])
  await git(bareDir, ['config', 'remote.origin.fetch', '+refs/*:refs/*'])
  await git(bareDir, ['config', 'remote.origin.mirror', 'true'])
  // No background repacking while a test server reads the mirror.
  await git(bareDir, ['config', 'gc.auto', '0'])
}

/** Edits one tracked file and adds one new file, then commits (not pushed). */
async function commitChange(mirror: Mirror, n: number, message: string): Promise<void> {
  const changeFile = path.join(mirror.workDir, 'changes', `change-${n}.md`)
  await fsp.mkdir(path.dirname(changeFile), { recursive: true })
  await fsp.writeFile(changeFile, `Change number ${n}: ${message}\n`)
  await fsp.appendFile(path.join(mirror.workDir, SPECIAL_ENTRIES.readme), `- ${message}\n`)
  await git(mirror.workDir, ['add', '-A'])
  await git(mirror.workDir, ['commit', '-q', '-m', message])
}

/** Makes a new commit on main, pushes it to the bare mirror and returns its SHA. */
export async function addCommit(mirror: Mirror, message?: string): Promise<string> {
  const n = mirror.commits.length
  await commitChange(mirror, n, message ?? `Change ${n}`)
  await git(mirror.workDir, ['push', '-q', 'mirror', 'main'])
  const sha = await gitLine(mirror.workDir, ['rev-parse', 'HEAD'])
  mirror.commits.push(sha)
  return sha
}

// ---------------------------------------------------------------- snapshots

function compressorCommand(compressor: Compressor): [string, string[]] {
  switch (compressor) {
    case 'pzstd':
      return ['pzstd', ['-q', '-c', '-p', String(os.availableParallelism())]]
    case 'zstd':
      return ['zstd', ['-q', '-T0', '-c']]
    case 'zstd-long':
      return ['zstd', ['-q', '--long=31', '-T0', '-c']]
  }
}

/** `tar -cpf - -C dir . | compressor > outFile`, both real processes joined by a pipe. */
async function tarAndCompress(dir: string, outFile: string, compressor: Compressor): Promise<void> {
  const out = await fsp.open(outFile, 'w')
  try {
    const tar = spawn('tar', ['-cpf', '-', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const [command, args] = compressorCommand(compressor)
    const zstd = spawn(command, args, { stdio: ['pipe', out.fd, 'pipe'] })
    // Piped through this process: handing tar's stdout to the second child directly leaves
    // tar's 'close' event pending forever.
    const compressorInput = zstd.stdin
    if (!compressorInput) throw new Error(`${command} has no stdin`)
    tar.stdout.pipe(compressorInput)
    compressorInput.on('error', () => undefined) // reported through the exit codes below
    const [tarResult, zstdResult] = await Promise.all([exitOf(tar), exitOf(zstd)])
    if (tarResult.code !== 0) throw new Error(`tar failed (${tarResult.code}): ${tarResult.stderr}`)
    if (zstdResult.code !== 0) {
      throw new Error(`${command} failed (${zstdResult.code}): ${zstdResult.stderr}`)
    }
  } finally {
    await out.close()
  }
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stderr: stderr.trim() }))
  })
}

export async function makeSnapshot(
  mirror: Mirror,
  outFile: string,
  options: { compressor?: Compressor } = {}
): Promise<Snapshot> {
  const scratch = await fsp.mkdtemp(path.join(path.dirname(path.resolve(outFile)), '.snapshot-'))
  try {
    const cloneDir = path.join(scratch, 'clone')
    await git(scratch, ['clone', '-q', mirror.bareDir, cloneDir], { GIT_LFS_SKIP_SMUDGE: '1' })
    await git(cloneDir, ['remote', 'set-url', 'origin', mirror.upstreamUrl])
    const commit = await gitLine(cloneDir, ['rev-parse', 'HEAD'])
    await tarAndCompress(cloneDir, outFile, options.compressor ?? 'pzstd')
    const size = fs.statSync(outFile).size
    return { file: outFile, commit, size }
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- Git LFS

/**
 * Commits `files` (path → content) as Git LFS files, made by the real git-lfs in the working
 * clone (`git lfs track`, then `git add`: the clean filter writes the pointer and stores the
 * object under workDir/.git/lfs/objects), and pushes the commit to the bare mirror. The push
 * skips git-lfs's pre-push hook: the mirror is a plain path with no LFS server; the objects stay
 * in the working clone, where the test's LFS server and LFS snapshot take them from.
 */
export async function addLfsCommit(
  mirror: Mirror,
  files: Record<string, Buffer>,
  pattern = 'media/**'
): Promise<string> {
  await git(mirror.workDir, ['lfs', 'install', '--local'])
  await git(mirror.workDir, ['lfs', 'track', pattern])
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(mirror.workDir, name)
    await fsp.mkdir(path.dirname(file), { recursive: true })
    await fsp.writeFile(file, content)
  }
  await git(mirror.workDir, ['add', '-A'])
  await git(mirror.workDir, ['commit', '-q', '-m', `LFS files: ${Object.keys(files).join(', ')}`])
  await git(mirror.workDir, ['push', '-q', '--no-verify', 'mirror', 'main'])
  const sha = await gitLine(mirror.workDir, ['rev-parse', 'HEAD'])
  mirror.commits.push(sha)
  return sha
}

/** Where git-lfs keeps the working clone's objects: lfs/objects/XX/YY/OID below this. */
export function lfsGitDir(mirror: Mirror): string {
  return path.join(mirror.workDir, '.git')
}

/**
 * An LFS snapshot as cachew makes one: `tar -cpf - -C <.git> ./lfs | zstd`, of `gitDir`
 * (by default the working clone's, holding every object committed so far).
 */
export async function makeLfsSnapshot(gitDir: string, outFile: string): Promise<void> {
  const out = await fsp.open(outFile, 'w')
  try {
    const tar = spawn('tar', ['-cpf', '-', '-C', gitDir, './lfs'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const zstd = spawn('zstd', ['-q', '-T0', '-c'], { stdio: ['pipe', out.fd, 'pipe'] })
    const input = zstd.stdin
    if (!input) throw new Error('zstd has no stdin')
    tar.stdout.pipe(input)
    input.on('error', () => undefined)
    const [tarResult, zstdResult] = await Promise.all([exitOf(tar), exitOf(zstd)])
    if (tarResult.code !== 0) throw new Error(`tar failed (${tarResult.code}): ${tarResult.stderr}`)
    if (zstdResult.code !== 0)
      throw new Error(`zstd failed (${zstdResult.code}): ${zstdResult.stderr}`)
  } finally {
    await out.close()
  }
}
