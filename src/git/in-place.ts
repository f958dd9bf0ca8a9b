/**
 * Updating an existing checkout in place, for self-hosted runners that keep the workspace
 * between jobs. When the target already is a healthy clone of the same repository, the
 * destination commit is made local through cachew (freshen's ensure-refs and fetch), the tree
 * is cleaned as actions/checkout's `clean` input says (all untracked and ignored files go, or
 * with false only those in the way) and then checked out as finishCheckout checks out. A few commits behind, that moves a few files instead of the whole
 * snapshot.
 *
 * Three stages, and what a failure in each leads to (the caller then restores the snapshot):
 *  1. examine, reading only: not the same repository, broken, shallow, mid-merge... → an info
 *     line saying why;
 *  2. fetch, adding objects and remote-tracking refs only: a failed fetch, or one that receives
 *     more than FETCH_BUDGET_SHARE of the snapshot's size (cut off there) → an info line;
 *  3. update the tree (clean, reset, checkout): a failure → a warning, after the checkout is
 *     put back as the job found it (in-place-undo.ts), so that a snapshot restore that fails
 *     too leaves the target as it was; when putting back fails, the warning says what state
 *     the target is in, and the snapshot's staging replaces the whole target if it can.
 * A cancelled job puts the checkout back the same way and stops there.
 */
import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { CachewClient, SnapshotHead } from '../cachew/client.js'
import { jobCancelled } from '../cancellation.js'
import { ExpectedError } from '../errors.js'
import { formatBytes, type Log } from '../report/log.js'
import { type Phase, timed } from '../report/phases.js'
import type { RestoreSettings } from '../settings.js'
import { accessSecrets, configureGitAccess, setOrigin } from './access.js'
import { updateSubmodules } from './submodules.js'
import { checkOut, readStartingHead, refreshIndex, warnIfDirty } from './finish.js'
import { resolveDestination, type Resolved, type StartingHead } from './freshen.js'
import { Git, GitError, type ConfigEntry } from './git.js'
import { cleanExclusion, InPlaceUndo, type PutBack } from './in-place-undo.js'
import { describeDestination, type Destination } from './workflow-ref.js'

/**
 * The fetch may receive at most this share of the snapshot's compressed size before it is cut
 * off and the snapshot restored instead. Measured on the benchmark's repository (README, "A
 * checkout already in the target"): fetching through cachew ran at 26 MB/s, and in place beat
 * restoring the snapshot over a checkout up to about 60% of the snapshot's size even with every
 * file rewritten. A quarter leaves a factor of two for slower fetches, and a cut-off attempt
 * costs only the time to receive that quarter.
 */
export const FETCH_BUDGET_SHARE = 0.25
/** How often the incoming pack's size is looked at while git fetches. */
const BUDGET_POLL_MS = 100

export interface InPlaceResult {
  /** HEAD after the update. */
  commit: string
  /** What was checked out, as FinishResult.ref. */
  ref: string
  /** Bytes of the packs the fetch received (0 when the commit was already local). */
  fetchedBytes: number
  phases: Phase[]
  /** git access config to remove in the post step, when credentials persist. */
  gitConfigFile?: string
}

/** Why the checkout is not updated in place; the message completes "Not updating X in place: ". */
class NotInPlace extends Error {
  override name = 'NotInPlace'
}

interface Plan {
  start: StartingHead
  destination: Destination
  /** Most bytes the fetch may receive; undefined when cachew has no snapshot to compare with. */
  budget?: number
}

/**
 * Brings the checkout at settings.target to the destination in place, or returns undefined
 * (having said why) when the snapshot should be restored instead. Throws only the job's
 * cancellation, once the checkout is put back: the inputs were refused, if at all, when the
 * settings were read.
 */
