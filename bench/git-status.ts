/**
 * How long the first `git status` takes in a restored repository, compared with a fresh
 * `git clone`. An extracted snapshot's index records the inode, ctime (and, without mtime
 * restoration, mtime) of files on the machine that made it, so git must rehash every file
 * once; the restore pays that with refreshIndex so the workflow's first git command does not.
 * (Beyond speed: plumbing such as `git diff-index HEAD` trusts the stat data and reports every
 * file as modified until the index is refreshed; __tests__/git-finish-local.test.ts checks it.)
 *
 *   npx tsx bench/git-status.ts [--files 20000] [--runs 3] [--keep]
 *
 * For each way of getting the tree, on a fresh copy every run, it prints the median time of
 * the preparation step and of the first and second `git status --porcelain`:
 * - clone:                 `git clone <mirror>` (git writes the index as it checks out)
 * - tar -x:                GNU tar restores mtimes; inode and ctime still differ
 * - tar -x -m:             mtimes are extraction time too (an extractor that does not set them)
 * - tar -x + refresh:      then refreshIndex (`git update-index -q --refresh`)
 * - tar -x -m + refresh
 * - tar -x + status:       then one `git status` as the refresh, for comparison
 * - tar -x + finish:       then finishCheckout (no bundle, no workflow), the action's path
 * Page cache is warm (the same files are read every run); figures are wall-clock seconds.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { execTool, makeMirror } from '../__tests__/support/fixtures.js'
import { CachewClient } from '../src/cachew/client.js'
import { finishCheckout, refreshIndex } from '../src/git/finish.js'
import type { RestoreSettings } from '../src/settings.js'

interface Sample {
  prepare: number
  firstStatus: number
  secondStatus: number
  statusLines: number
}

interface Method {
  name: string
  /** Produces a repository at `dir` (which does not exist yet); timed as "prepare" after `get`. */
  get(dir: string): Promise<unknown>
  prepare?(dir: string): Promise<unknown>
}

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint()
  await action()
  return Number(process.hrtime.bigint() - started) / 1e9
}

function gitStatus(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['status', '--porcelain'], { cwd: dir })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve(out) : reject(new Error(`git status ${code}`))))
  })
}

async function extract(tarFile: string, dir: string, keepMtime: boolean): Promise<void> {
  await fs.mkdir(dir)
  await execTool('tar', ['-xf', tarFile, '-C', dir, ...(keepMtime ? [] : ['-m'])])
}

function benchSettings(dir: string, upstreamUrl: string): RestoreSettings {
  return {
    serverUrl: 'http://127.0.0.1:9',
    repositoryUrl: upstreamUrl,
    target: dir,
    workspace: dir,
    tempDir: os.tmpdir(),
    downloadConcurrency: 1,
    chunkSizeBytes: 1 << 20,
    stallTimeoutMs: 30_000,
    applyBundle: false,
    failOnCacheMiss: false,
    destination: { kind: 'snapshot' },
    keepSnapshotHead: false,
    persistCredentials: false,
    setSafeDirectory: false,
    gitThroughCachew: true,
    runnerCacheMaxBytes: 0,
    updateExisting: 'false',
    lfs: false,
    showProgress: false,
    clean: true,
    superseded: [],
    submodules: 'false'
  }
}

function methods(mirrorDir: string, tarFile: string, upstreamUrl: string): Method[] {
  const quiet = {
    info: () => undefined,
    notice: () => undefined,
    debug: () => undefined,
    warning: (m: string) => console.warn(m)
  }
  return [
    { name: 'clone', get: dir => execTool('git', ['clone', '-q', mirrorDir, dir]) },
    { name: 'tar -x', get: dir => extract(tarFile, dir, true) },
    { name: 'tar -x -m', get: dir => extract(tarFile, dir, false) },
    { name: 'tar -x + refresh', get: dir => extract(tarFile, dir, true), prepare: refreshIndex },
    {
      name: 'tar -x -m + refresh',
      get: dir => extract(tarFile, dir, false),
      prepare: refreshIndex
    },
    {
      name: 'tar -x + status',
      get: dir => extract(tarFile, dir, true),
      prepare: dir => gitStatus(dir)
    },
    {
      name: 'tar -x + finish',
      get: dir => extract(tarFile, dir, true),
      prepare: async dir => {
        const settings = benchSettings(dir, upstreamUrl)
        // Never asked: the snapshot is at the destination already.
        const cachew = new CachewClient(settings, 1)
        try {
          return await finishCheckout({
            directory: dir,
            settings,
            bundle: 'disabled',
            blobIds: new Map(),
            cachew,
            log: quiet
          })
        } finally {
          cachew.close()
        }
      }
    }
  ]
}

async function sample(method: Method, dir: string): Promise<Sample> {
  await method.get(dir)
  const prepare = method.prepare ? await seconds(() => method.prepare!(dir)) : 0
  let status = ''
  const firstStatus = await seconds(async () => (status = await gitStatus(dir)))
  const secondStatus = await seconds(() => gitStatus(dir))
  return {
    prepare,
    firstStatus,
    secondStatus,
    statusLines: status.split('\n').filter(Boolean).length
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '20000' },
      runs: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false }
    }
  })
  const files = Number(values.files)
  const runs = Number(values.runs)
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-git-status-'))
  try {
    console.log(`Generating a repository of ${files} files in ${root} ...`)
    const mirror = await makeMirror(path.join(root, 'mirror'), { files, commits: 2 })
    // The snapshot as cachew makes it: a clone, origin = upstream, tarred (uncompressed here:
    // decompression is not what this measures).
    const clone = path.join(root, 'snapshot-clone')
    await execTool('git', ['clone', '-q', mirror.bareDir, clone])
    await execTool('git', ['remote', 'set-url', 'origin', mirror.upstreamUrl], { cwd: clone })
    const tarFile = path.join(root, 'snapshot.tar')
    await execTool('tar', ['-cpf', tarFile, '-C', clone, '.'])
    const tracked = (await execTool('git', ['ls-files'], { cwd: clone })).split('\n').length - 1
    console.log(
      `${tracked} tracked files; ${os.cpus().length} CPUs; load ${os.loadavg()[0].toFixed(1)}`
    )
    console.log(`git ${(await execTool('git', ['--version'])).trim()}; median of ${runs} runs\n`)

    const rows: string[][] = [['method', 'prepare s', '1st status s', '2nd status s', 'dirty']]
    for (const method of methods(mirror.bareDir, tarFile, mirror.upstreamUrl)) {
      const samples: Sample[] = []
      for (let run = 0; run < runs; run++) {
        const dir = path.join(root, `run-${run}`)
        samples.push(await sample(method, dir))
        await fs.rm(dir, { recursive: true, force: true })
      }
      rows.push([
        method.name,
        median(samples.map(s => s.prepare)).toFixed(3),
        median(samples.map(s => s.firstStatus)).toFixed(3),
        median(samples.map(s => s.secondStatus)).toFixed(3),
        String(Math.max(...samples.map(s => s.statusLines)))
      ])
    }
    printTable(rows)
  } finally {
    if (values.keep) console.log(`kept ${root}`)
    else await fs.rm(root, { recursive: true, force: true })
  }
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(row => row[i].length)))
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '))
}

await main()
