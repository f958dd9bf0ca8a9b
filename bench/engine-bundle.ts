/**
 * Bundles bench/engine.ts with ncc, the way dist/index.js is built, so the action's halves
 * start as fast as the action does. Cached by the content of everything that goes in. When
 * the bundle cannot be built (ncc type-checks the whole project), the engine runs through
 * tsx instead, which costs a few hundred milliseconds of startup; the results say which.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execTool } from '../__tests__/support/fixtures.js'
import type { Engine } from './contenders.js'
import { BENCH_DIR, CACHE_DIR } from './options.js'
import { pruneSiblings } from './snapshots.js'

const REPO_DIR = path.join(BENCH_DIR, '..')

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile())
    .map(entry => path.join(entry.parentPath, entry.name))
    .sort()
}

function inputsKey(): string {
  const hash = createHash('sha256')
  const files = [
    ...listFiles(path.join(REPO_DIR, 'src')),
    path.join(BENCH_DIR, 'engine.ts'),
    path.join(REPO_DIR, 'package-lock.json'),
    path.join(REPO_DIR, 'tsconfig.json')
  ]
  for (const file of files) hash.update(file).update(fs.readFileSync(file))
  return hash.digest('hex').slice(0, 16)
}

/**
 * ncc type-checks every file its tsconfig includes; a tsconfig of its own, next to an entry
 * that imports bench/engine.ts, limits that to what the engine really uses.
 */
async function writeBuildEntry(buildDir: string): Promise<string> {
  await fsp.mkdir(buildDir, { recursive: true })
  const relative = (to: string) => path.relative(buildDir, to).split(path.sep).join('/')
  const tsconfig = {
    extends: relative(path.join(REPO_DIR, 'tsconfig.json')),
    include: ['entry.ts']
  }
  await fsp.writeFile(path.join(buildDir, 'tsconfig.json'), JSON.stringify(tsconfig) + '\n')
  const engine = relative(path.join(BENCH_DIR, 'engine.js'))
  await fsp.writeFile(path.join(buildDir, 'entry.ts'), `import '${engine}'\n`)
  return path.join(buildDir, 'entry.ts')
}

export async function prepareEngine(node: string, log: (line: string) => void): Promise<Engine> {
  const out = path.join(CACHE_DIR, `engine-${inputsKey()}`)
  const bundle = path.join(out, 'dist', 'index.js')
  const how = 'ncc bundle, like dist/index.js'
  if (fs.existsSync(path.join(out, 'done'))) {
    log(`engine: cached ${bundle}`)
    return { command: [node, bundle], how }
  }
  await fsp.rm(out, { recursive: true, force: true })
  log('engine: bundling bench/engine.ts with ncc (about half a minute)')
  try {
    const entry = await writeBuildEntry(path.join(out, 'build'))
    const ncc = path.join(REPO_DIR, 'node_modules', '.bin', 'ncc')
    const args = ['build', entry, '-o', path.dirname(bundle), '-q', '--target', 'es2022']
    await execTool(ncc, args, { cwd: REPO_DIR })
    if (!fs.existsSync(path.join(path.dirname(bundle), 'package.json'))) {
      await fsp.writeFile(path.join(path.dirname(bundle), 'package.json'), '{ "type": "module" }\n')
    }
    await fsp.writeFile(path.join(out, 'done'), '')
    await pruneSiblings('engine-', out)
    return { command: [node, bundle], how }
  } catch (error) {
    const reason = (error as Error).message.split('\n').find(line => /error/i.test(line)) ?? ''
    log(`engine: ncc failed (${reason.trim()}); running it through tsx instead`)
    const tsx = fileURLToPath(import.meta.resolve('tsx'))
    return {
      command: [node, '--import', tsx, path.join(BENCH_DIR, 'engine.ts')],
      how: `through tsx, which adds its startup and its esbuild process (ncc failed: ${reason.trim().slice(0, 200)})`
    }
  }
}
