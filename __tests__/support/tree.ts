/**
 * A manifest of a directory tree (type, mode, size, content hash or link target per path),
 * to compare a restored tree with a reference extraction by GNU tar.
 */
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface ManifestEntry {
  path: string
  type: 'file' | 'dir' | 'symlink'
  mode: number
  size?: number
  sha256?: string
  target?: string
}

export async function manifest(
  root: string,
  ignore: (relative: string) => boolean = () => false
): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = []
  async function walk(dir: string): Promise<void> {
    for (const name of await fs.readdir(dir)) {
      const full = path.join(dir, name)
      const relative = path.relative(root, full)
      if (ignore(relative)) continue
      const stat = await fs.lstat(full)
      const mode = stat.mode & 0o777
      if (stat.isSymbolicLink())
        entries.push({ path: relative, type: 'symlink', mode: 0, target: await fs.readlink(full) })
      else if (stat.isDirectory()) {
        entries.push({ path: relative, type: 'dir', mode })
        await walk(full)
      } else {
        const sha256 = createHash('sha256')
          .update(await fs.readFile(full))
          .digest('hex')
        entries.push({ path: relative, type: 'file', mode, size: stat.size, sha256 })
      }
    }
  }
  await walk(root)
  return entries.sort((a, b) => (a.path < b.path ? -1 : 1))
}

/** What GNU tar makes of the snapshot: the reference a restore must equal. */
export async function referenceExtraction(snapshotFile: string, into: string): Promise<void> {
  await fs.mkdir(into, { recursive: true })
  await run('bash', [
    '-c',
    'zstd -dc "$1" | tar -x --no-same-owner --no-same-permissions -f - -C "$2"',
    '_',
    snapshotFile,
    into
  ])
}

/** Files git itself rewrites when it moves HEAD or refreshes the index: not part of the comparison. */
export function gitBookkeeping(relative: string): boolean {
  return /^\.git\/(index|config|logs|FETCH_HEAD|ORIG_HEAD|packed-refs|refs)(\/|$)/.test(relative)
}

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', dir, ...args])
  return stdout.trim()
}
