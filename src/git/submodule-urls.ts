/**
 * What git decides about a submodule before it clones one, as pure functions: the URL a
 * `.gitmodules` entry names (a relative one resolved against the superproject's remote), and
 * whether a name and a path are safe to use as directories. The snapshot restore of a
 * submodule (./submodules.ts) must arrive where `git submodule update --init` would, and refuse
 * what git refuses; anything these cannot decide goes to git itself.
 */

/**
 * A submodule's URL as `git submodule init` resolves it: a URL starting with `./` or `../` is
 * relative to the superproject's remote URL (each `../` drops one path component of it, `./`
 * none), anything else is taken as it is. Undefined when a relative URL cannot be resolved
 * here to a URL with a repository path: a base that is not plain http(s) (scp-like, with
 * credentials, a query), or more `../` than the base has path components.
 */
export function resolveSubmoduleUrl(baseUrl: string, url: string): string | undefined {
  if (!url.startsWith('./') && !url.startsWith('../')) return url
  const base = plainHttpUrl(baseUrl)
  if (!base) return undefined
  let basePath = base.pathname.replace(/\/+$/, '')
  let rest = url
  for (;;) {
    if (rest.startsWith('./')) {
      rest = rest.slice(2)
    } else if (rest.startsWith('../')) {
      const cut = basePath.lastIndexOf('/')
      if (cut < 0) return undefined
      basePath = basePath.slice(0, cut)
      rest = rest.slice(3)
    } else {
      break
    }
  }
  if (rest === '' || rest === '.' || rest === '..') return undefined
  return `${base.origin}${basePath}/${rest}`
}

/** An http(s) URL with a host and nothing git would keep beyond origin and path. */
export function plainHttpUrl(text: string): URL | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (!url.host || url.username || url.password || url.search || url.hash) return undefined
  return url
}

/**
 * git refuses a submodule name that is empty, absolute, or has a `..` component (either slash
 * separates), since the name becomes the directory .git/modules/NAME.
 */
export function isSafeSubmoduleName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.startsWith('\\')) return false
  return !name.split(/[/\\]/).includes('..')
}

/**
 * A path inside the working tree that is not git's own: relative, with no empty, `.` or `..`
 * component and no component named .git (in any case, as on a case-insensitive disk).
 */
export function isSafeSubmodulePath(relative: string): boolean {
  if (relative === '' || relative.startsWith('/') || relative.includes('\\')) return false
  return relative
    .split('/')
    .every(part => part !== '' && part !== '.' && part !== '..' && part.toLowerCase() !== '.git')
}
