/**
 * Making the destination's commit local when the snapshot and bundle do not have it: ask
 * cachew to make sure it has the refs and commits (`ensure-refs`), then fetch just those
 * through cachew's git endpoint (straight from upstream only when git-through-cachew is off).
 * The snapshot has full history, so fetches are never shallow. Each fetch and each ensure-refs
 * request is retried as a whole by the one retry layer of git traffic (./retry.ts).
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { CachewClient, EnsureRefsAnswer, EnsureRefsRequest } from '../cachew/client.js'
import { ExpectedError } from '../errors.js'
import type { RestoreSettings } from '../settings.js'
import { accessConfig } from './access.js'
import type { Git } from './git.js'
import { GitError } from './git.js'
import { withRetries, type RetryContext } from './retry.js'
import type { Destination } from './workflow-ref.js'

export type FreshenSettings = Pick<
  RestoreSettings,
  'serverUrl' | 'repositoryUrl' | 'authorization' | 'token' | 'gitThroughCachew' | 'tempDir'
>

export interface FreshenContext {
  git: Git
  settings: FreshenSettings
  cachew: CachewClient
  log: { info(message: string): void; warning(message: string): void }
  /** Set by resolveDestination: answers it has without asking git. */
  known?: Known
}

/**
 * What resolveDestination knows without asking git, each question saved being a process
 * (12 to 17 ms here): commits that are local (HEAD's, the bundle's head), and the commits of
 * refs as HEAD was read (the branch's upstream) or as the bundle set them (origin/<branch>).
 * A local commit stays local; a fetch may move refs, so it forgets them.
 */
interface Known {
  commits: ReadonlySet<string>
  refs: Map<string, string>
}

function knownAtStart(start: StartingHead, freshness: SnapshotFreshness): Known {
  const commits = new Set([start.commit])
  const refs = new Map<string, string>()
  if (start.upstream) refs.set(start.upstream.ref, start.upstream.commit)
  if (freshness.bundle) {
    commits.add(freshness.bundle.commit)
    refs.set(`refs/remotes/origin/${freshness.bundle.branch}`, freshness.bundle.commit)
  }
  return { commits, refs }
}

/** Where to check out, once everything needed is local. */
export interface Resolved {
  commit: string
  /** Check out on this branch (tracking origin/<branch>); detached when absent. */
  branch?: string
  /** What was checked out, for the `ref` output: refs/heads/…, refs/tags/…, or the SHA. */
  ref: string
}

/** The repository's state straight after extraction. */
export interface StartingHead {
  commit: string
  branch?: string
  /** The branch's upstream (refs/remotes/origin/<branch> in a clone) when one is stored. */
  upstream?: { ref: string; commit: string }
}

function retryContext(context: FreshenContext): RetryContext {
  return { log: context.log, signal: context.git.signal }
}

/**
 * Runs ensure-refs, retried; a failure is a warning, since the fetch that follows may still
 * work.
 */
async function tryEnsureRefs(
  context: FreshenContext,
  request: EnsureRefsRequest
): Promise<EnsureRefsAnswer | undefined> {
  try {
    return await withRetries(
      'cachew ensure-refs',
      () => context.cachew.ensureRefs(request),
      retryContext(context)
    )
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    context.log.warning(`cachew ensure-refs failed (${reason}); fetching anyway`)
    return undefined
  }
}

/**
 * Fetches refspecs through cachew (or upstream without git-through-cachew), never tags;
 * retried as a whole when the transfer broke or the server answered 5xx or 429.
 */
export async function fetchThroughCachew(
  context: FreshenContext,
  refspecs: readonly string[]
): Promise<void> {
  const { git, settings } = context
  const via = settings.gitThroughCachew ? 'through cachew' : 'from upstream'
  context.log.info(`Fetching ${refspecs.join(' ')} ${via}`)
  const args = [
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-write-fetch-head',
    settings.repositoryUrl,
    ...refspecs
  ]
  context.known?.refs.clear()
  const config = accessConfig(settings)
  const packDir = path.join(git.directory, '.git', 'objects', 'pack')
  const before = new Set(await namesIn(packDir))
  const attempt = async (): Promise<void> => {
    try {
      await git.run(args, { config })
    } catch (error) {
      await removeTempPacks(packDir, before)
      throw error
    }
  }
  await withRetries(`git fetch ${via}`, attempt, retryContext(context))
}

