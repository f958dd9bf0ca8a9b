/**
 * One restore, start to end: discover and download the snapshot into a spool file,
 * decode and extract it into a staging directory while it downloads, bring git to the
 * wanted commit there, then move the tree into place. A failure at any point leaves the
 * target as it was and removes every temp file. First, with update-existing: auto, a
 * checkout of the same repository already at the target is updated in place instead when
 * it qualifies (src/git/in-place.ts); when it does not, the snapshot is restored as ever.
 */
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { ExtractResult } from './archive/extract.js'
import { installLfsSnapshot, type LfsInstallResult } from './archive/lfs-snapshot.js'
import { materialize } from './archive/materialize.js'
import { MaterializeWorker, workerAvailable } from './archive/materialize-worker.js'
import { prepareStaging } from './archive/staging.js'
import { RunnerCache } from './cache/runner-cache.js'
import { jobCancelled, orCancelled } from './cancellation.js'
import { sameOrigin } from './cachew/credentials.js'
import { CachewClient } from './cachew/client.js'
import { bundleUrl, lfsSnapshotUrl } from './cachew/endpoints.js'
import { snapshotFields, type SnapshotFields } from './cachew/snapshot.js'
import { Download, noDownloadYet, type DownloadStats } from './download/download.js'
import type { HttpTransport } from './download/http.js'
import { chooseSpoolDirectory, ensureFreeSpace } from './download/location.js'
import { Spool } from './download/spool.js'
import { ArchiveError, CacheMissError, RestartRequiredError } from './errors.js'
import { configureGitAccess, removeAccessFiles, setOrigin } from './git/access.js'
import { updateInPlace, type InPlaceResult } from './git/in-place.js'
import { finishCheckout, freshenMovedEntries, type FinishOptions } from './git/finish.js'
import { accessSecrets } from './git/access.js'
import { Git } from './git/git.js'
import { checkOutLfs, requireGitLfs } from './git/lfs.js'
import { formatBytes, type Log } from './report/log.js'
import { type Phase, timed } from './report/phases.js'
import { startProgress } from './report/progress.js'
import { submoduleSnapshots } from './submodule-snapshots.js'
import type { RestoreSettings } from './settings.js'

/** How often a regenerated snapshot (or a broken unresumable stream) starts the restore over. */
export const MAX_RESTARTS = 2

/** The snapshot's phase: download and extraction overlap, so they are one phase. */
const DOWNLOAD_PHASE = 'Download and extract'
/** The same phase when the runner cache holds the current snapshot. */
const CACHE_PHASE = 'Extract from the runner cache'

export interface RestoreResult {
  /** `snapshot`: restored from the snapshot; `in-place`: the existing checkout was updated. */
  mode: 'snapshot' | 'in-place'
  repositoryUrl: string
  /**
   * Where the snapshot came from: downloaded, or kept on this runner by an earlier job;
   * undefined when the checkout was updated in place.
   */
  source?: SnapshotSource['from']
  snapshotCommit?: string
  commit: string
  ref: string
  bundleApplied: boolean
  size?: number
  download: DownloadStats
  restarts: number
  entries: number
  phases: Phase[]
  /** How long getting the snapshot into place took: download and extraction, or extraction. */
  snapshotSeconds: number
  seconds: number
  /** git access config to remove in the post step, when credentials persist. */
  gitConfigFile?: string
}

/**
 * `targetTrusted` settles once git trusts the target (set-safe-directory, which main adds
 * alongside the download): it is awaited before git first runs in the target itself, for an
 * update in place or once the tree has moved into an existing directory another user owns.
 */
