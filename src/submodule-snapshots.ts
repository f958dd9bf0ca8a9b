/**
 * The submodules' own cachew snapshots, for src/git/submodules.ts: each downloaded by the same
 * engine as the superproject's (ranges pinned by ETag, retries, stall watchdog) into a spool
 * in the restore's temp directory, and decoded and extracted while it downloads, through the
 * same path-safe extractor. Several submodules restore at once; the download budget
 * (download-concurrency) is split between them, so they never have more requests in flight
 * together than the superproject's snapshot had alone.
 */
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { materialize } from './archive/materialize.js'
import { orCancelled } from './cancellation.js'
import type { CachewClient } from './cachew/client.js'
import { snapshotUrl } from './cachew/endpoints.js'
import { Download } from './download/download.js'
import { ensureFreeSpace } from './download/location.js'
import { Spool } from './download/spool.js'
import type { SubmoduleSnapshots } from './git/submodules.js'
import { formatBytes } from './report/log.js'
import type { RestoreSettings } from './settings.js'

/**
 * At most this many submodules restore at once: enough to overlap one's git work with
 * another's download, few enough that each download keeps several ranged requests.
 */
export const MAX_PARALLEL_SUBMODULES = 4

export interface SubmoduleSnapshotLog {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

type Settings = Pick<
  RestoreSettings,
  'serverUrl' | 'authorization' | 'downloadConcurrency' | 'chunkSizeBytes' | 'stallTimeoutMs'
>

/**
 * Snapshots from `cachew`'s server, spooled and staged in `directory` (the restore's temp
 * directory, on the target's filesystem, removed by the restore), stopped by `signal`.
 */
export function submoduleSnapshots(
  settings: Settings,
  cachew: CachewClient,
  directory: string,
  signal: AbortSignal,
  log: SubmoduleSnapshotLog
): SubmoduleSnapshots {
  const parallel = Math.max(1, Math.min(MAX_PARALLEL_SUBMODULES, settings.downloadConcurrency))
  const concurrency = Math.max(1, Math.floor(settings.downloadConcurrency / parallel))
  const unique = (stem: string): string =>
    path.join(directory, `${stem}-${randomBytes(4).toString('hex')}`)
  return {
    parallel,
    stagingDirectory: async () => {
      const staged = unique('submodule')
      await fs.mkdir(staged)
      return staged
    },
    extract: async (repositoryUrl, target) => {
      const url = snapshotUrl(settings.serverUrl, repositoryUrl)
      const spool = await Spool.create(`${unique('submodule')}.tar.zst`)
      const controller = new AbortController()
      let download: Download | undefined
      try {
        download = await Download.start(url, spool, {
          transport: cachew.transport,
          concurrency,
          chunkSize: settings.chunkSizeBytes,
          stallTimeoutMs: settings.stallTimeoutMs,
          signal: orCancelled(AbortSignal.any([signal, controller.signal])),
          authorized: settings.authorization !== undefined,
          what: 'submodule snapshot'
        })
        await ensureFreeSpace(directory, download.info.size)
        const size =
          download.info.size === undefined ? 'size unknown' : formatBytes(download.info.size)
        log.info(`Snapshot: ${url} (${size}).`)
        const extracted = await materialize(
          { source: spool, complete: download.completion },
          target,
          {
            controller,
            onSkip: (entry, reason) => log.warning(`Skipped archive entry '${entry}': ${reason}`),
            debug: message => log.debug(message)
          }
        )
        return extracted.blobIds
      } finally {
        controller.abort()
        await download?.completion.catch(() => undefined)
        await spool.close()
        await fs.rm(spool.file, { force: true })
      }
    },
    cachew: repositoryUrl => cachew.forRepository(repositoryUrl)
  }
}
