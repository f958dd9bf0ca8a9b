/**
 * sparse-checkout end to end on dist/index.js, against the project's server. The action runs
 * under strace, so "never written" is checked on every process it starts (git included): no
 * call that creates a file, directory or link ever names a path outside the set. The clone
 * then ends as `git sparse-checkout set [--no-cone]` leaves a clone of the same commit: the
 * same config, .git/info/sparse-checkout, index flags and working tree, with stat data fresh
 * (git need not rehash anything), and a later `git sparse-checkout add` works.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { execTool, makeMirror, makeSnapshot, type Mirror } from './support/fixtures.js'
import { pythonTar } from './support/hostile-tar.js'
import { listDir, runAction, visibleLog, type ActionRun } from './support/run-action.js'
import { tempDirectory } from './support/temp.js'
import { git, manifest } from './support/tree.js'

const HOSTILE_URL = 'https://github.example/evil/sparse-escape'

let root: string
let server: CachewServer
let mirror: Mirror
let snapshotCommit: string
let head: string // main, one commit past the snapshot, inside and outside the set

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-sparse-'))
  // src/module-0 … src/module-19, each with pkg-0 … pkg-5; docs/, deep/ and a symlink.
  mirror = await makeMirror(path.join(root, 'repo'), { files: 240, commits: 1, fileSize: 512 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'))
  snapshotCommit = snapshot.commit
  const work = mirror.workDir
  const edit = async (name: string, text: string) => {
    await fs.mkdir(path.dirname(path.join(work, name)), { recursive: true })
    await fs.writeFile(path.join(work, name), text)
  }
  await edit('src/module-1/pkg-0/file-20.md', 'changed inside the set\n')
  await edit('src/module-1/pkg-9/new.ts', 'new inside the set\n')
  await edit('src/module-2/pkg-0/file-2.json', '{"changed": "outside the set"}\n')
  await edit('src/module-12/new.ts', 'new outside the set\n')
  await edit('top-level.txt', 'new at the top: in every cone\n')
  await execTool('git', ['-C', work, 'add', '-A'])
  await execTool('git', ['-C', work, 'commit', '-q', '-m', 'Past the snapshot'])
  await execTool('git', ['-C', work, 'push', '-q', 'mirror', 'main'])
  head = await git(work, 'rev-parse', 'HEAD')

  const hostile = await pythonTar('gnu', [
    { name: './src/module-1/ok.txt', data: 'fine' },
    { name: './other/up', type: 'symlink', linkName: '../../..' },
    { name: './other/up/escaped.txt', data: 'pwned' }
  ])
  await fs.writeFile(
    path.join(root, 'hostile.tar.zst'),
    execFileSync('zstd', ['-q', '-c'], { input: hostile })
  )
  server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshotCommit }, mirror)
  server.addRepository(HOSTILE_URL, { file: path.join(root, 'hostile.tar.zst') })
})

afterAll(async () => {
  await server?.close()
  await fs.rm(root, { recursive: true, force: true })
})

/** What `git sparse-checkout set` makes of a clone of main: the reference to compare with. */
async function referenceClone(args: string[]): Promise<string> {
  const dir = path.join(await tempDirectory('sparse-reference-'), 'clone')
  await execTool('git', ['clone', '-q', mirror.bareDir, dir])
  await execTool('git', ['-C', dir, 'sparse-checkout', 'set', ...args])
  return dir
}

/** Paths with their skip-worktree tag (`H` or `S`), as `git ls-files -t` shows them. */
async function indexFlags(dir: string): Promise<string> {
  return git(dir, '-c', 'core.quotePath=false', 'ls-files', '-t')
}

const workingTree = (dir: string) => manifest(dir, relative => relative.startsWith('.git'))

async function sparseConfig(dir: string): Promise<Record<string, string>> {
  const read = (key: string) => git(dir, 'config', '--get', key).catch(() => '(unset)')
  return {
    sparseCheckout: await read('core.sparseCheckout'),
    sparseCheckoutCone: await read('core.sparseCheckoutCone'),
    patterns: await fs.readFile(path.join(dir, '.git/info/sparse-checkout'), 'utf8')
  }
}

