/**
 * Git's blob ids, computed while the extractor writes each file, so that the index can be
 * trusted without git reading the tree again. A blob id is the hash of `blob <size>\0`
 * followed by the content: SHA-1, or SHA-256 in a repository whose config sets
 * `extensions.objectFormat = sha256`.
 */
import { createHash, type Hash } from 'node:crypto'

export type ObjectFormat = 'sha1' | 'sha256'

/** Paths of the working tree: all but the repository itself, which git never tracks. */
export function isWorktreePath(path: string): boolean {
  return path !== '.git' && !path.startsWith('.git/')
}

/** The repository's config, which says which hash the blob ids use. */
export const REPOSITORY_CONFIG = '.git/config'

/** A hash ready for a blob's content, `size` bytes of it. */
export function startBlob(format: ObjectFormat, size: number): Hash {
  return createHash(format).update(`blob ${size}\0`, 'latin1')
}

/** The object format a repository config declares; SHA-1 when it declares none. */
export function objectFormatOf(config: Buffer): ObjectFormat {
  let section = ''
  let format: ObjectFormat = 'sha1'
  for (const raw of config.toString('utf8').split('\n')) {
    // No value this reads can hold a comment character, so cutting at the first is safe.
    let line = raw.replace(/[#;].*$/, '').trim()
    const header = /^\[([^\]]*)\]\s*/.exec(line)
    if (header) {
      // '[extensions "x"]' is a subsection, another section: it does not match.
      section = header[1].trim().toLowerCase()
      line = line.slice(header[0].length)
    }
    if (section !== 'extensions') continue
    const setting = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line)
    if (setting && setting[1].toLowerCase() === 'objectformat') {
      const value = setting[2]
        .replace(/^"(.*)"$/, '$1')
        .trim()
        .toLowerCase()
      format = value === 'sha256' ? 'sha256' : 'sha1'
    }
  }
  return format
}