/**
 * A fetch cut off mid-pack leaves index-pack's tmp_pack_* behind (git 2.39); another attempt
 * would add one more each time, and they would stay in .git for good.
 */
async function removeTempPacks(packDir: string, before: ReadonlySet<string>): Promise<void> {
  const left = (await namesIn(packDir)).filter(name => name.startsWith('tmp_') && !before.has(name))
  await Promise.all(left.map(name => fs.rm(path.join(packDir, name), { force: true })))
}

async function namesIn(directory: string): Promise<string[]> {
  try {
    return await fs.readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

async function hasCommit(context: FreshenContext, commit: string): Promise<boolean> {
  if (context.known?.commits.has(commit)) return true
  return context.git.test(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`])
}

async function resolveCommit(context: FreshenContext, ref: string): Promise<string | undefined> {
  const known = context.known?.refs.get(ref)
  if (known !== undefined) return known
  const result = await context.git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
    okExitCodes: [1]
  })
  return result.exitCode === 0 ? result.stdout.trim() : undefined
}

function missingCommitError(context: FreshenContext, commit: string): ExpectedError {
  const { repositoryUrl, serverUrl } = context.settings
  return new ExpectedError(
    `Commit ${commit} is not available from ${repositoryUrl} through cachew (${serverUrl}); ` +
      'was it force-pushed away, or does it belong to another repository?'
  )
}

function fetchFailedError(context: FreshenContext, commit: string, error: GitError): ExpectedError {
  const via = context.settings.gitThroughCachew
    ? `through cachew (${context.settings.serverUrl})`
    : 'from upstream'
  return new ExpectedError(
    `Could not fetch commit ${commit} of ${context.settings.repositoryUrl} ${via}: ${error.stderr || error.message}`
  )
}

function missingRefError(context: FreshenContext, what: string): ExpectedError {
  return new ExpectedError(`${what} does not exist in ${context.settings.repositoryUrl}`)
}

/** Where a fetched ref is kept locally: branches as origin's, pull refs as actions/checkout does. */
export function localRefFor(ref: string): string {
  if (ref.startsWith('refs/heads/')) return `refs/remotes/origin/${ref.slice('refs/heads/'.length)}`
  if (ref.startsWith('refs/tags/')) return ref
  return `refs/remotes/${ref.slice('refs/'.length)}`
}

/**
 * Makes `commit` local: nothing when it already is; otherwise ensure-refs, then fetch `ref`
 * (cheap and allowed by every server), then the commit itself if the ref has moved on.
 * Returns whether anything was fetched.
 */
async function ensureCommit(
  context: FreshenContext,
  commit: string,
  ref: string
): Promise<boolean> {
  if (await hasCommit(context, commit)) return false
  const expected = ref.startsWith('refs/tags/') ? '' : commit
  const answer = await tryEnsureRefs(context, { refs: { [ref]: expected }, commits: [commit] })
  if (answer?.missingCommits.includes(commit)) throw missingCommitError(context, commit)
  if (!answer || answer.refs[ref]) {
    await fetchQuietlyOrWarn(context, [`+${ref}:${localRefFor(ref)}`])
  }
  if (await hasCommit(context, commit)) return true
  await fetchCommit(context, commit)
  return true
}

/** Fetches one commit by SHA through cachew; fails naming it when it is still not local. */
async function fetchCommit(context: FreshenContext, commit: string): Promise<void> {
  try {
    await fetchThroughCachew(context, [commit])
  } catch (error) {
    if (error instanceof GitError) throw fetchFailedError(context, commit, error)
    throw error
  }
  if (!(await hasCommit(context, commit))) throw missingCommitError(context, commit)
}

/** A ref fetch that may fail harmlessly, because fetching the commit by SHA follows. */
async function fetchQuietlyOrWarn(context: FreshenContext, refspecs: string[]): Promise<void> {
  try {
    await fetchThroughCachew(context, refspecs)
  } catch (error) {
    if (!(error instanceof GitError)) throw error
    context.log.warning(
      `Fetching ${refspecs.join(' ')} failed (${error.stderr}); trying the commit`
    )
  }
}

/**
 * The upstream tip of `ref` (a full ref name), fetched into its local ref when not already
 * there. Undefined when the ref does not exist upstream.
 */
async function freshenRef(
  context: FreshenContext,
  ref: string,
  answer?: EnsureRefsAnswer
): Promise<string | undefined> {
  const local = localRefFor(ref)
  const tip = answer?.refs[ref]
  if (answer && !tip) return undefined
  if (tip && (await resolveCommit(context, local)) === tip) return tip
  try {
    await fetchThroughCachew(context, [`+${ref}:${local}`])
  } catch (error) {
    // Without ensure-refs' answer, a failed fetch is how we learn the ref does not exist.
    if (!answer && error instanceof GitError && /couldn't find remote ref/i.test(error.stderr)) {
      return undefined
    }
    throw error
  }
  return resolveCommit(context, local)
}

/** Moves refs/remotes/origin/<branch> forward to `commit`, never backward. */
async function advanceRemoteBranch(
  context: FreshenContext,
  branch: string,
  commit: string
): Promise<void> {
  const { git } = context
  const remoteRef = `refs/remotes/origin/${branch}`
  const current = await resolveCommit(context, remoteRef)
  if (current === commit) return
  if (current && !(await git.test(['merge-base', '--is-ancestor', current, commit]))) return
  await git.run(['update-ref', remoteRef, commit])
  context.known?.refs.set(remoteRef, commit)
}

export interface SnapshotFreshness {
  /** The head the applied bundle brought, if any. */
  bundle?: { branch: string; commit: string }
  /** The bundle was offered but could not be used: fetch the branch instead. */
  fetchInstead: boolean
}

/**
 * Makes the destination's commit local and says where to check out. Returns whether
 * anything was fetched alongside.
 */
export async function resolveDestination(
  context: FreshenContext,
  destination: Destination,
  start: StartingHead,
  freshness: SnapshotFreshness
): Promise<{ resolved: Resolved; fetched: boolean }> {
  context = { ...context, known: knownAtStart(start, freshness) }
  switch (destination.kind) {
    case 'snapshot':
      return resolveSnapshotHead(context, start, freshness)
    case 'branch':
      return resolveBranch(context, destination.branch, destination.commit)
    case 'tag':
      return resolveTag(context, destination.tag, destination.commit)
    case 'detached-ref':
      return resolveDetachedRef(context, destination.ref, destination.commit)
    case 'commit': {
      const ref = destination.commit
      const fetched = await ensureCommitBySha(context, destination.commit)
      return { resolved: { commit: destination.commit, ref }, fetched }
    }
    case 'branch-or-tag':
      return resolveBranchOrTag(context, destination.name)
  }
}

async function resolveSnapshotHead(
  context: FreshenContext,
  start: StartingHead,
  freshness: SnapshotFreshness
): Promise<{ resolved: Resolved; fetched: boolean }> {
  const { git } = context
  if (!start.branch) {
    const commit = freshness.bundle?.commit ?? start.commit
    return { resolved: { commit, ref: commit }, fetched: false }
  }
  const ref = `refs/heads/${start.branch}`
  if (freshness.bundle?.branch === start.branch) {
    return {
      resolved: { commit: freshness.bundle.commit, branch: start.branch, ref },
      fetched: false
    }
  }
  if (!freshness.fetchInstead) {
    return { resolved: { commit: start.commit, branch: start.branch, ref }, fetched: false }
  }
  const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] })
  const tip = await freshenRef(context, ref, answer)
  if (tip && (await git.test(['merge-base', '--is-ancestor', start.commit, tip]))) {
    return { resolved: { commit: tip, branch: start.branch, ref }, fetched: true }
  }
  context.log.warning(
    `origin/${start.branch} is not ahead of the snapshot; staying at ${start.commit}`
  )
  return { resolved: { commit: start.commit, branch: start.branch, ref }, fetched: true }
}

async function resolveBranch(
  context: FreshenContext,
  branch: string,
  commit: string | undefined
): Promise<{ resolved: Resolved; fetched: boolean }> {
  const ref = `refs/heads/${branch}`
  if (commit) {
    const fetched = await ensureCommit(context, commit, ref)
    await advanceRemoteBranch(context, branch, commit)
    return { resolved: { commit, branch, ref }, fetched }
  }
  const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] })
  const tip = await freshenRef(context, ref, answer)
  if (!tip) throw missingRefError(context, `Branch '${branch}'`)
  return { resolved: { commit: tip, branch, ref }, fetched: true }
}

async function resolveTag(
  context: FreshenContext,
  tag: string,
  commit: string | undefined
): Promise<{ resolved: Resolved; fetched: boolean }> {
  const ref = `refs/tags/${tag}`
  const localTag = await resolveCommit(context, ref)
  if (commit) {
    // The tag itself is fetched too when missing, so `git describe` works as after checkout.
    const fetched = localTag
      ? await ensureCommit(context, commit, ref)
      : await fetchTagFor(context, ref, commit)
    return { resolved: { commit, ref }, fetched }
  }
  if (localTag) return { resolved: { commit: localTag, ref }, fetched: false }
  const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] })
  const tip = await freshenRef(context, ref, answer)
  if (!tip) throw missingRefError(context, `Tag '${tag}'`)
  return { resolved: { commit: tip, ref }, fetched: true }
}

async function fetchTagFor(context: FreshenContext, ref: string, commit: string): Promise<boolean> {
  const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [commit] })
  if (answer?.missingCommits.includes(commit)) throw missingCommitError(context, commit)
  if (!answer || answer.refs[ref]) await fetchQuietlyOrWarn(context, [`+${ref}:${ref}`])
  await ensureCommitBySha(context, commit)
  return true
}

async function resolveDetachedRef(
  context: FreshenContext,
  ref: string,
  commit: string | undefined
): Promise<{ resolved: Resolved; fetched: boolean }> {
  if (commit) {
    const fetched = await ensureCommit(context, commit, ref)
    return { resolved: { commit, ref }, fetched }
  }
  const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] })
  const tip = await freshenRef(context, ref, answer)
  if (!tip) throw missingRefError(context, `Ref '${ref}'`)
  return { resolved: { commit: tip, ref }, fetched: true }
}

async function ensureCommitBySha(context: FreshenContext, commit: string): Promise<boolean> {
  if (await hasCommit(context, commit)) return false
  const answer = await tryEnsureRefs(context, { refs: {}, commits: [commit] })
  if (answer?.missingCommits.includes(commit)) throw missingCommitError(context, commit)
  await fetchCommit(context, commit)
  return true
}

/** An unqualified name: a branch if one exists upstream, else a tag (as actions/checkout). */
async function resolveBranchOrTag(
  context: FreshenContext,
  name: string
): Promise<{ resolved: Resolved; fetched: boolean }> {
  const branchRef = `refs/heads/${name}`
  const tagRef = `refs/tags/${name}`
  const answer = await tryEnsureRefs(context, {
    refs: { [branchRef]: '', [tagRef]: '' },
    commits: []
  })
  const branchTip = await freshenRef(context, branchRef, answer)
  if (branchTip)
    return { resolved: { commit: branchTip, branch: name, ref: branchRef }, fetched: true }
  const tagTip = await freshenRef(context, tagRef, answer)
  if (tagTip) return { resolved: { commit: tagTip, ref: tagRef }, fetched: true }
  throw new ExpectedError(
    `No branch or tag named '${name}' exists in ${context.settings.repositoryUrl}`
  )
}
