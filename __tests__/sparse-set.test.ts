/**
 * The sparse set the extractor applies, against git's own: for each set of patterns, the
 * paths this module keeps are the paths `git sparse-checkout set` leaves without
 * skip-worktree in a real repository. Then the extractor with it: files outside the set are
 * never created, directories only where a kept file needs one, and an unsafe entry outside
 * the set is still refused.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { sparseFilter, type SparseCheckout } from '../src/archive/sparse-set.js'
import { UnsafeEntryError } from '../src/errors.js'
import { extractTar } from './support/extract-input.js'
import { expectRecordedStats } from './support/file-stats.js'
import { archive, entry } from './support/hostile-tar.js'
import { tempDirectory } from './support/temp.js'

const run = promisify(execFile)

const PATHS = [
  'README.md',
  'top.ts',
  '.github/workflows/ci.yml',
  'a/file.txt',
  'a/b/file.txt',
  'a/b/c/deep.ts',
  'a/b/c/d/deeper.md',
  'a/bc/other.ts',
  'a/x/y.md',
  'ab/z.txt',
  'docs/guide.md',
  'docs/api/index.md',
  'docs/api/img.png',
  'src/main.ts',
  'src/util/strings.ts',
  'src/util/strings.test.ts',
  'src/docs/inner.md',
  'packages/one/package.json',
  'packages/one/src/index.ts',
  'packages/two/package.json',
  'packages/two/lib/x.js',
  'ünï/cödé.txt'
]

let repo: string
beforeAll(async () => {
  repo = await tempDirectory('sparse-set-')
  await run('git', ['init', '-q', repo])
  for (const name of PATHS) {
    await fs.mkdir(path.dirname(path.join(repo, name)), { recursive: true })
    await fs.writeFile(path.join(repo, name), name)
  }
  await run('git', ['-C', repo, 'add', '.'])
  await run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'x'])
})

/** What git keeps: `ls-files -t` tags skip-worktree entries S. */
async function gitKeeps(sparse: SparseCheckout): Promise<string[]> {
  const mode = sparse.cone ? '--cone' : '--no-cone'
  await run('git', ['-C', repo, 'sparse-checkout', 'set', mode, '--', ...sparse.patterns])
  const { stdout } = await run('git', ['-C', repo, '-c', 'core.quotePath=false', 'ls-files', '-t'])
  return stdout
    .split('\n')
    .filter(line => line.startsWith('H '))
    .map(line => line.slice(2))
    .sort()
}

function filterKeeps(sparse: SparseCheckout): string[] {
  const keep = sparseFilter(sparse)
  // The extractor's paths are latin1 strings of the names' bytes.
  const latin1 = (name: string) => Buffer.from(name, 'utf8').toString('latin1')
  return PATHS.filter(name => keep(latin1(name))).sort()
}

describe('the sparse set is git’s', () => {
  const cone: string[][] = [
    ['src'],
    ['a/b', 'docs'],
    ['a/b/c/', './docs//api'],
    ['packages/one', 'packages/two/lib'],
    ['a/b', 'a'],
    ['ünï'],
    ['nothing/here']
  ]
  it.each(cone)('cone mode: %j', async (...patterns) => {
    const sparse = { patterns, cone: true }
    expect(filterKeeps(sparse)).toEqual(await gitKeeps(sparse))
  })

  const nonCone: string[][] = [
    ['/src/'],
    ['*.md'],
    ['/*', '!/*/'],
    ['src/', '!src/util/'],
    ['/a/', '!a/b/c', 'docs'],
    ['**/package.json'],
    ['packages/**/src'],
    ['a/**/*.md'],
    ['docs/api/*.[mp][dn]*'],
    ['src/util/*.ts', '!*.test.ts'],
    ['?op.ts', 'a/?/'],
    ['docs/*', '!docs/api/img.png'],
    ['# a comment', 'ab']
  ]
  it.each(nonCone)('non-cone mode: %j', async (...patterns) => {
    const sparse = { patterns, cone: false }
    expect(filterKeeps(sparse)).toEqual(await gitKeeps(sparse))
  })

  it('keeps everything for a pattern it cannot model, which git then decides', () => {
    const keep = sparseFilter({ patterns: ['src/[[:alpha:]]*', 'docs'], cone: false })
    expect(PATHS.every(name => keep(name))).toBe(true)
  })
})

describe('the extractor with a sparse set', () => {
  const include = sparseFilter({ patterns: ['a/b'], cone: true })

  it('never creates files outside the set, nor directories no kept file needs', async () => {
    const directory = await tempDirectory('sparse-extract-')
    const tar = archive(
      entry({ name: 'a/', type: '5', mode: 0o750 }),
      entry({ name: 'a/b/', type: '5', mode: 0o700 }),
      entry({ name: 'a/b/kept', data: 'kept' }),
      entry({ name: 'a/file', data: 'in a parent: kept' }),
      entry({ name: 'a/x/', type: '5' }),
      entry({ name: 'a/x/skipped', data: 'x'.repeat(5000) }),
      entry({ name: 'a/x/link', type: '2', linkName: 'skipped' }),
      entry({ name: 'other/', type: '5' }),
      entry({ name: 'other/hard', type: '1', linkName: 'a/b/kept' }),
      entry({ name: 'top', data: 'top' }),
      entry({ name: 'a/b/hard', type: '1', linkName: 'a/x/skipped' }),
      entry({ name: '.git/', type: '5' }),
      entry({ name: '.git/objects/', type: '5' }),
      entry({ name: '.git/objects/pack', data: 'git' })
    )
    const result = await extractTar(Readable.from([tar]), directory, { include })
    const { stdout } = await run('find', ['.', '-mindepth', '1'], { cwd: directory })
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual([
      './.git',
      './.git/objects',
      './.git/objects/pack',
      './a',
      './a/b',
      './a/b/kept',
      './a/file',
      './top'
    ])
    // The skipped file's bytes were read past: what follows it is whole.
    expect(await fs.readFile(path.join(directory, 'top'), 'utf8')).toBe('top')
    // The directories it made get the archive's modes, as tar gives them.
    expect((await fs.stat(path.join(directory, 'a'))).mode & 0o777).toBe(0o750 & ~process.umask())
    expect((await fs.stat(path.join(directory, 'a/b'))).mode & 0o777).toBe(0o700)
    // a/x/skipped, a/x/link, other/hard, and a/b/hard (its target was never written).
    expect(result.sparseSkipped).toBe(4)
    expect([...result.blobIds.keys()].sort()).toEqual(['a/b/kept', 'a/file', 'top'])
    expectRecordedStats(result, directory, [])
  })

  it('still refuses an unsafe entry outside the set', async () => {
    const sandbox = await tempDirectory('sparse-hostile-')
    const directory = path.join(sandbox, 'target')
    await fs.mkdir(directory)
    const tar = archive(
      entry({ name: 'a/b/fine', data: 'ok' }),
      entry({ name: 'elsewhere/escape', type: '2', linkName: '../..' }),
      entry({ name: 'elsewhere/escape/outside', data: 'pwned' })
    )
    const failure = extractTar(Readable.from([tar]), directory, { include })
    await expect(failure).rejects.toThrow(UnsafeEntryError)
    expect(await fs.readdir(sandbox)).toEqual(['target'])
  })
})
