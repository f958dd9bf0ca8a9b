/**
 * Which working-tree paths a sparse checkout keeps, decided while the snapshot is extracted so
 * that files outside the set are never written. Git has the last word: after extraction,
 * `git sparse-checkout set` (src/git/finish.ts) writes the configuration and marks the index,
 * and removes any file it excludes that was written here. So where this module cannot be sure
 * (a pattern syntax it does not model), it keeps the path: a file kept wrongly costs one
 * unlink, but a file skipped wrongly would be missing from a tree git thinks is complete.
 *
 * The rules are git's (Documentation/git-sparse-checkout.txt, gitignore.txt):
 * - cone mode: the patterns are directories. Kept are every file at the top level, every file
 *   below a listed directory, and the files directly inside each ancestor of one.
 * - non-cone mode: gitignore patterns, the last one that matches deciding. A file's own path
 *   is tried first, then, while no pattern matched, each parent directory up to the top
 *   (a pattern that matches a directory decides for everything below it); no match excludes.
 */

export interface SparseCheckout {
  /** One pattern a line as the input gave them, trimmed, blank lines dropped. */
  patterns: string[]
  /** Cone mode (the patterns are directories), as `git sparse-checkout set --cone`. */
  cone: boolean
}

/** Whether a working-tree path ('a/b/c', latin1 string of the name's bytes) is kept. */
export type SparseFilter = (path: string) => boolean

/** Characters git refuses in cone mode without --skip-checks: they look like patterns. */
const CONE_SPECIAL = /[*?[\]\\]/

/**
 * Why `pattern` is not a directory cone mode takes, or undefined. Git itself fails the same
 * way (`specify directories rather than patterns`), but only after the download.
 */
export function conePatternProblem(pattern: string): string | undefined {
  if (pattern.startsWith('/')) return `'${pattern}' starts with '/'; give directories (src/app)`
  if (CONE_SPECIAL.test(pattern)) {
    return `'${pattern}' has one of *?[]\\ in it; give directories in cone mode, or set sparse-checkout-cone-mode: false for patterns`
  }
  const parts = normalizeDirectory(pattern)
  if (parts === undefined) return `'${pattern}' is outside the repository`
  return undefined
}

/** A cone directory's components, as git normalizes it ('./a//b/' is a/b); undefined above the top. */
function normalizeDirectory(pattern: string): string[] | undefined {
  const parts: string[] = []
  for (const part of pattern.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (parts.pop() === undefined) return undefined
      continue
    }
    parts.push(part)
  }
  return parts
}

/** Git matches name bytes; the extractor's paths are latin1 strings of those bytes. */
function asLatin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1')
}

export function sparseFilter(sparse: SparseCheckout): SparseFilter {
  return sparse.cone ? coneFilter(sparse.patterns) : nonConeFilter(sparse.patterns)
}

function coneFilter(patterns: readonly string[]): SparseFilter {
  const recursive: string[] = []
  const parents = new Set<string>([''])
  for (const pattern of patterns) {
    const parts = normalizeDirectory(asLatin1(pattern))
    // The top itself: everything is in the cone.
    if (parts === undefined || parts.length === 0) return () => true
    recursive.push(`${parts.join('/')}/`)
    for (let depth = 1; depth < parts.length; depth++) parents.add(parts.slice(0, depth).join('/'))
  }
  return path => {
    const slash = path.lastIndexOf('/')
    if (parents.has(slash < 0 ? '' : path.slice(0, slash))) return true
    return recursive.some(directory => path.startsWith(directory))
  }
}

interface Pattern {
  negative: boolean
  /** Matches directories only (the pattern ended with '/'). */
  directoryOnly: boolean
  /** No '/' but a trailing one: matched against the last component at any depth. */
  basename: boolean
  regex: RegExp
}

function nonConeFilter(lines: readonly string[]): SparseFilter {
  const patterns: Pattern[] = []
  for (const line of lines) {
    if (line.startsWith('#')) continue
    const pattern = parsePattern(asLatin1(line))
    if (pattern === undefined) return () => true
    patterns.push(pattern)
  }
  const decide = (path: string, directory: boolean): boolean | undefined => {
    const name = path.slice(path.lastIndexOf('/') + 1)
    for (let i = patterns.length - 1; i >= 0; i--) {
      const pattern = patterns[i]
      if (pattern.directoryOnly && !directory) continue
      if (pattern.regex.test(pattern.basename ? name : path)) return !pattern.negative
    }
    return undefined
  }
  return path => {
    let decision = decide(path, false)
    for (let end = path.lastIndexOf('/'); decision === undefined && end > 0;) {
      decision = decide(path.slice(0, end), true)
      end = path.lastIndexOf('/', end - 1)
    }
    return decision ?? false
  }
}

/** One gitignore pattern; undefined for syntax this module does not model (keep everything). */
function parsePattern(line: string): Pattern | undefined {
  let text = line
  const negative = text.startsWith('!')
  if (negative) text = text.slice(1)
  const directoryOnly = text.endsWith('/')
  if (directoryOnly) text = text.slice(0, -1)
  const basename = !text.includes('/')
  if (text.startsWith('/')) text = text.slice(1)
  if (text === '') return undefined
  const source = globToRegex(text)
  if (source === undefined) return undefined
  return { negative, directoryOnly, basename, regex: new RegExp(`^${source}$`, 's') }
}

/**
 * wildmatch with WM_PATHNAME as a regular expression: `*` and `?` stay within a component,
 * `**` spans components when it is a whole component, `[...]` is a class. Escapes, POSIX
 * classes and unclosed brackets are left to git (undefined).
 */
function globToRegex(glob: string): string | undefined {
  if (glob.includes('\\') || glob.includes('[:')) return undefined
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/'
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/'
        if (atStart && atEnd) {
          if (i + 2 === glob.length) out += '.*'
          else out += '(?:.*/)?'
          i += 2 // the '/' after, if any, is part of what (?:.*/)? matched
          continue
        }
        i++
      }
      out += '[^/]*'
    } else if (c === '?') {
      out += '[^/]'
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close < 0) return undefined
      let body = glob.slice(i + 1, close)
      const negated = body.startsWith('!') || body.startsWith('^')
      if (negated) body = body.slice(1)
      const escaped = body.replace(/[\]\\^]/g, m => `\\${m}`)
      out += negated ? `[^/${escaped}]` : `(?!/)[${escaped}]`
      i = close
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/]/g, m => `\\${m}`)
    }
  }
  return out
}