export async function updateInPlace(
  settings: RestoreSettings,
  cachew: CachewClient,
  log: Log,
  /** Settles once git trusts the target (set-safe-directory); awaited before the first git. */
  targetTrusted: Promise<void> = Promise.resolve()
): Promise<InPlaceResult | undefined> {
  const target = settings.target
  const phases: Phase[] = []
  const git = new Git(target, accessSecrets(settings), { config: inPlaceGitConfig(settings) })
  let plan: Plan
  try {
    plan = await timed(phases, 'Examine the checkout', () =>
      planUpdate(git, settings, cachew, targetTrusted)
    )
  } catch (error) {
    log.info(`Not updating ${target} in place: ${reasonOf(error)}; restoring the snapshot.`)
    return undefined
  }
  const outcome = await log.group('Update the existing checkout in place', () =>
    fetchAndUpdate(git, settings, cachew, plan, phases, log)
  )
  if ('result' in outcome) return outcome.result
  // Outside the group, so the reason shows without unfolding it.
  reportFailure(target, outcome, log)
  if (!jobCancelled.aborted) return undefined
  if (outcome.putBack?.done === false) {
    throw new ExpectedError(
      `The restore was cancelled while ${target} was being updated in place, and it could ` +
        `not be put back: ${outcome.putBack.state}.`
    )
  }
  throw jobCancelled.reason
}

function reportFailure(target: string, outcome: Failure, log: Log): void {
  const cancelled = jobCancelled.aborted
  if (!outcome.putBack) {
    if (!cancelled) {
      log.info(`Not updating ${target} in place: ${outcome.reason}; restoring the snapshot.`)
    }
    return
  }
  const failed = cancelled
    ? `Updating ${target} in place was cancelled after the tree had started to change`
    : `Updating ${target} in place failed after the tree had started to change (${outcome.reason})`
  if (outcome.putBack.done) {
    log.warning(
      `${failed}; put it back as the job found it (HEAD at ${outcome.startedAt}); ` +
        (cancelled ? 'stopping there.' : 'restoring the snapshot.')
    )
    return
  }
  const { reason, state } = outcome.putBack
  log.warning(
    `${failed}, and putting it back failed (${reason}): ${state}. ` +
      (cancelled
        ? 'Restore the snapshot or check it out again.'
        : 'Restoring the snapshot, which replaces it; should that fail as well, it stays so.')
  )
}

/** putBack is set once the tree had started to change; startedAt is where HEAD was. */
type Failure = { reason: string; putBack?: PutBack; startedAt?: string }
type Outcome = { result: InPlaceResult } | Failure

async function fetchAndUpdate(
  git: Git,
  settings: RestoreSettings,
  cachew: CachewClient,
  plan: Plan,
  phases: Phase[],
  log: Log
): Promise<Outcome> {
  log.info(
    `${settings.target} holds a checkout of ${settings.repositoryUrl} at ${plan.start.commit}: ` +
      `updating it in place to ${describeDestination(plan.destination)}.`
  )
  let fetched: Awaited<ReturnType<typeof fetchDestination>>
  try {
    fetched = await timed(phases, 'Fetch through cachew', () =>
      fetchDestination(settings, cachew, plan, log)
    )
  } catch (error) {
    return { reason: reasonOf(error) }
  }
  let undo: InPlaceUndo
  try {
    undo = await InPlaceUndo.record(undoGit(settings), settings.target, {
      destination: fetched.resolved.commit,
      branch: fetched.resolved.branch,
      tempDir: settings.tempDir,
      keepUntracked: !settings.clean
    })
  } catch (error) {
    return { reason: `its state could not be recorded to put it back (${reasonOf(error)})` }
  }
  try {
    const updated = await timed(phases, 'Update the tree', async () => {
      await undo.setAside()
      return updateTree(git, settings, fetched.resolved, log)
    })
    await undo
      .discard()
      .catch((error: unknown) =>
        log.warning(`Could not remove ${undo.directory}: ${reasonOf(error)}`)
      )
    return { result: { ...updated, fetchedBytes: fetched.bytes, phases } }
  } catch (error) {
    const putBack = await undo.putBack()
    return { reason: reasonOf(error), putBack, startedAt: undo.describeHead() }
  }
}