/** Runs the action under strace; returns the run and every path a call tried to create. */
async function runTraced(patterns: string, cone: boolean): Promise<[ActionRun, string[]]> {
  const trace = path.join(await tempDirectory('strace-'), 'trace')
  const creating =
    'trace=open,openat,creat,mkdir,mkdirat,symlink,symlinkat,link,linkat,rename,renameat,renameat2'
  const run = await runAction({
    inputs: {
      'server-url': server.url,
      repository: mirror.upstreamUrl,
      ref: 'main',
      'sparse-checkout': patterns,
      'sparse-checkout-cone-mode': String(cone)
    },
    wrapper: ['strace', '-f', '-qq', '-s', '4096', '-e', creating, '-o', trace]
  })
  const created: string[] = []
  for (const line of (await fs.readFile(trace, 'utf8')).split('\n')) {
    if (/\bopen(at)?\(/.test(line) && !line.includes('O_CREAT')) continue
    for (const [, name] of line.matchAll(/"((?:[^"\\]|\\.)*)"/g)) created.push(name)
  }
  return [run, created]
}

/** The paths of the commit that `reference` left out (skip-worktree), and their directories. */
async function leftOut(reference: string): Promise<string[]> {
  const skipped = (await indexFlags(reference))
    .split('\n')
    .filter(line => line.startsWith('S '))
    .map(line => line.slice(2))
  const kept = new Set(
    (await indexFlags(reference))
      .split('\n')
      .filter(line => line.startsWith('H '))
      .flatMap(line => ancestors(line.slice(2)))
  )
  const directories = new Set(skipped.flatMap(ancestors).filter(dir => !kept.has(dir)))
  return [...skipped, ...directories]
}

function ancestors(name: string): string[] {
  const parts = name.split('/')
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'))
}

/** No created path ends in one left out; and the trace did see the kept files made. */
function expectNeverCreated(created: string[], outside: string[], inside: string[]): void {
  const named = (names: string[]) =>
    created.filter(made => names.some(name => made === name || made.endsWith(`/${name}`)))
  expect(outside.length).toBeGreaterThan(0)
  expect(named(outside)).toEqual([])
  expect(named(inside).length).toBeGreaterThan(0)
}

async function expectAsGitLeavesIt(workspace: string, reference: string): Promise<void> {
  expect(await git(workspace, 'rev-parse', 'HEAD')).toBe(head)
  expect(await sparseConfig(workspace)).toEqual(await sparseConfig(reference))
  expect(await indexFlags(workspace)).toBe(await indexFlags(reference))
  expect(await workingTree(workspace)).toEqual(await workingTree(reference))
  // Stat data fresh: diff-files compares it without reading files, and lists any entry whose
  // stat data does not match (one git would rehash). Before status, which would refresh it.
  expect(await git(workspace, 'diff-files', '--name-only')).toBe('')
  expect(await git(workspace, 'status', '--porcelain')).toBe('')
}