export async function restore(
  settings: RestoreSettings,
  log: Log,
  targetTrusted: Promise<void> = Promise.resolve()
): Promise<RestoreResult> {
  const started = performance.now()
  const workers = new ExtractionWorkers()
  // Before any request: without git-lfs the restore could only fail after the download.
  if (settings.lfs) log.debug(`Git LFS: ${await requireGitLfs(settings.tempDir)}`)
  const cachew = new CachewClient(settings, settings.downloadConcurrency + 2)
  try {
    // An update in place keeps the whole tree it finds; a sparse checkout is a snapshot's.
    if (settings.updateExisting === 'auto' && settings.sparseCheckout) {
      log.info('sparse-checkout is set: restoring the snapshot rather than updating in place.')
    } else if (settings.updateExisting === 'auto') {
      const updated = await updateInPlace(settings, cachew, log, targetTrusted)
      if (updated) {
        // The checkout in place left pointers (GIT_LFS_SKIP_SMUDGE) where LFS files changed; the
        // last job's objects are in .git/lfs, and git-lfs fetches the rest.
        if (settings.lfs) await lfsInPlace(settings, updated.commit, log)
        return inPlaceResult(settings, updated, started)
      }
    }
    // The snapshot it is, so its extraction's worker starts now, to be ready for the first bytes.
    workers.startAhead()
    if (!settings.clean) await sayCleanDoesNotApply(settings.target, log)
    const cache =
      settings.runnerCacheDir === undefined
        ? undefined
        : await RunnerCache.open(settings.runnerCacheDir, settings.runnerCacheMaxBytes, log)
    for (let restarts = 0; ; restarts++) {
      try {
        const once = { worker: workers.take(), targetTrusted }
        const result = await restoreOnce(settings, cachew, cache, once, log)
        return { ...result, restarts, seconds: (performance.now() - started) / 1000 }
      } catch (error) {
        // Whatever failed first once the job was cancelled, the cancellation is the reason.
        if (jobCancelled.aborted) throw jobCancelled.reason
        if (!(error instanceof RestartRequiredError) || restarts >= MAX_RESTARTS) throw error
        log.warning(`${error.message} Starting over (${restarts + 1} of ${MAX_RESTARTS}).`)
      }
    }
  } finally {
    cachew.close()
    await workers.close()
  }
}

/**
 * The extraction's workers, one per attempt at a restore: the first is started ahead, once
 * the restore knows it restores the snapshot (not after an update in place, which needs none
 * and would share the CPU with it), so that the worker's own start-up (40 to 80 ms) overlaps
 * the first request instead of delaying the extraction. Without a worker entry (jest runs the
 * sources), none: the extraction then runs on the calling thread.
 */
class ExtractionWorkers {
  private next: MaterializeWorker | undefined

  private static start(): MaterializeWorker | undefined {
    return workerAvailable() ? new MaterializeWorker() : undefined
  }

  startAhead(): void {
    this.next ??= ExtractionWorkers.start()
  }

  take(): MaterializeWorker | undefined {
    const worker = this.next ?? ExtractionWorkers.start()
    this.next = undefined
    return worker
  }

  /** Stops the one started ahead if no attempt took it (a failure before the first). */
  async close(): Promise<void> {
    await this.next?.close()
  }
}

async function lfsInPlace(settings: RestoreSettings, commit: string, log: Log): Promise<void> {
  const git = new Git(settings.target, accessSecrets(settings))
  const lfs = await checkOutLfs(git, settings, commit, log)
  const fetchedNote = lfs.fetched > 0 ? `, ${lfs.fetched} fetched from ${lfs.fetchedFrom}` : ''
  log.info(`Git LFS: ${lfs.files} file(s) with content${fetchedNote}.`)
}

/**
 * `clean: false` keeps untracked files only when a checkout is updated in place; a snapshot
 * restore replaces whatever the target holds, as actions/checkout does when it cannot reuse
 * the directory. Said once, when there is something to lose.
 */
async function sayCleanDoesNotApply(target: string, log: Log): Promise<void> {
  const names = await fs.readdir(target).catch(() => [])
  if (names.length === 0) return
  log.info(
    `clean: false applies to a checkout updated in place only; the snapshot replaces what ` +
      `${target} holds, untracked files included.`
  )
}