/** Putting back runs to its end even when the job is cancelled (it is why, often). */
function undoGit(settings: RestoreSettings): Git {
  return new Git(settings.target, accessSecrets(settings), {
    config: inPlaceGitConfig(settings),
    uncancellable: true
  })
}

/**
 * The checkout's own hooks and fsmonitor, left by earlier jobs, do not run: a snapshot's fresh
 * clone has none, and a post-checkout hook that fails (git-lfs missing, say) would fail the
 * checkout. Hooks are looked for in a directory that does not exist.
 */
function inPlaceGitConfig(settings: RestoreSettings): ConfigEntry[] {
  const noHooks = path.join(settings.tempDir, `cachew-no-hooks-${randomBytes(6).toString('hex')}`)
  return [
    { key: 'core.hooksPath', value: noHooks },
    // Empty is "off" for every git: a boolean false since 2.36, "no hook command" before.
    { key: 'core.fsmonitor', value: '' }
  ]
}

// ---------------------------------------------------------------- stage 1: examine

async function planUpdate(
  git: Git,
  settings: RestoreSettings,
  cachew: CachewClient,
  targetTrusted: Promise<void>
): Promise<Plan> {
  await requireOwnCheckout(settings.target)
  await targetTrusted
  await requireHealthyRepository(git, settings.target)
  await requireSameRepository(git, settings.repositoryUrl)
  const start = await readHead(git)
  const destination = await chooseInPlaceDestination(git, settings)
  const budget = await fetchBudget(settings, cachew)
  return { start, destination, budget }
}

