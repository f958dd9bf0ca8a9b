/**
 * Generates the benchmark's repository: a bare mirror with several commits of history,
 * tens of thousands of source-like text files in nested directories, some binaries,
 * executables and symlinks. Everything comes from one seeded generator, so the same
 * parameters always give the same commits (fixed dates, fixed author), which is what lets
 * the harness cache the result by content.
 *
 * History goes straight into `git fast-import` (no work tree, no loose objects), and the
 * mirror is then repacked with bitmaps the way a hosting server keeps it.
 */
import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { execTool } from '../__tests__/support/fixtures.js'

export interface RepoShape {
  /** Files in the final tree (approximately: history adds and deletes a few). */
  files: number
  directories: number
  commits: number
  /** Share of files that are binaries (images, archives, compiled blobs). */
  binaryShare: number
  /** Median size of a text file in bytes; sizes follow a log-normal spread around it. */
  textMedianBytes: number
  binaryMedianBytes: number
  seed: number
}

export const SHAPES: Record<string, RepoShape> = {
  default: {
    files: 36_000,
    directories: 3_200,
    commits: 8,
    binaryShare: 0.03,
    textMedianBytes: 2_700,
    binaryMedianBytes: 12_000,
    seed: 20_251_123
  },
  small: {
    files: 3_600,
    directories: 320,
    commits: 4,
    binaryShare: 0.03,
    textMedianBytes: 2_700,
    binaryMedianBytes: 12_000,
    seed: 20_251_123
  }
}

export const BRANCH = 'main'

/** mulberry32: small, fast and good enough to make varied content reproducibly. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  /** Log-normal around `median` (sigma in natural-log units), clamped. */
  logNormal(median: number, sigma: number, min: number, max: number): number {
    const u = Math.max(this.next(), 1e-12)
    const v = this.next()
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return Math.round(Math.min(max, Math.max(min, median * Math.exp(sigma * normal))))
  }
}

const WORDS = (
  'account action active adapter address agent alert alias allow anchor api app archive ' +
  'array asset async audit auth backend balance batch binary bind block body bound branch ' +
  'buffer build bundle byte cache call cancel canvas card cell chain change channel check ' +
  'child chunk client clock close cluster code codec column commit config connect context ' +
  'control cookie copy core count cursor data date debug decode default delay delta ' +
  'deploy detail device dialog digest direct disk dispatch doc domain draft driver entry ' +
  'encode engine error event export field file filter flag flow format frame gateway ' +
  'graph group guard handle hash header health helper history host index input item job ' +
  'key label layer layout lease limit line link list loader lock log loop manager map ' +
  'match media member memory merge message meta metric mirror mode model module monitor ' +
  'mount node notice object offset option order output owner packet page panel parser ' +
  'patch path peer pipe plan plugin policy pool port post prefix probe process profile ' +
  'proxy query queue quota range rate reader record region registry release remote render ' +
  'replica report request resolve resource result retry route rule runner sample scan ' +
  'schema scope search secret segment select sender server service session shard signal ' +
  'sink slot snapshot socket source span spec stage state status storage store stream ' +
  'string subject summary switch sync table tag target task template tenant test thread ' +
  'ticket timer token topic trace tracker transport tree trigger type unit update upload ' +
  'user value vector version view volume watch window worker writer zone'
).split(' ')

const TYPES = ['string', 'number', 'boolean', 'Buffer', 'Record<string, unknown>', 'Date']
const GO_TYPES = ['string', 'int', 'int64', 'bool', '[]byte', 'error', 'time.Duration']

type Lang = 'ts' | 'go' | 'py' | 'java' | 'c' | 'md' | 'json' | 'yaml' | 'sh'

const LANGS: { lang: Lang; ext: string; weight: number }[] = [
  { lang: 'ts', ext: '.ts', weight: 26 },
  { lang: 'go', ext: '.go', weight: 20 },
  { lang: 'py', ext: '.py', weight: 12 },
  { lang: 'java', ext: '.java', weight: 10 },
  { lang: 'c', ext: '.c', weight: 6 },
  { lang: 'c', ext: '.h', weight: 4 },
  { lang: 'md', ext: '.md', weight: 8 },
  { lang: 'json', ext: '.json', weight: 6 },
  { lang: 'yaml', ext: '.yaml', weight: 5 },
  { lang: 'sh', ext: '.sh', weight: 3 }
]
const LANG_TOTAL = LANGS.reduce((sum, l) => sum + l.weight, 0)

const BINARY_EXTS = ['.png', '.jpg', '.jar', '.so', '.bin', '.woff2', '.pdf']
/** Already-compressed formats: their bytes look random. */
const RANDOM_BINARY = new Set(['.png', '.jpg', '.woff2', '.pdf'])