/** An update in place, in the terms of a restore: no snapshot; the bytes are git's packs. */
function inPlaceResult(
  settings: RestoreSettings,
  updated: InPlaceResult,
  started: number
): RestoreResult {
  return {
    mode: 'in-place',
    repositoryUrl: settings.repositoryUrl,
    commit: updated.commit,
    ref: updated.ref,
    bundleApplied: false,
    download: { ...noDownloadYet(0), bytes: updated.fetchedBytes },
    restarts: 0,
    entries: 0,
    phases: updated.phases,
    snapshotSeconds: 0,
    seconds: (performance.now() - started) / 1000,
    gitConfigFile: updated.gitConfigFile
  }
}

type OnceResult = Omit<RestoreResult, 'restarts' | 'seconds'>

async function restoreOnce(
  settings: RestoreSettings,
  cachew: CachewClient,
  cache: RunnerCache | undefined,
  { worker, targetTrusted }: { worker?: MaterializeWorker; targetTrusted: Promise<void> },
  log: Log
): Promise<OnceResult> {
  const { transport, snapshotUrl: url } = cachew
  const phases: Phase[] = []
  // What is made below is undone on every way out, newest first, a cancellation included.
  await using scope = new AsyncDisposableStack()
  // What stays after a success, but not after a failure; released at the end.
  await using undoOnFailure = new AsyncDisposableStack()
  const controller = new AbortController()
  const signal = orCancelled(controller.signal)

  scope.defer(() => worker?.close())
  const spoolDirectory = await chooseSpoolDirectory(settings.tempDir, settings.target, log)
  scope.defer(() => quietly(spoolDirectory.cleanup(), 'temp directory removal', log))
  const cached = cache ? await revalidateCachedSnapshot(cache, settings, cachew, log) : undefined
  const source =
    cached ?? (await downloadSnapshot(settings, url, spoolDirectory.path, transport, signal, log))
  scope.defer(() => source.spool.close())
  const staging = await prepareStaging(settings.target, { warn: message => log.warning(message) })
  scope.defer(() => quietly(staging.discard(), 'staging directory removal', log))
  const bundle = startBundleDownload(
    settings,
    source.fields.bundleUrl,
    transport,
    spoolDirectory.path,
    signal,
    log
  )
  const lfs = settings.lfs
    ? startLfsDownload(
        settings,
        source.fields.lfsSnapshotUrl ?? lfsSnapshotUrl(settings.serverUrl, settings.repositoryUrl),
        transport,
        spoolDirectory.path,
        signal,
        log
      )
    : Promise.resolve(undefined)
  // Stops whatever is still in flight; the bundle's file must be closed before its directory goes.
  scope.defer(async () => {
    controller.abort()
    await bundle
    const download = await lfs
    await download?.completion.catch(() => undefined)
    await download?.spool.close()
  })

  const extracted = await timed(phases, cached ? CACHE_PHASE : DOWNLOAD_PHASE, () =>
    log.group(
      cached ? 'Extract the snapshot kept on this runner' : 'Download and extract the snapshot',
      () => extractSnapshot(source, staging.directory, controller, settings, worker, cache, log)
    )
  )
  const snapshotSeconds = phases[phases.length - 1].seconds
  // Its bytes are in the tree now: unless the runner cache keeps the file, it is closed and
  // removed while git works rather than at the end, where the kernel's freeing of its pages
  // took 20-30 ms for babel/babel's 223 MiB.
  if (!cache) {
    const released = source.spool
      .close()
      .then(() => fs.rm(source.spool.file, { force: true }))
      .catch(() => undefined)
    scope.defer(() => released)
  }
  const { stats: download, fields } = source
  if (settings.sparseCheckout) {
    log.info(`Sparse checkout: ${extracted.sparseSkipped} file(s) outside the set not written.`)
  }
  log.info(
    `Extracted ${extracted.entries} entries; downloaded ${formatBytes(download.bytes)} in ${download.requests} request(s).`
  )

  if (settings.lfs) {
    await timed(phases, 'LFS objects', () =>
      log.group('Extract the LFS objects', async () =>
        extractLfsObjects(await lfs, staging.directory, controller, log)
      )
    )
  }

  const finished = await timed(phases, 'Git', () =>
    log.group('Check out the workflow commit', async () =>
      finishCheckout({
        directory: staging.directory,
        settings,
        bundle: await bundle,
        blobIds: extracted.blobIds,
        fileStats: extracted.fileStats,
        cachew,
        submoduleSnapshots:
          settings.submodules === 'false'
            ? undefined
            : submoduleSnapshots(settings, cachew, spoolDirectory.path, signal, log),
        log
      })
    )
  )
  await setOrigin(staging.directory, settings)
  const access = settings.persistCredentials
    ? await configureGitAccess(staging.directory, settings)
    : undefined
  if (access) undoOnFailure.defer(() => removeAccessFiles(access.configFile))

  await timed(phases, 'Move into place', async () => {
    await staging.commit()
    await targetTrusted
    await freshenMovedEntries(settings.target, extracted.blobIds, log)
  })
  if (cache) await keepForNextJob(cache, settings, source)
  undoOnFailure.move()
  return {
    mode: 'snapshot',
    repositoryUrl: settings.repositoryUrl,
    source: source.from,
    snapshotCommit: fields.commit,
    commit: finished.commit,
    ref: finished.ref,
    bundleApplied: finished.bundleApplied,
    size: source.size,
    download,
    entries: extracted.entries,
    phases,
    snapshotSeconds,
    gitConfigFile: access?.configFile
  }
}