/** The target is a directory with a .git directory of its own (not a linked worktree). */
async function requireOwnCheckout(target: string): Promise<void> {
  const stat = await fs.stat(target).catch(() => undefined)
  if (!stat) throw new NotInPlace('it does not exist')
  if (!stat.isDirectory()) throw new NotInPlace('it is not a directory')
  const dotGit = await lstatOrUndefined(path.join(target, '.git'))
  if (!dotGit) throw new NotInPlace('there is no git checkout in it')
  if (!dotGit.isDirectory()) {
    throw new NotInPlace('its .git is not a directory (a linked worktree or a submodule)')
  }
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Work in progress that a checkout would trample, or that says a git process died midway. */
const IN_PROGRESS: Array<[string, string]> = [
  ['index.lock', "git's index.lock exists (another git is running, or one was killed)"],
  ['MERGE_HEAD', 'a merge is in progress'],
  ['rebase-merge', 'a rebase is in progress'],
  ['rebase-apply', 'a rebase or git am is in progress'],
  ['CHERRY_PICK_HEAD', 'a cherry-pick is in progress'],
  ['REVERT_HEAD', 'a revert is in progress'],
  ['BISECT_LOG', 'a bisect is in progress']
]

async function requireHealthyRepository(git: Git, target: string): Promise<void> {
  let lines: string[]
  try {
    lines = (await git.read(['rev-parse', '--is-shallow-repository', '--show-toplevel'])).split(
      '\n'
    )
  } catch (error) {
    throw new NotInPlace(`git cannot use it (${reasonOf(error)})`)
  }
  const [shallow, toplevel] = lines
  // An unusable .git makes git look further up: the repository found must be this one.
  if (path.resolve(toplevel) !== path.resolve(await fs.realpath(target))) {
    throw new NotInPlace(`its .git is not a usable repository (git found ${toplevel} instead)`)
  }
  if (shallow === 'true') throw new NotInPlace('it is a shallow clone (a snapshot has all history)')
  for (const [name, reason] of IN_PROGRESS) {
    if (await lstatOrUndefined(path.join(target, '.git', name))) throw new NotInPlace(reason)
  }
}

/** The configuration that decides whether the checkout is the same repository, whole. */
const SHAPE_KEYS =
  '^(remote\\.origin\\.url|remote\\.origin\\.promisor|extensions\\.partialclone|core\\.sparsecheckout)$'

async function requireSameRepository(git: Git, repositoryUrl: string): Promise<void> {
  const config = await readConfig(git, SHAPE_KEYS)
  const origin = config.get('remote.origin.url')
  if (origin === undefined) throw new NotInPlace('it has no remote named origin')
  if (!sameRepository(origin, repositoryUrl)) {
    throw new NotInPlace(`its origin is ${redactUrl(origin)}, not ${repositoryUrl}`)
  }
  if (isTrue(config.get('remote.origin.promisor')) || config.has('extensions.partialclone')) {
    throw new NotInPlace('it is a partial clone (a snapshot has every object)')
  }
  if (isTrue(config.get('core.sparsecheckout'))) {
    throw new NotInPlace('it is a sparse checkout (a snapshot has every file)')
  }
}

/** Keys (lower case, as git prints them) to their first value. */
async function readConfig(git: Git, pattern: string): Promise<Map<string, string>> {
  const result = await git.run(['config', '-z', '--get-regexp', pattern], { okExitCodes: [1] })
  const config = new Map<string, string>()
  for (const record of result.stdout.split('\0')) {
    if (record === '') continue
    const newline = record.indexOf('\n')
    const key = newline < 0 ? record : record.slice(0, newline)
    if (!config.has(key)) config.set(key, newline < 0 ? 'true' : record.slice(newline + 1))
  }
  return config
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', 'yes', 'on', '1'].includes(value.toLowerCase())
}

/**
 * https://HOST/PATH with scheme and host in lower case, no credentials, no default port and no
 * trailing slash or `.git`; undefined for anything but an http(s) URL with a path.
 */
export function normaliseRepositoryUrl(raw: string): string | undefined {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (url.search || url.hash) return undefined
  const repoPath = url.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
  if (repoPath === '') return undefined
  return `${url.protocol}//${url.host}${repoPath}`
}

/**
 * Whether origin is the repository: the same http(s) URL (normalised), or an ssh URL of it
 * (USER@HOST:PATH or ssh://USER@HOST[:PORT]/PATH, as ssh-key leaves origin) with the same host
 * name and path.
 */
export function sameRepository(origin: string, repositoryUrl: string): boolean {
  const wanted = normaliseRepositoryUrl(repositoryUrl)
  if (wanted === undefined) return false
  const https = normaliseRepositoryUrl(origin)
  if (https !== undefined) return https === wanted
  const ssh = sshHostAndPath(origin)
  const url = new URL(wanted)
  return ssh !== undefined && ssh === `${url.hostname}${url.pathname}`
}

/** HOST/PATH (host in lower case, no `.git`) of an ssh URL; undefined for anything else. */
function sshHostAndPath(raw: string): string | undefined {
  const text = raw.trim()
  let host: string
  let repoPath: string
  if (/^ssh:\/\//i.test(text)) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return undefined
    }
    host = url.hostname
    repoPath = url.pathname
  } else {
    // scp-like, as git reads it: a colon before any slash, and not a drive letter.
    const match = /^(?:[^@/:]+@)?([^@/:]{2,}):(.+)$/.exec(text)
    if (!match) return undefined
    host = match[1]
    repoPath = match[2]
  }
  const cleaned = repoPath
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
  if (!host || cleaned === '') return undefined
  return `${host.toLowerCase()}/${cleaned}`
}

/** The URL with any user name and password replaced, fit for the log. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw)
    if (!url.username && !url.password) return raw
    url.username = '***'
    url.password = ''
    return url.toString()
  } catch {
    return raw.replace(/\/\/[^/@]*@/, '//***@')
  }
}

async function readHead(git: Git): Promise<StartingHead> {
  try {
    const start = await readStartingHead(git)
    // The commit is readable; its tree must be too, or the checkout fails halfway.
    await git.run(['cat-file', '-e', `${start.commit}^{tree}`])
    return start
  } catch (error) {
    throw new NotInPlace(`its HEAD is not a readable commit (${reasonOf(error)})`)
  }
}

/**
 * Where the snapshot path would end. Its 'snapshot' destination (no commit from the workflow)
 * is the snapshot's branch moved on by the delta bundle: the tip of the default branch, which
 * origin/HEAD names in a clone.
 */
