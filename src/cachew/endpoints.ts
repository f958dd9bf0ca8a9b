/**
 * Where things live on a cachew server. An upstream URL https://HOST/OWNER/REPO(.git)
 * maps to the prefix {server}/git/HOST/OWNER/REPO.
 */
export function repositoryPrefix(serverUrl: string, upstreamUrl: string): string {
  const upstream = new URL(upstreamUrl)
  const repoPath = upstream.pathname
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
  if (!upstream.host || repoPath === '') {
    throw new Error(`not a repository URL: ${upstreamUrl}`)
  }
  return `${serverUrl.replace(/\/+$/, '')}/git/${upstream.host}/${repoPath}`
}

export function snapshotUrl(serverUrl: string, upstreamUrl: string): string {
  return `${repositoryPrefix(serverUrl, upstreamUrl)}/snapshot.tar.zst`
}

/** The delta bundle from `base` to the mirror's HEAD. */
export function bundleUrl(serverUrl: string, upstreamUrl: string, base: string): string {
  return `${repositoryPrefix(serverUrl, upstreamUrl)}/snapshot.bundle?base=${base}`
}

/** cachew's LFS snapshot: the LFS objects its snapshot's HEAD references (404 when none). */
export function lfsSnapshotUrl(serverUrl: string, upstreamUrl: string): string {
  return `${repositoryPrefix(serverUrl, upstreamUrl)}/lfs-snapshot.tar.zst`
}

export function ensureRefsUrl(serverUrl: string, upstreamUrl: string): string {
  return `${repositoryPrefix(serverUrl, upstreamUrl)}/ensure-refs`
}

/** The URL prefix that git's insteadOf maps https://HOST/ onto. */
export function gitInsteadOf(serverUrl: string, upstreamUrl: string): { from: string; to: string } {
  const upstream = new URL(upstreamUrl)
  return {
    from: `${upstream.protocol}//${upstream.host}/`,
    to: `${serverUrl.replace(/\/+$/, '')}/git/${upstream.host}/`
  }
}

/**
 * X-Cachew-Bundle-Url is root-relative or absolute. A root-relative one is joined onto the
 * server URL as configured, so a cachew mounted under a path prefix keeps working.
 */
export function resolveServerUrl(serverUrl: string, reference: string): string {
  if (reference.startsWith('/')) return serverUrl.replace(/\/+$/, '') + reference
  return new URL(reference).toString()
}