/**
 * Decodes and extracts the snapshot into the staging directory while it downloads, with
 * progress lines. A damaged snapshot from the runner cache is forgotten, and the restore
 * starts over with a download.
 */
async function extractSnapshot(
  source: SnapshotSource,
  directory: string,
  controller: AbortController,
  settings: RestoreSettings,
  worker: MaterializeWorker | undefined,
  cache: RunnerCache | undefined,
  log: Log
): Promise<ExtractResult> {
  const progress =
    source.from === 'server' && settings.showProgress
      ? startProgress(source.stats, source.size, log)
      : undefined
  try {
    return await materialize({ source: source.spool, complete: source.completion }, directory, {
      controller,
      onSkip: (entry, reason) => log.warning(`Skipped archive entry '${entry}': ${reason}`),
      sparse: settings.sparseCheckout,
      worker,
      debug: message => log.debug(message)
    })
  } catch (error) {
    if (source.from === 'runner-cache' && cache && error instanceof ArchiveError) {
      await cache.forget(settings.serverUrl, settings.repositoryUrl)
      throw new RestartRequiredError(
        `The snapshot kept on this runner is damaged (${error.message}); downloading it instead.`
      )
    }
    throw error
  } finally {
    progress?.stop()
  }
}

/** Cleanup must not replace the error that caused it: a failure here is logged, not thrown. */
async function quietly(work: Promise<unknown>, what: string, log: Log): Promise<void> {
  try {
    await work
  } catch (error) {
    log.debug(`${what} failed: ${(error as Error).message}`)
  }
}

/** The snapshot's bytes, as a spool the extraction reads, and what the server said of it. */
interface SnapshotSource {
  from: 'server' | 'runner-cache'
  spool: Spool
  /** Settles when every byte is in the spool. */
  completion: Promise<void>
  fields: SnapshotFields
  size?: number
  etag?: string
  stats: DownloadStats
}

async function downloadSnapshot(
  settings: RestoreSettings,
  url: string,
  directory: string,
  transport: HttpTransport,
  signal: AbortSignal,
  log: Log
): Promise<SnapshotSource> {
  log.info(`Snapshot: ${url}`)
  const spool = await Spool.create(
    path.join(directory, `snapshot-${randomBytes(4).toString('hex')}.tar.zst`)
  )
  try {
    const download = await Download.start(url, spool, downloadOptions(settings, transport, signal))
    const fields = snapshotFields(settings.serverUrl, download.info.headers)
    log.info(describePlan(download, fields.commit))
    await ensureFreeSpace(directory, download.info.size)
    return {
      from: 'server',
      spool,
      completion: download.completion,
      fields,
      size: download.info.size,
      etag: download.info.etag,
      stats: download.stats
    }
  } catch (error) {
    await spool.close()
    throw error
  }
}

