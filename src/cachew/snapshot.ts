/** The protocol's own fields on a snapshot response. */
import type { IncomingHttpHeaders } from 'node:http'
import { resolveServerUrl } from './endpoints.js'

export interface SnapshotFields {
  /** X-Cachew-Snapshot-Commit: the HEAD captured in the snapshot (absent on a cold serve). */
  commit?: string
  /** X-Cachew-Bundle-Url, resolved: present when the mirror has moved past the snapshot. */
  bundleUrl?: string
  /** X-Cachew-Lfs-Snapshot-Url, resolved: where newer servers say the LFS snapshot is. */
  lfsSnapshotUrl?: string
}

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value
  return text?.trim() || undefined
}

export function snapshotFields(serverUrl: string, headers: IncomingHttpHeaders): SnapshotFields {
  const commit = first(headers['x-cachew-snapshot-commit'])
  const bundle = first(headers['x-cachew-bundle-url'])
  const lfs = first(headers['x-cachew-lfs-snapshot-url'])
  return {
    commit: commit && /^[0-9a-f]{40,64}$/i.test(commit) ? commit.toLowerCase() : undefined,
    bundleUrl: bundle ? resolveServerUrl(serverUrl, bundle) : undefined,
    lfsSnapshotUrl: lfs ? resolveServerUrl(serverUrl, lfs) : undefined
  }
}
