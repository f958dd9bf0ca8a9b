/**
 * The action's edge: read the settings, restore, publish outputs and the summary. The one
 * place that turns failures into the step's result: expected errors as their message,
 * anything else as an unexpected error with its stack in the debug log.
 */
import * as core from './report/runner.js'
import { cancelOnSignals } from './cancellation.js'
import { describeSuperseded } from './checkout-inputs.js'
import { CacheMissError, ExpectedError } from './errors.js'
import { removeGitAccess } from './git/access.js'
import { addSafeDirectory, removeSafeDirectory } from './git/safe-directory.js'
import type { Log } from './report/log.js'
import { writeSummary } from './report/summary.js'
import { restore, type RestoreResult } from './restore.js'
import { readSettings, type RestoreSettings } from './settings.js'

/** Output names exactly as action.yml declares them. */
export const Outputs = {
  cacheHit: 'cache-hit',
  commit: 'commit',
  snapshotCommit: 'snapshot-commit',
  ref: 'ref',
  bundleApplied: 'bundle-applied',
  snapshotSource: 'snapshot-source',
  downloadBytes: 'download-bytes',
  downloadSeconds: 'download-seconds',
  seconds: 'seconds',
  mode: 'mode'
} as const

const State = {
  isPost: 'isPost',
  repository: 'repository',
  gitConfig: 'git-config',
  safeDirectory: 'safe-directory'
} as const

const coreLog: Log = {
  info: core.info,
  warning: message => core.warning(message),
  notice: message => core.notice(message),
  debug: core.debug,
  group: (name, fn) => core.group(name, fn)
}

export async function run(): Promise<void> {
  const stopListening = cancelOnSignals(signal =>
    core.info(`Received ${signal}: cancelling, and putting everything back as it was.`)
  )
  try {
    if (core.getState(State.isPost) === 'true') await post()
    else await main()
  } catch (error) {
    fail(error)
  } finally {
    stopListening()
  }
}

async function main(): Promise<void> {
  core.saveState(State.isPost, 'true')
  const settings = readSettings()
  reportCheckoutInputs(settings)
  // Alongside the restore, which waits for it before its own git touches the target (an
  // update in place), so that the action's git accepts a checkout another user owns, as
  // later steps' git will. Its two git processes then cost the restore nothing.
  const trusted = settings.setSafeDirectory ? trustRepository(settings.target) : Promise.resolve()
  let result: RestoreResult
  try {
    result = await restore(settings, coreLog, trusted)
  } catch (error) {
    if (error instanceof CacheMissError && !settings.failOnCacheMiss) {
      core.warning(
        `${error.message} Nothing was restored; continue with another checkout (cache-hit is false).`
      )
      core.setOutput(Outputs.cacheHit, 'false')
      return
    }
    throw error
  } finally {
    // Its state must be saved whatever became of the restore: the post step removes the entry.
    await trusted
  }
  if (result.gitConfigFile) {
    core.saveState(State.repository, settings.target)
    core.saveState(State.gitConfig, result.gitConfigFile)
  }
  publish(result)
  writeSummary(result)
}

/** Once, before the restore: the actions/checkout inputs the snapshot makes moot (one info line). */
function reportCheckoutInputs(settings: RestoreSettings): void {
  const superseded = describeSuperseded(settings.superseded)
  if (superseded) core.info(superseded)
}

function publish(result: RestoreResult): void {
  core.setOutput(Outputs.cacheHit, 'true')
  core.setOutput(Outputs.commit, result.commit)
  core.setOutput(Outputs.snapshotCommit, result.snapshotCommit ?? '')
  core.setOutput(Outputs.ref, result.ref)
  core.setOutput(Outputs.bundleApplied, String(result.bundleApplied))
  core.setOutput(Outputs.snapshotSource, result.source ?? '')
  core.setOutput(Outputs.downloadBytes, String(result.download.bytes))
  core.setOutput(Outputs.downloadSeconds, result.snapshotSeconds.toFixed(3))
  core.setOutput(Outputs.seconds, result.seconds.toFixed(3))
  core.setOutput(Outputs.mode, result.mode)
  const how = result.mode === 'in-place' ? 'Updated the existing checkout of' : 'Restored'
  core.info(
    `${how} ${result.repositoryUrl} at ${result.commit} (${result.ref}) in ${result.seconds.toFixed(1)} s.`
  )
}

/**
 * set-safe-directory: a failure is a warning, as with actions/checkout; git in later steps
 * then refuses the repository only if another user owns it.
 */
async function trustRepository(target: string): Promise<void> {
  try {
    const added = await addSafeDirectory(target)
    if (added === undefined) return
    core.saveState(State.safeDirectory, added)
    core.info(`Added ${added} to git's global safe.directory for this job.`)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    core.warning(
      `Could not add ${target} to git's global safe.directory (${reason}); git may refuse ` +
        'the repository in later steps if another user owns it (detected dubious ownership).'
    )
  }
}

/**
 * The post step: removes the git credentials the main step left for later steps, then the
 * safe.directory entry, in the order actions/checkout's post step removes its own.
 */
async function post(): Promise<void> {
  const repository = core.getState(State.repository)
  const configFile = core.getState(State.gitConfig)
  const safeDirectory = core.getState(State.safeDirectory)
  try {
    if (repository && configFile) {
      await removeGitAccess(repository, configFile)
      core.info('Removed the git credentials this action configured.')
    }
  } finally {
    if (safeDirectory) {
      await removeSafeDirectory(safeDirectory)
      core.info(`Removed ${safeDirectory} from git's global safe.directory.`)
    }
  }
}

function fail(error: unknown): void {
  if (error instanceof ExpectedError) {
    core.setFailed(error.message)
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof Error && error.stack) core.debug(error.stack)
  core.setFailed(`cachew-restore failed unexpectedly: ${message}`)
}