/**
 * Asks the server whether the snapshot this runner kept is still the current one (HEAD with
 * If-None-Match). Anything but a yes (a new snapshot, a miss, an error) means downloading.
 */
async function revalidateCachedSnapshot(
  cache: RunnerCache,
  settings: RestoreSettings,
  cachew: CachewClient,
  log: Log
): Promise<SnapshotSource | undefined> {
  const kept = await cache.lookup(settings.serverUrl, settings.repositoryUrl)
  if (!kept) return undefined
  const { entry, file, handle } = kept
  let answer: string
  try {
    const { status, etag, fields } = await cachew.headSnapshot({ ifNoneMatch: entry.etag })
    const current = status === 304 || (status === 200 && etag === entry.etag)
    if (current) {
      log.info(
        `The snapshot kept on this runner is current (${entry.commit ?? 'commit not given'}): not downloading it.`
      )
      // HEAD does not say whether the mirror moved on: the bundle endpoint answers 204 if not.
      const bundle =
        fields.bundleUrl ??
        (entry.commit
          ? bundleUrl(settings.serverUrl, settings.repositoryUrl, entry.commit)
          : undefined)
      return {
        from: 'runner-cache',
        spool: Spool.complete(file, handle, entry.size),
        completion: Promise.resolve(),
        fields: { commit: entry.commit, bundleUrl: bundle },
        size: entry.size,
        etag: entry.etag,
        stats: { ...noDownloadYet(0), requests: 1 }
      }
    }
    answer = `the server answered ${status}`
  } catch (error) {
    answer = (error as Error).message
  }
  await handle.close()
  log.info(`The snapshot kept on this runner is not current (${answer}): downloading.`)
  return undefined
}

/** A whole, pinned download goes to the runner cache; a kept one is marked as used. */
async function keepForNextJob(
  cache: RunnerCache,
  settings: RestoreSettings,
  source: SnapshotSource
): Promise<void> {
  if (source.from === 'runner-cache') {
    await cache.touch(settings.serverUrl, settings.repositoryUrl)
    return
  }
  // A cold serve has no ETag to revalidate with, nor a known size.
  if (source.etag === undefined || source.size === undefined) return
  await source.spool.close()
  await cache.store(settings.serverUrl, settings.repositoryUrl, source.spool.file, {
    etag: source.etag,
    commit: source.fields.commit,
    size: source.size
  })
}

function downloadOptions(settings: RestoreSettings, transport: HttpTransport, signal: AbortSignal) {
  return {
    transport,
    concurrency: settings.downloadConcurrency,
    chunkSize: settings.chunkSizeBytes,
    stallTimeoutMs: settings.stallTimeoutMs,
    signal,
    authorized: settings.authorization !== undefined
  }
}

function describePlan(download: Download, commit: string | undefined): string {
  const size =
    download.info.size === undefined ? 'size unknown (cold serve)' : formatBytes(download.info.size)
  const how =
    download.stats.mode === 'parallel'
      ? `${download.stats.concurrencyLimit} ranged requests at once`
      : 'one stream'
  return `Snapshot ${commit ?? '(commit not given)'}: ${size}, downloading with ${how}.`
}

/** The LFS snapshot's download, filling a spool in the spool directory. */
interface LfsDownload {
  spool: Spool
  completion: Promise<void>
}

/**
 * Starts the LFS snapshot's download alongside the snapshot, with the same engine. A 404 (no
 * LFS snapshot cached) or a download that fails is not fatal: git-lfs then fetches the objects
 * (src/git/lfs.ts); resolves undefined then, with a line that says why.
 */
