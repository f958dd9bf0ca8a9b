/**
 * One restore, start to end: discover and download the snapshot into a spool file,
 * decode and extract it into a staging directory while it downloads, bring git to the
 * wanted commit there, then move the tree into place. A failure at any point leaves the
 * target as it was and removes every temp file.
 */
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { pipeline } from 'node:stream'
import { createZstdDecoder } from './archive/zstd.js'
import { extractTar } from './archive/extract.js'
import { prepareStaging, type Staging } from './archive/staging.js'
import { snapshotUrl } from './cachew/endpoints.js'
import { snapshotFields } from './cachew/snapshot.js'
import { Download, type DownloadStats } from './download/download.js'
import { HttpTransport } from './download/http.js'
import { chooseSpoolDirectory, ensureFreeSpace } from './download/location.js'
import { Spool } from './download/spool.js'
import { CacheMissError, RestartRequiredError } from './errors.js'
import { configureGitAccess } from './git/access.js'
import {
  finishCheckout,
  readWorkflowContext,
  refreshIndex,
  type FinishOptions
} from './git/finish.js'
import { formatBytes, type Log } from './report/log.js'
import { startProgress } from './report/progress.js'
import type { RestoreSettings } from './settings.js'

/** How often a regenerated snapshot (or a broken unresumable stream) starts the restore over. */
export const MAX_RESTARTS = 2
/** Reads from the spool in large blocks: fewer syscalls, and zstd likes big inputs. */
const READ_BLOCK = 1024 * 1024

/** The phase whose time is the download's (extraction overlaps it). */
export const DOWNLOAD_PHASE = 'Download and extract'

export interface Phase {
  name: string
  seconds: number
}

export interface RestoreResult {
  repositoryUrl: string
  snapshotCommit?: string
  commit: string
  ref: string
  bundleApplied: boolean
  size?: number
  download: DownloadStats
  restarts: number
  entries: number
  phases: Phase[]
  seconds: number
  /** git access config to remove in the post step, when credentials persist. */
  gitConfigFile?: string
}

export async function restore(settings: RestoreSettings, log: Log): Promise<RestoreResult> {
  const transport = new HttpTransport(settings.authorization, settings.downloadConcurrency + 2)
  const started = performance.now()
  try {
    for (let restarts = 0; ; restarts++) {
      try {
        const result = await restoreOnce(settings, transport, log)
        return { ...result, restarts, seconds: (performance.now() - started) / 1000 }
      } catch (error) {
        if (!(error instanceof RestartRequiredError) || restarts >= MAX_RESTARTS) throw error
        log.warning(`${error.message} Starting over (${restarts + 1} of ${MAX_RESTARTS}).`)
      }
    }
  } finally {
    transport.close()
  }
}

type OnceResult = Omit<RestoreResult, 'restarts' | 'seconds'>

async function restoreOnce(
  settings: RestoreSettings,
  transport: HttpTransport,
  log: Log
): Promise<OnceResult> {
  const url = snapshotUrl(settings.serverUrl, settings.repositoryUrl)
  const controller = new AbortController()
  const spoolDirectory = await chooseSpoolDirectory(settings.tempDir, settings.target, log)
  const phases: Phase[] = []
  let staging: Staging | undefined
  let spool: Spool | undefined
  let bundle: Promise<FinishOptions['bundle']> | undefined
  let gitConfigFile: string | undefined
  try {
    spool = await Spool.create(
      path.join(spoolDirectory.path, `snapshot-${randomBytes(4).toString('hex')}.tar.zst`)
    )
    const { download, entries, fields } = await timed(phases, DOWNLOAD_PHASE, () =>
      log.group('Download and extract the snapshot', async () => {
        log.info(`Snapshot: ${url}`)
        const download = await Download.start(
          url,
          spool!,
          downloadOptions(settings, transport, controller.signal)
        )
        const fields = snapshotFields(settings.serverUrl, download.info.headers)
        log.info(describePlan(download, fields.commit))
        await ensureFreeSpace(spoolDirectory.path, download.info.size)
        staging = await prepareStaging(settings.target)
        bundle = startBundleDownload(
          settings,
          fields.bundleUrl,
          transport,
          spoolDirectory.path,
          controller.signal,
          log
        )
        const progress = startProgress(download.stats, download.info.size, log)
        try {
          const decoded = pipeline(
            spool!.reader(READ_BLOCK, controller.signal),
            createZstdDecoder(),
            () => undefined
          )
          const extraction = extractTar(decoded, staging.directory, {
            signal: controller.signal,
            onSkip: (entry, reason) => log.warning(`Skipped archive entry '${entry}': ${reason}`)
          })
          const [, extracted] = await allOrAbort([download.completion, extraction], controller)
          return { download, entries: extracted.entries, fields }
        } finally {
          progress.stop()
        }
      })
    )
    log.info(
      `Extracted ${entries} entries; downloaded ${formatBytes(download.stats.bytes)} in ${download.stats.requests} request(s).`
    )

    const finished = await timed(phases, 'Git', () =>
      log.group('Check out the workflow commit', async () => {
        const options: FinishOptions = {
          directory: staging!.directory,
          settings,
          workflow: readWorkflowContext(),
          bundle: await bundle!,
          log
        }
        const result = await finishCheckout(options)
        if (settings.persistCredentials) {
          gitConfigFile = (await configureGitAccess(staging!.directory, settings)).configFile
        }
        return result
      })
    )

    await timed(phases, 'Move into place', async () => {
      await staging!.commit()
      // Moving the staged children into an existing target changed their ctime: one stat
      // pass keeps the next step's first git command from rehashing them.
      await refreshIndex(settings.target).catch((error: unknown) =>
        log.debug(`index refresh after the move: ${(error as Error).message}`)
      )
    })
    return {
      repositoryUrl: settings.repositoryUrl,
      snapshotCommit: fields.commit,
      commit: finished.commit,
      ref: finished.ref,
      bundleApplied: finished.bundleApplied,
      size: download.info.size,
      download: download.stats,
      entries,
      phases,
      gitConfigFile
    }
  } catch (error) {
    controller.abort(error)
    await staging?.discard()
    if (gitConfigFile) await fs.rm(gitConfigFile, { force: true })
    throw error
  } finally {
    await bundle // settles on its own (never rejects); its file must be closed before cleanup
    await spool?.close()
    await spoolDirectory.cleanup()
  }
}

/** Runs one phase of the restore and records how long it took. */
async function timed<T>(phases: Phase[], name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now()
  const value = await fn()
  phases.push({ name, seconds: (performance.now() - start) / 1000 })
  return value
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
  const fetchBundle = async (): Promise<FinishOptions['bundle']> => {
    const spool = await Spool.create(file)
    try {
      const download = await Download.start(bundleUrl, spool, {
        ...downloadOptions(settings, transport, signal),
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

/**
 * Awaits every promise; the first failure aborts the others (through the controller) and
 * is rethrown once all have settled, so no process or request outlives the restore.
 */
async function allOrAbort<T extends unknown[]>(
  promises: { [K in keyof T]: Promise<T[K]> },
  controller: AbortController
): Promise<T> {
  let first: { error: unknown } | undefined
  const settled = await Promise.all(
    promises.map(p =>
      p.catch((error: unknown) => {
        if (!first) {
          first = { error }
          controller.abort(error)
        }
        return undefined
      })
    )
  )
  if (first) throw first.error
  return settled as T
}
