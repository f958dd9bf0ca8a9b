/**
 * The delta bundle cachew offers when its mirror has moved past the snapshot
 * (`git bundle create F refs/heads/<default> ^<snapshot commit>`). Applying it brings the
 * objects in and moves refs/remotes/origin/<branch>; moving HEAD and the working tree is the
 * checkout's job, done once for bundle and workflow commit together. Works whether the
 * snapshot is on a branch or detached, and never relies on `git pull <bundle> <branch>`.
 */
import type { Git } from './git.js'
import { GitError } from './git.js'

/** Anything wrong with the bundle; the restore warns and falls back to fetching. */
export class BundleError extends Error {
  override name = 'BundleError'
}

export interface BundleHead {
  /** The ref as the bundle names it, e.g. refs/heads/main. */
  ref: string
  commit: string
}

export interface AppliedBundle extends BundleHead {
  /** The branch whose remote-tracking ref now points at `commit`. */
  branch: string
}

/** A temporary ref that keeps the fetched objects reachable until the checks pass. */
const STAGING_REF = 'refs/cachew-restore/bundle'

/** `currentBranch`: the snapshot's branch, which the caller has read already (none: detached). */
export async function applyBundle(
  git: Git,
  file: string,
  currentBranch?: string
): Promise<AppliedBundle> {
  await verifyBundle(git, file)
  const heads = await listBundleHeads(git, file)
  // chooseHead takes a lone branch head whatever the preference: asking git which branches
  // to prefer would only cost a process (cachew's bundles carry the default branch alone).
  const preferred = branchHeads(heads).length > 1 ? await preferredBranches(git, currentBranch) : []
  const head = chooseHead(heads, preferred)
  const branch = head.ref.slice('refs/heads/'.length)
  let staged = true
  try {
    await wrapGit('fetch from the bundle', () =>
      git.run([
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        file,
        `+${head.ref}:${STAGING_REF}`
      ])
    )
    const commit = await git.read(['rev-parse', '--verify', `${STAGING_REF}^{commit}`])
    if (commit !== head.commit) {
      throw new BundleError(
        `bundle head ${head.ref} resolved to ${commit}, expected ${head.commit}`
      )
    }
    if (!(await git.test(['merge-base', '--is-ancestor', 'HEAD', commit]))) {
      throw new BundleError(`bundle head ${commit} does not descend from the snapshot's HEAD`)
    }
    // One transaction, one process: origin's branch moves and the temporary ref goes together.
    const commands = `update refs/remotes/origin/${branch} ${commit}\ndelete ${STAGING_REF}\n`
    await git.run(['update-ref', '--stdin'], { input: commands })
    staged = false
    return { ref: head.ref, commit, branch }
  } finally {
    if (staged) await git.run(['update-ref', '-d', STAGING_REF])
  }
}

/** `git bundle verify` checks the header and that every prerequisite commit is here. */
async function verifyBundle(git: Git, file: string): Promise<void> {
  await wrapGit('bundle verify', () => git.run(['bundle', 'verify', '--quiet', file]))
}

export async function listBundleHeads(git: Git, file: string): Promise<BundleHead[]> {
  const output = await wrapGit('bundle list-heads', () => git.read(['bundle', 'list-heads', file]))
  return output
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => {
      const [commit, ref] = line.trim().split(/\s+/, 2)
      return { commit, ref }
    })
}

/**
 * The snapshot's current branch first, then origin's default branch; a bundle with a single
 * branch head needs no preference.
 */
export function chooseHead(heads: readonly BundleHead[], preferred: readonly string[]): BundleHead {
  const branches = branchHeads(heads)
  for (const branch of preferred) {
    const match = branches.find(head => head.ref === `refs/heads/${branch}`)
    if (match) return match
  }
  if (branches.length === 1) return branches[0]
  const names = heads.map(head => head.ref).join(', ') || 'none'
  throw new BundleError(`no bundle head matches the snapshot's branch (bundle heads: ${names})`)
}

function branchHeads(heads: readonly BundleHead[]): BundleHead[] {
  return heads.filter(head => head.ref.startsWith('refs/heads/'))
}

async function preferredBranches(git: Git, currentBranch: string | undefined): Promise<string[]> {
  const names = currentBranch ? [currentBranch] : []
  const originHead = await git.run(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], {
    okExitCodes: [1, 128]
  })
  const prefix = 'refs/remotes/origin/'
  if (originHead.exitCode === 0 && originHead.stdout.startsWith(prefix)) {
    names.push(originHead.stdout.trim().slice(prefix.length))
  }
  return names
}

async function wrapGit<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (error) {
    if (error instanceof GitError)
      throw new BundleError(`${what}: ${error.stderr || error.message}`)
    throw error
  }
}