function pickLang(rng: Rng): { lang: Lang; ext: string } {
  let roll = rng.int(LANG_TOTAL)
  for (const l of LANGS) {
    if (roll < l.weight) return l
    roll -= l.weight
  }
  return LANGS[0]
}

function camel(words: string[]): string {
  return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('')
}

function pascal(words: string[]): string {
  return words.map(w => w[0].toUpperCase() + w.slice(1)).join('')
}

/** A module's own small vocabulary: real files reuse a few names over and over. */
function moduleNames(rng: Rng): { ids: string[]; types: string[] } {
  const ids: string[] = []
  const types: string[] = []
  for (let i = 0; i < 24; i++) ids.push(camel([rng.pick(WORDS), rng.pick(WORDS)]))
  for (let i = 0; i < 6; i++) types.push(pascal([rng.pick(WORDS), rng.pick(WORDS)]))
  return { ids, types }
}

function sentence(rng: Rng, words: number): string {
  const out: string[] = []
  for (let i = 0; i < words; i++) out.push(rng.pick(WORDS))
  return out.join(' ')
}

type LineMaker = (rng: Rng, n: { ids: string[]; types: string[] }, indent: string) => string

const LINES: Record<Lang, LineMaker[]> = {
  ts: [
    (r, n, i) => `${i}const ${r.pick(n.ids)} = ${r.pick(n.ids)}.${r.pick(n.ids)}(${r.pick(n.ids)})`,
    (r, n, i) => `${i}if (${r.pick(n.ids)} === undefined) return ${r.pick(n.ids)}`,
    (r, n, i) =>
      `${i}export function ${r.pick(n.ids)}(${r.pick(n.ids)}: ${r.pick(n.types)}): ${r.pick(TYPES)} {`,
    (r, _n, i) => `${i}// ${sentence(r, 4 + r.int(9))}`,
    (r, n, i) =>
      `${i}await this.${r.pick(n.ids)}.${r.pick(n.ids)}({ ${r.pick(n.ids)}, ${r.pick(n.ids)}: ${r.int(1000)} })`,
    (r, n, i) => `${i}import { ${r.pick(n.types)} } from './${r.pick(WORDS)}.js'`,
    (r, n, i) => `${i}${r.pick(n.ids)}: ${r.pick(TYPES)}`,
    (r, n, i) => `${i}throw new Error(\`${sentence(r, 3 + r.int(5))}: \${${r.pick(n.ids)}}\`)`,
    (_r, _n, i) => `${i}}`,
    () => ''
  ],
  go: [
    (r, n, i) =>
      `${i}${r.pick(n.ids)}, err := ${r.pick(n.ids)}.${pascal([r.pick(WORDS)])}(ctx, ${r.pick(n.ids)})`,
    (_r, _n, i) => `${i}if err != nil {`,
    (r, _n, i) => `${i}\treturn errors.Wrap(err, "${sentence(r, 2 + r.int(4))}")`,
    (r, n, i) =>
      `${i}func (s *${r.pick(n.types)}) ${pascal([r.pick(WORDS), r.pick(WORDS)])}(${r.pick(n.ids)} ${r.pick(GO_TYPES)}) error {`,
    (r, _n, i) => `${i}// ${sentence(r, 4 + r.int(9))}`,
    (r, n, i) => `${i}${r.pick(n.ids)} := make(map[string]${r.pick(GO_TYPES)}, ${r.int(64)})`,
    (r, n, i) => `${i}${pascal([r.pick(WORDS)])} ${r.pick(GO_TYPES)} \`json:"${r.pick(n.ids)}"\``,
    (_r, _n, i) => `${i}}`,
    () => ''
  ],
  py: [
    (r, _n, i) =>
      `${i}def ${r.pick(WORDS)}_${r.pick(WORDS)}(self, ${r.pick(WORDS)}, ${r.pick(WORDS)}=None):`,
    (r, n, i) =>
      `${i}    ${r.pick(WORDS)} = self.${r.pick(WORDS)}.get("${r.pick(n.ids)}", ${r.int(100)})`,
    (r, _n, i) => `${i}    # ${sentence(r, 4 + r.int(8))}`,
    (r, _n, i) => `${i}    if ${r.pick(WORDS)} is None:`,
    (r, _n, i) => `${i}        raise ValueError("${sentence(r, 3 + r.int(5))}")`,
    (r, _n, i) => `${i}    return ${r.pick(WORDS)}_${r.pick(WORDS)}`,
    (r, n, i) => `${i}class ${r.pick(n.types)}(${r.pick(n.types)}):`,
    () => ''
  ],
  java: [
    (r, n, i) => `${i}private final ${r.pick(n.types)} ${r.pick(n.ids)};`,
    (r, n, i) =>
      `${i}public ${r.pick(n.types)} ${r.pick(n.ids)}(${r.pick(n.types)} ${r.pick(n.ids)}) {`,
    (r, n, i) => `${i}    return this.${r.pick(n.ids)}.${r.pick(n.ids)}(${r.pick(n.ids)});`,
    (r, _n, i) => `${i}// ${sentence(r, 4 + r.int(9))}`,
    (r, n, i) =>
      `${i}    if (${r.pick(n.ids)} == null) throw new IllegalStateException("${sentence(r, 3)}");`,
    (_r, _n, i) => `${i}}`,
    (_r, _n, i) => `${i}@Override`,
    () => ''
  ],
  c: [
    (r, _n, i) =>
      `${i}static int ${r.pick(WORDS)}_${r.pick(WORDS)}(struct ${r.pick(WORDS)} *${r.pick(WORDS)}, size_t ${r.pick(WORDS)})`,
    (_r, _n, i) => `${i}{`,
    (r, _n, i) => `${i}\tif (!${r.pick(WORDS)}) return -EINVAL;`,
    (r, _n, i) =>
      `${i}\t${r.pick(WORDS)}->${r.pick(WORDS)} = ${r.pick(WORDS)}_${r.pick(WORDS)}(${r.pick(WORDS)}, ${r.int(4096)});`,
    (r, _n, i) => `${i}/* ${sentence(r, 4 + r.int(8))} */`,
    (r, _n, i) =>
      `${i}#define ${r.pick(WORDS).toUpperCase()}_${r.pick(WORDS).toUpperCase()} ${r.int(65536)}`,
    (_r, _n, i) => `${i}}`,
    () => ''
  ],
  md: [
    (r, _n, i) => `${i}${sentence(r, 8 + r.int(14))}.`,
    (r, _n) => `## ${sentence(r, 2 + r.int(4))}`,
    (r, n) => `- \`${r.pick(n.ids)}\`: ${sentence(r, 4 + r.int(8))}`,
    () => ''
  ],
  json: [
    (r, n, i) => `${i}"${r.pick(n.ids)}": "${sentence(r, 1 + r.int(4))}",`,
    (r, n, i) => `${i}"${r.pick(n.ids)}": ${r.int(100000)},`,
    (r, n, i) => `${i}"${r.pick(n.ids)}": ${r.chance(0.5)},`
  ],
  yaml: [
    (r, n, i) => `${i}${r.pick(n.ids)}: ${sentence(r, 1 + r.int(3))}`,
    (r, n, i) => `${i}- name: ${r.pick(n.ids)}`,
    (r, _n, i) => `${i}  run: ${r.pick(WORDS)} --${r.pick(WORDS)} ${r.int(100)}`
  ],
  sh: [
    (r, _n, i) =>
      `${i}${r.pick(WORDS)}_${r.pick(WORDS)}="\${${r.pick(WORDS).toUpperCase()}:-${r.pick(WORDS)}}"`,
    (r, _n, i) => `${i}if [ -n "$${r.pick(WORDS)}" ]; then`,
    (r, _n, i) => `${i}  ${r.pick(WORDS)} --${r.pick(WORDS)} "$@"`,
    (_r, _n, i) => `${i}fi`,
    (r, _n, i) => `${i}# ${sentence(r, 4 + r.int(8))}`
  ]
}

