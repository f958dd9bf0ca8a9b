/**
 * Git LFS in the staged clone (lfs: true): git-lfs must be there before anything is
 * downloaded; after the workflow commit is checked out, the working tree gets the content of
 * every LFS file from the local objects (cachew's LFS snapshot), and git-lfs fetches the
 * objects the snapshot lacks: through cachew's git route first, then from the upstream host
 * with the token when cachew does not serve them.
 */
import { ExpectedError } from '../errors.js'
import type { RestoreSettings } from '../settings.js'
import { accessConfig } from './access.js'
import { Git, GitError, type ConfigEntry } from './git.js'

export const INSTALL_GIT_LFS =
  'install it on the runner (Debian/Ubuntu: sudo apt-get install -y git-lfs; macOS: brew install git-lfs; ' +
  'see https://git-lfs.com); GitHub-hosted runners have it'

/** Fails, before any request, when git-lfs is not installed. Returns its version line. */
export async function requireGitLfs(cwd: string): Promise<string> {
  let output
  try {
    output = await new Git(cwd).run(['lfs', 'version'], { okExitCodes: [1] })
  } catch (error) {
    if (error instanceof GitError) output = { exitCode: error.exitCode, stdout: '' }
    else throw error
  }
  if (output.exitCode !== 0 || !output.stdout.startsWith('git-lfs/')) {
    throw new ExpectedError(
      `Input 'lfs' is true, but git-lfs is not installed (git lfs version failed): ${INSTALL_GIT_LFS}. ` +
        'Or set lfs: false to keep the LFS pointer files.'
    )
  }
  return output.stdout.trim()
}

export interface LfsLog {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export interface LfsCheckoutResult {
  /** LFS files at the commit. */
  files: number
  /** Objects git-lfs had to fetch (the LFS snapshot lacked them). */
  fetched: number
  /** Where they came from, when any were fetched. */
  fetchedFrom?: 'cachew' | 'upstream'
}

/**
 * Installs git-lfs's filters and hooks in the clone (as actions/checkout does with lfs: true),
 * so later steps' git sees the files as clean and smudges on checkout; writes the content of
 * every LFS file from the local objects; fetches what is missing and writes those too.
 */
export async function checkOutLfs(
  git: Git,
  settings: RestoreSettings,
  commit: string,
  log: LfsLog
): Promise<LfsCheckoutResult> {
  await git.run(['lfs', 'install', '--local'])
  await git.run(['lfs', 'checkout'])
  let missing = await missingObjects(git)
  const files = missing.total
  if (missing.paths.length === 0) return { files, fetched: 0 }
  log.info(
    `${missing.paths.length} LFS object(s) of ${commit} are not in the LFS snapshot; fetching them with git-lfs.`
  )
  const fetchedFrom = await fetchObjects(git, settings, commit, log)
  await git.run(['lfs', 'checkout'])
  const before = missing.paths.length
  missing = await missingObjects(git)
  if (missing.paths.length > 0) {
    throw new ExpectedError(
      `git-lfs fetched the LFS objects of ${commit}, but ${missing.paths.length} file(s) still have no content: ` +
        `${missing.paths.slice(0, 5).join(', ')}.`
    )
  }
  return { files, fetched: before, fetchedFrom }
}

/** Files whose working-tree copy is still a pointer (`-` in `git lfs ls-files`). */
async function missingObjects(git: Git): Promise<{ total: number; paths: string[] }> {
  const listing = await git.read(['lfs', 'ls-files', '--long'])
  const paths: string[] = []
  let total = 0
  for (const line of listing.split('\n')) {
    const match = /^([0-9a-f]{64}) ([*-]) (.*)$/.exec(line)
    if (!match) continue
    total++
    if (match[2] === '-') paths.push(match[3])
  }
  return { total, paths }
}

/**
 * `git lfs fetch origin <commit>`: origin is the upstream URL, so with git-through-cachew the
 * insteadOf rule sends git-lfs's batch request to cachew. When that fails (a cachew that serves
 * git's own protocol only answers 404), the upstream host is asked directly, with the token.
 */
async function fetchObjects(
  git: Git,
  settings: RestoreSettings,
  commit: string,
  log: LfsLog
): Promise<'cachew' | 'upstream'> {
  const routes: Array<{ from: 'cachew' | 'upstream'; through: boolean }> = settings.gitThroughCachew
    ? [
        { from: 'cachew', through: true },
        { from: 'upstream', through: false }
      ]
    : [{ from: 'upstream', through: false }]
  let last: GitError | undefined
  for (const route of routes) {
    const config = route.through ? accessConfig(settings) : upstreamLfsConfig(settings)
    try {
      await git.run(['lfs', 'fetch', 'origin', commit], { config })
      log.info(`Fetched the missing LFS objects from ${route.from}.`)
      return route.from
    } catch (error) {
      if (!(error instanceof GitError)) throw error
      last = error
      const reason = lastLine(error.stderr) || error.message
      if (route.from === 'cachew') {
        log.info(`cachew did not serve the LFS objects (${reason}); asking the upstream host.`)
      }
    }
  }
  throw new ExpectedError(
    `git-lfs could not fetch the LFS objects of ${commit} that cachew's LFS snapshot lacks ` +
      `(${lastLine(last?.stderr ?? '') || last?.message}). Check that 'token' can read the repository's LFS objects ` +
      'upstream, or that cachew has an LFS snapshot of the commit.'
  )
}

/**
 * Straight to the upstream host's LFS endpoint, with the token. The repository's own config
 * may include the access file that routes the host through cachew (persisted by an update in
 * place, or left by a job without its post step), and git-lfs rewrites even lfs.url by
 * insteadOf; git takes the longest matching prefix, so an identity rule for the endpoint wins.
 */
function upstreamLfsConfig(settings: RestoreSettings): ConfigEntry[] {
  const endpoint = `${settings.repositoryUrl}.git/info/lfs`
  return [
    ...accessConfig({ ...settings, gitThroughCachew: false }),
    { key: 'lfs.url', value: endpoint },
    { key: `url.${endpoint}.insteadOf`, value: endpoint }
  ]
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
  return lines[lines.length - 1] ?? ''
}