async function startLfsDownload(
  settings: RestoreSettings,
  url: string,
  transport: HttpTransport,
  directory: string,
  signal: AbortSignal,
  log: Log
): Promise<LfsDownload | undefined> {
  const credentialed = sameOrigin(settings.serverUrl, url)
  if (!credentialed && settings.authorization !== undefined) {
    log.info(
      `The LFS snapshot is on another origin (${new URL(url).origin}): fetching it without the authorization header.`
    )
  }
  const spool = await Spool.create(
    path.join(directory, `lfs-snapshot-${randomBytes(4).toString('hex')}.tar.zst`)
  )
  try {
    const download = await Download.start(url, spool, {
      ...downloadOptions(settings, transport, signal),
      authorized: credentialed && settings.authorization !== undefined,
      what: 'LFS snapshot'
    })
    const size = download.info.size === undefined ? 'size unknown' : formatBytes(download.info.size)
    log.info(`LFS snapshot: ${url} (${size}).`)
    return { spool, completion: download.completion }
  } catch (error) {
    await spool.close()
    if (signal.aborted) return undefined
    const reason =
      error instanceof CacheMissError
        ? 'cachew has none cached (HTTP 404)'
        : (error as Error).message
    log.info(`No LFS snapshot (${reason}): git-lfs fetches the LFS objects instead.`)
    return undefined
  }
}

/**
 * Extracts the downloaded LFS snapshot into the staged clone's .git/lfs. A download that broke
 * midway leaves the objects to git-lfs; a damaged archive or object fails the restore.
 */
async function extractLfsObjects(
  download: LfsDownload | undefined,
  directory: string,
  controller: AbortController,
  log: Log
): Promise<LfsInstallResult | undefined> {
  if (!download) return undefined
  try {
    await download.completion
  } catch (error) {
    if (jobCancelled.aborted) throw error
    log.warning(
      `The LFS snapshot could not be downloaded (${(error as Error).message}); git-lfs fetches the LFS objects instead.`
    )
    return undefined
  }
  const installed = await installLfsSnapshot(
    { source: download.spool, complete: download.completion },
    directory,
    {
      controller,
      onSkip: (entry, reason) => log.warning(`Skipped LFS archive entry '${entry}': ${reason}`),
      debug: message => log.debug(message)
    }
  )
  log.info(
    `Installed ${installed.objects} LFS object(s) (${formatBytes(installed.bytes)}) from the LFS snapshot.`
  )
  return installed
}

/**
 * Fetches the delta bundle while the snapshot downloads and extracts. Any failure here is
 * a warning: git then fetches the missing commits through cachew instead.
 */
function startBundleDownload(
  settings: RestoreSettings,
  bundleUrl: string | undefined,
  transport: HttpTransport,
  directory: string,
  signal: AbortSignal,
  log: Log
): Promise<FinishOptions['bundle']> {
  if (!bundleUrl) return Promise.resolve('none')
  if (!settings.applyBundle) return Promise.resolve('disabled')
  const file = path.join(directory, `bundle-${randomBytes(4).toString('hex')}.bundle`)
  const credentialed = sameOrigin(settings.serverUrl, bundleUrl)
  if (!credentialed && settings.authorization !== undefined) {
    log.info(
      `The delta bundle is on another origin (${new URL(bundleUrl).origin}): fetching it without the authorization header.`
    )
  }
  const fetchBundle = async (): Promise<FinishOptions['bundle']> => {
    const spool = await Spool.create(file)
    try {
      const download = await Download.start(bundleUrl, spool, {
        ...downloadOptions(settings, transport, signal),
        authorized: credentialed && settings.authorization !== undefined,
        what: 'delta bundle'
      })
      if (download.info.status === 204) return 'up-to-date'
      await download.completion
      return { file }
    } finally {
      await spool.close()
    }
  }
  return fetchBundle().catch((error: unknown) => {
    if (signal.aborted) return 'unavailable'
    const reason =
      error instanceof CacheMissError ? 'the server no longer has it' : (error as Error).message
    // finishCheckout warns that it fetches instead; this line says why.
    log.info(`The delta bundle could not be downloaded: ${reason}`)
    return 'unavailable'
  })
}