const INDENTS = ['', '  ', '    ', '      ', '\t', '\t\t']

function textLines(rng: Rng, lang: Lang, bytes: number): string[] {
  const names = moduleNames(rng)
  const makers = LINES[lang]
  const lines: string[] = lang === 'sh' ? ['#!/usr/bin/env bash', 'set -euo pipefail'] : []
  let size = 0
  while (size < bytes) {
    const line = rng.pick(makers)(rng, names, lang === 'md' ? '' : rng.pick(INDENTS))
    lines.push(line)
    size += line.length + 1
  }
  return lines
}

/** One file of the tree; its content is a pure function of these fields. */
interface FileSpec {
  path: string
  kind: 'text' | 'binary' | 'symlink' | 'empty'
  lang?: Lang
  executable: boolean
  seed: number
  bytes: number
  /** Edits applied by later commits; each inserts and rewrites a few lines. */
  edits: number
  target?: string
}

function fileContent(spec: FileSpec): Buffer {
  const rng = new Rng(spec.seed)
  switch (spec.kind) {
    case 'empty':
      return Buffer.alloc(0)
    case 'symlink':
      return Buffer.from(spec.target!)
    case 'binary':
      return binaryContent(rng, spec)
    case 'text': {
      const lines = textLines(rng, spec.lang!, spec.bytes)
      for (let e = 1; e <= spec.edits; e++)
        applyEdit(new Rng(spec.seed + e * 7919), lines, spec.lang!)
      return Buffer.from(lines.join('\n') + '\n')
    }
  }
}