async function chooseInPlaceDestination(git: Git, settings: RestoreSettings): Promise<Destination> {
  const destination = settings.destination
  if (destination.kind !== 'snapshot') return destination
  if (settings.keepSnapshotHead) {
    throw new NotInPlace("keep-snapshot-head asks for the snapshot's own head")
  }
  const prefix = 'refs/remotes/origin/'
  const head = await git.run(['symbolic-ref', '--quiet', `${prefix}HEAD`], {
    okExitCodes: [1, 128]
  })
  const ref = head.stdout.trim()
  if (head.exitCode !== 0 || !ref.startsWith(prefix)) {
    throw new NotInPlace('origin/HEAD is not set, so the default branch is unknown')
  }
  return { kind: 'branch', branch: ref.slice(prefix.length) }
}

/**
 * FETCH_BUDGET_SHARE of the snapshot's size, from a HEAD request (answered from cachew's cache,
 * never generating anything). Without a cached snapshot (404) there is no budget: restoring
 * would make cachew generate one, which costs more than any fetch.
 */
async function fetchBudget(
  settings: RestoreSettings,
  cachew: CachewClient
): Promise<number | undefined> {
  let head: SnapshotHead
  try {
    head = await cachew.headSnapshot({ signal: AbortSignal.timeout(settings.stallTimeoutMs) })
  } catch (error) {
    throw new NotInPlace(`cachew could not be asked for the snapshot's size (${reasonOf(error)})`)
  }
  if (head.status === 404) return undefined
  if (head.status !== 200) {
    throw new NotInPlace(`cachew answered HTTP ${head.status} when asked for the snapshot's size`)
  }
  return head.size ? Math.floor(head.size * FETCH_BUDGET_SHARE) : undefined
}

// ---------------------------------------------------------------- stage 2: fetch

/** The fetch passed its budget and was cut off. */
class FetchBudgetExceeded extends NotInPlace {
  override name = 'FetchBudgetExceeded'
}

async function fetchDestination(
  settings: RestoreSettings,
  cachew: CachewClient,
  plan: Plan,
  log: Log
): Promise<{ resolved: Resolved; bytes: number }> {
  const packDir = path.join(settings.target, '.git', 'objects', 'pack')
  const before = new Set(await readdirOrEmpty(packDir))
  const controller = new AbortController()
  const watcher =
    plan.budget === undefined
      ? undefined
      : watchIncomingPack(packDir, before, plan.budget, controller)
  // Every fetch keeps its pack (as a clone does), so its size is watched and reported even
  // below fetch.unpackLimit's default of 100 objects, or a higher one configured here.
  const config = [...inPlaceGitConfig(settings), { key: 'fetch.unpackLimit', value: '1' }]
  const git = new Git(settings.target, accessSecrets(settings), {
    config,
    signal: controller.signal
  })
  try {
    const { resolved, fetched } = await resolveDestination(
      { git, settings, cachew, log },
      plan.destination,
      plan.start,
      { fetchInstead: false }
    )
    const bytes = await newPackBytes(packDir, before)
    if (fetched) log.info(`Fetched ${formatBytes(bytes)} of packs through cachew.`)
    return { resolved, bytes }
  } catch (error) {
    await removeIncomingPacks(packDir, before)
    if (error instanceof NotInPlace) throw error
    throw new NotInPlace(`the fetch through cachew failed (${reasonOf(error)})`)
  } finally {
    watcher?.stop()
  }
}

/**
 * Polls the size of the pack git is receiving (objects/pack/tmp_pack_*) and aborts the fetch
 * once it passes the budget.
 */