describe('sparse-checkout in cone mode', () => {
  it('writes only the set, ends as git sparse-checkout set, and a later add brings more', async () => {
    const reference = await referenceClone(['--cone', 'src/module-1', 'docs'])
    const [run, created] = await runTraced('src/module-1\ndocs/\n', true)
    expect(run.exitCode).toBe(0)
    const log = visibleLog(run)
    const outside = await leftOut(reference)
    expect(outside).toContain('src/module-12/new.ts') // the prefix is not a cone
    expect(outside).toContain('deep') // a top-level directory outside every cone
    const notWritten = /Sparse checkout: (\d+) file\(s\) outside the set not written/.exec(log)
    // What the snapshot's commit has outside the set: not what the later commit added.
    const inSnapshot = new Set(
      (await git(mirror.workDir, 'ls-tree', '-r', '--name-only', snapshotCommit)).split('\n')
    )
    expect(Number(notWritten?.[1])).toBe(outside.filter(name => inSnapshot.has(name)).length)
    expectNeverCreated(created, outside, ['src/module-1/pkg-0/file-20.md', 'docs/README.md'])
    expect(log).not.toContain('::warning::')

    await expectAsGitLeavesIt(run.workspace, reference)
    expect(await git(run.workspace, 'sparse-checkout', 'list')).toBe('docs\nsrc/module-1')
    // The commit past the snapshot came in within the set.
    expect(
      await fs.readFile(path.join(run.workspace, 'src/module-1/pkg-0/file-20.md'), 'utf8')
    ).toBe('changed inside the set\n')
    expect(await fs.readFile(path.join(run.workspace, 'top-level.txt'), 'utf8')).toContain('top')
    await expect(fs.access(path.join(run.workspace, 'src/module-2'))).rejects.toThrow()

    await execTool('git', ['-C', run.workspace, 'sparse-checkout', 'add', 'src/module-2'])
    await execTool('git', ['-C', reference, 'sparse-checkout', 'add', 'src/module-2'])
    await expectAsGitLeavesIt(run.workspace, reference)
    expect(
      await fs.readFile(path.join(run.workspace, 'src/module-2/pkg-0/file-2.json'), 'utf8')
    ).toContain('outside the set')
  })

  it('refuses patterns cone mode does not take before any request', async () => {
    server.resetStats()
    const run = await runAction({
      inputs: {
        'server-url': server.url,
        repository: mirror.upstreamUrl,
        'sparse-checkout': 'src/*.ts'
      }
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain("::error::Input 'sparse-checkout': 'src/*.ts' has one of")
    expect(server.requests).toEqual([])
  })
})

describe('sparse-checkout without cone mode', () => {
  it('takes gitignore patterns as git does, writing only what they keep', async () => {
    // src/module-4 holds .ts files only; *.sh files are in module-3 and module-13.
    const patterns = ['/src/module-4/', '*.sh', '!src/module-4/pkg-1/', '/docs/README.md']
    const reference = await referenceClone(['--no-cone', ...patterns])
    const [run, created] = await runTraced(patterns.join('\n'), false)
    expect(run.exitCode).toBe(0)
    expect(visibleLog(run)).not.toContain('::warning::')
    const outside = await leftOut(reference)
    expect(outside).toContain('src/module-4/pkg-1')
    expect(outside).toContain('docs/ünïcødé-文件.md')
    expectNeverCreated(created, outside, [
      'docs/README.md',
      'src/module-4/pkg-0',
      'src/module-13/pkg-0/run-13.sh'
    ])
    await expectAsGitLeavesIt(run.workspace, reference)
    expect((await git(run.workspace, 'sparse-checkout', 'list')).split('\n')).toEqual(patterns)
  })
})

describe('a full checkout already in the workspace', () => {
  it('is not updated in place: the snapshot is restored sparse', async () => {
    const base = { 'server-url': server.url, repository: mirror.upstreamUrl, ref: 'main' }
    const full = await runAction({ inputs: base })
    expect(full.exitCode).toBe(0)
    expect(await fs.readdir(path.join(full.workspace, 'src'))).toContain('module-2')
    const sparse = await runAction({
      inputs: { ...base, 'sparse-checkout': 'src/module-1' },
      workspace: full.workspace
    })
    expect(sparse.exitCode).toBe(0)
    expect(sparse.outputs.mode).toBe('snapshot')
    expect(visibleLog(sparse)).toContain(
      'sparse-checkout is set: restoring the snapshot rather than updating in place.'
    )
    const reference = await referenceClone(['--cone', 'src/module-1'])
    await expectAsGitLeavesIt(sparse.workspace, reference)
  })
})

describe('the hostile suite', () => {
  it('still refuses an unsafe entry outside the sparse set, writing nothing outside', async () => {
    const parent = await tempDirectory('sparse-hostile-')
    const workspace = path.join(parent, 'ws')
    await fs.mkdir(workspace)
    const run = await runAction({
      inputs: {
        'server-url': server.url,
        repository: HOSTILE_URL,
        'sparse-checkout': 'src/module-1'
      },
      workspace
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::.*other\/up/)
    expect(run.stdout).not.toMatch(/\n\s+at /)
    expect(await listDir(parent)).toEqual(['ws'])
    expect(await listDir(workspace)).toEqual([])
    expect(await listDir(run.runnerTemp)).toEqual([])
  })
})