function applyEdit(rng: Rng, lines: string[], lang: Lang): void {
  const at = rng.int(lines.length + 1)
  const added = textLines(rng, lang, 60 + rng.int(600))
  const removed = rng.int(Math.min(4, lines.length - at) + 1)
  lines.splice(at, removed, ...added)
}

function binaryContent(rng: Rng, spec: FileSpec): Buffer {
  const ext = path.extname(spec.path)
  const out = Buffer.allocUnsafe(spec.bytes)
  if (RANDOM_BINARY.has(ext)) {
    for (let i = 0; i + 4 <= out.length; i += 4)
      out.writeUInt32LE((rng.next() * 4294967296) >>> 0, i)
    for (let i = out.length & ~3; i < out.length; i++) out[i] = rng.int(256)
    return out
  }
  // Compiled code and archives of it: records with recurring opcodes and small operands.
  const opcodes = Array.from({ length: 48 }, () => rng.int(256))
  for (let i = 0; i < out.length; i++) {
    out[i] = i % 4 === 0 ? rng.pick(opcodes) : rng.chance(0.6) ? 0 : rng.int(256)
  }
  return out
}

interface Tree {
  directories: string[]
  directorySet: Set<string>
  files: Map<string, FileSpec>
}

function makeDirectories(rng: Rng, count: number): string[] {
  const roots = [
    'src',
    'lib',
    'packages',
    'services',
    'tools',
    'docs',
    'test',
    'third_party',
    'web'
  ]
  const directories = [...roots]
  const taken = new Set(directories)
  while (directories.length < count) {
    const parent = rng.pick(directories)
    if (parent.split('/').length >= 9) continue
    const name = rng.chance(0.3) ? `${rng.pick(WORDS)}-${rng.pick(WORDS)}` : rng.pick(WORDS)
    const dir = `${parent}/${name}`
    if (taken.has(dir)) continue
    taken.add(dir)
    directories.push(dir)
  }
  return directories
}

function newFile(rng: Rng, tree: Tree, shape: RepoShape, seed: number): FileSpec {
  const dir = rng.pick(tree.directories)
  const roll = rng.next()
  let spec: FileSpec
  if (roll < shape.binaryShare) {
    const ext = rng.pick(BINARY_EXTS)
    const bytes = rng.logNormal(shape.binaryMedianBytes, 1.1, 200, 4 << 20)
    spec = {
      path: `${dir}/${rng.pick(WORDS)}${ext}`,
      kind: 'binary',
      executable: false,
      seed,
      bytes,
      edits: 0
    }
  } else if (roll < shape.binaryShare + 0.004) {
    const siblings = [...tree.files.values()].slice(-50).filter(f => f.path.startsWith(`${dir}/`))
    const target = siblings.length > 0 ? path.basename(rng.pick(siblings).path) : '../README.md'
    spec = {
      path: `${dir}/${rng.pick(WORDS)}-link`,
      kind: 'symlink',
      executable: false,
      seed,
      bytes: 0,
      edits: 0,
      target
    }
  } else if (roll < shape.binaryShare + 0.012) {
    spec = {
      path: `${dir}/__init__.py`,
      kind: 'empty',
      executable: false,
      seed,
      bytes: 0,
      edits: 0
    }
  } else {
    const { lang, ext } = pickLang(rng)
    const bytes = rng.logNormal(shape.textMedianBytes, 1.0, 40, 400_000)
    const base = rng.chance(0.25) ? `${rng.pick(WORDS)}_${rng.pick(WORDS)}` : rng.pick(WORDS)
    spec = {
      path: `${dir}/${base}${ext}`,
      kind: 'text',
      lang,
      executable: lang === 'sh',
      seed,
      bytes,
      edits: 0
    }
  }
  for (let n = 2; tree.files.has(spec.path) || tree.directorySet.has(spec.path); n++) {
    const ext = path.extname(spec.path)
    spec.path = `${spec.path.slice(0, spec.path.length - ext.length).replace(/-\d+$/, '')}-${n}${ext}`
  }
  return spec
}

function modeOf(spec: FileSpec): string {
  if (spec.kind === 'symlink') return '120000'
  return spec.executable ? '100755' : '100644'
}