function watchIncomingPack(
  packDir: string,
  before: ReadonlySet<string>,
  budget: number,
  controller: AbortController
): { stop(): void } {
  let busy = false
  const check = async (): Promise<void> => {
    const received = await sizeOf(
      packDir,
      name => name.startsWith('tmp_pack_') && !before.has(name)
    )
    if (received > budget && !controller.signal.aborted) {
      controller.abort(
        new FetchBudgetExceeded(
          `the fetch passed ${formatBytes(budget)}, ${FETCH_BUDGET_SHARE * 100}% of the ` +
            "snapshot's size, so the checkout is too far behind"
        )
      )
    }
  }
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    check()
      .catch(() => undefined)
      .finally(() => (busy = false))
  }, BUDGET_POLL_MS)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}

async function readdirOrEmpty(directory: string): Promise<string[]> {
  try {
    return await fs.readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** Summed size of the directory's files whose names pass `wanted` (gone ones count 0). */
async function sizeOf(directory: string, wanted: (name: string) => boolean): Promise<number> {
  const names = (await readdirOrEmpty(directory)).filter(wanted)
  const sizes = await Promise.all(
    names.map(name =>
      fs.stat(path.join(directory, name)).then(
        stat => stat.size,
        () => 0
      )
    )
  )
  return sizes.reduce((sum, size) => sum + size, 0)
}

function newPackBytes(packDir: string, before: ReadonlySet<string>): Promise<number> {
  return sizeOf(packDir, name => name.endsWith('.pack') && !before.has(name))
}

/** What a cut-off fetch leaves behind: git removes its temporary pack only on a clean exit. */
async function removeIncomingPacks(packDir: string, before: ReadonlySet<string>): Promise<void> {
  const leftovers = (await readdirOrEmpty(packDir)).filter(
    name => name.startsWith('tmp_') && !before.has(name)
  )
  await Promise.all(leftovers.map(name => fs.rm(path.join(packDir, name), { force: true })))
}

// ---------------------------------------------------------------- stage 3: update the tree

/**
 * As actions/checkout leaves an existing checkout. With `clean: true`, untracked and ignored
 * files go first (`clean -ffdx`, nested repositories included). With `clean: false` they stay,
 * but for those in the way of a path the destination tracks, which the forced checkout
 * replaces as checkout's does (InPlaceUndo has set them aside). Tracked files are reset either
 * way, here by the forced checkout itself, which makes index and tree match the destination in
 * one pass (a `reset --hard` before it would read every file once more). Only when HEAD
 * already is the destination, and checkOut has nothing to do, does `reset --hard` undo local
 * edits.
 */
async function updateTree(
  git: Git,
  settings: RestoreSettings,
  resolved: Resolved,
  log: Log
): Promise<Pick<InPlaceResult, 'commit' | 'ref' | 'gitConfigFile'>> {
  if (settings.clean) {
    // What clean removes is set aside already (InPlaceUndo.setAside); this catches the rest.
    await git.run(['clean', '-ffdxq', ...cleanExclusion(settings.target, settings.tempDir)])
  }
  const head = await readStartingHead(git)
  if (head.commit === resolved.commit) await git.run(['reset', '--hard', '--quiet', 'HEAD'])
  await checkOut(git, resolved, head, 'unknown')
  // Before the refresh: until then a submodule a job before checked out is still at its old
  // commit, which the refresh would report as a difference.
  await updateSubmodules(git, settings, log)
  warnIfDirty(await refreshIndex(settings.target, git), log)
  const commit = await git.read(['rev-parse', 'HEAD'])
  log.info(`Checked out ${resolved.ref} at ${commit} in place.`)
  await setOrigin(settings.target, settings)
  const gitConfigFile = settings.persistCredentials
    ? (await configureGitAccess(settings.target, settings)).configFile
    : undefined
  return { commit, ref: resolved.ref, gitConfigFile }
}

// ---------------------------------------------------------------- helpers

function reasonOf(error: unknown): string {
  if (error instanceof GitError) return firstLine(error.stderr) || error.message
  return error instanceof Error ? error.message : String(error)
}

function firstLine(text: string): string {
  return text.split('\n').find(line => line.trim() !== '') ?? ''
}