/** Writes to the child's stdin, waiting when its pipe is full. */
async function write(stream: Writable, data: Buffer | string): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain')
}

const AUTHOR = 'Bench Author <bench@example.invalid>'
const EPOCH = 1_700_000_000

async function writeCommit(
  stdin: Writable,
  index: number,
  changed: FileSpec[],
  deleted: string[],
  message: string
): Promise<void> {
  const when = `${EPOCH + index * 86_400} +0000`
  await write(stdin, `commit refs/heads/${BRANCH}\nmark :${index + 1}\n`)
  await write(stdin, `author ${AUTHOR} ${when}\ncommitter ${AUTHOR} ${when}\n`)
  await write(stdin, `data ${Buffer.byteLength(message)}\n${message}\n`)
  if (index > 0) await write(stdin, `from :${index}\n`)
  for (const file of deleted) await write(stdin, `D ${file}\n`)
  for (const spec of changed) {
    const content = fileContent(spec)
    await write(stdin, `M ${modeOf(spec)} inline ${spec.path}\ndata ${content.length}\n`)
    await write(stdin, content)
    await write(stdin, '\n')
  }
  await write(stdin, '\n')
}

/** Plans the whole history: which files each commit adds, edits and deletes. */
function* planHistory(
  shape: RepoShape
): Generator<{ changed: FileSpec[]; deleted: string[]; message: string }> {
  const rng = new Rng(shape.seed)
  const directories = makeDirectories(rng, shape.directories)
  const tree: Tree = { directories, directorySet: new Set(directories), files: new Map() }
  const initial = Math.round(shape.files * 0.9)
  const perLater = shape.commits > 1 ? Math.round((shape.files - initial) / (shape.commits - 1)) : 0
  let seed = shape.seed
  const readme: FileSpec = {
    path: 'README.md',
    kind: 'text',
    lang: 'md',
    executable: false,
    seed: ++seed,
    bytes: 6000,
    edits: 0
  }
  tree.files.set(readme.path, readme)
  for (let i = 0; i < initial; i++) {
    const spec = newFile(rng, tree, shape, ++seed)
    tree.files.set(spec.path, spec)
  }
  yield { changed: [...tree.files.values()], deleted: [], message: 'Initial import\n' }

  for (let c = 1; c < shape.commits; c++) {
    const existing = [...tree.files.values()]
    const changed: FileSpec[] = []
    const deleted: string[] = []
    for (const spec of existing) {
      if (spec.path === 'README.md') continue
      if (rng.chance(0.003)) {
        tree.files.delete(spec.path)
        deleted.push(spec.path)
      } else if (spec.kind === 'text' && rng.chance(0.05)) {
        spec.edits++
        changed.push(spec)
      }
    }
    for (let i = 0; i < perLater + deleted.length; i++) {
      const spec = newFile(rng, tree, shape, ++seed)
      tree.files.set(spec.path, spec)
      changed.push(spec)
    }
    yield { changed, deleted, message: `Change ${c}: ${sentence(rng, 6)}\n` }
  }
}

/**
 * Builds the bare mirror at `dir` (which must not exist) and returns the head commit.
 * `log` receives one line per commit.
 */
export async function generateMirror(
  dir: string,
  shape: RepoShape,
  log: (line: string) => void
): Promise<string> {
  await execTool('git', ['init', '--quiet', '--bare', `--initial-branch=${BRANCH}`, dir])
  const importer = spawn('git', ['-C', dir, 'fast-import', '--quiet', '--done'], {
    stdio: ['pipe', 'inherit', 'inherit']
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    importer.on('error', reject)
    importer.on('close', resolve)
  })
  try {
    let index = 0
    for (const commit of planHistory(shape)) {
      await writeCommit(importer.stdin, index, commit.changed, commit.deleted, commit.message)
      log(
        `commit ${index + 1}/${shape.commits}: ${commit.changed.length} files written, ${commit.deleted.length} deleted`
      )
      index++
    }
    await write(importer.stdin, 'done\n')
    importer.stdin.end()
  } catch (error) {
    importer.kill()
    throw error
  }
  const code = await exited
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`)
  // A hosting server's mirror: one pack with good deltas and a bitmap for fast clones.
  await execTool('git', [
    '-C',
    dir,
    'repack',
    '-a',
    '-d',
    '-f',
    '-b',
    '-q',
    '--window=10',
    '--depth=50'
  ])
  await execTool('git', ['-C', dir, 'pack-refs', '--all'])
  return (await execTool('git', ['-C', dir, 'rev-parse', `refs/heads/${BRANCH}`])).trim()
}
