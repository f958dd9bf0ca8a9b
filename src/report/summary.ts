/** The job summary: what was restored, how big, how long each phase took, how fast. */
import { appendSummary } from './runner.js'
import type { RestoreResult } from '../restore.js'
import { formatBytes, formatRate } from './log.js'

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** The commit, linked to its page on the repository's web host (the summary is HTML). */
function commitLink(repositoryUrl: string, commit: string | undefined): string {
  if (!commit) return 'not given'
  const href = escapeHtml(`${repositoryUrl}/commit/${commit}`)
  return `<a href="${href}"><code>${escapeHtml(commit.slice(0, 12))}</code></a>`
}

export function writeSummary(result: RestoreResult): void {
  const checkedOut = [
    'Checked out',
    `${commitLink(result.repositoryUrl, result.commit)} (${escapeHtml(result.ref)})`
  ]
  const rows =
    result.mode === 'in-place' ? inPlaceRows(result, checkedOut) : snapshotRows(result, checkedOut)
  const phases = [
    ...result.phases.map(p => [p.name, p.seconds.toFixed(2)]),
    ['Total', result.seconds.toFixed(2)]
  ]
  appendSummary(
    [
      '<h3>cachew-restore</h3>',
      table(['What', 'Value'], rows),
      table(['Phase', 'Seconds'], phases)
    ].join('\n')
  )
}

/** An HTML table; cells are HTML already (escaped where they carry text). */
function table(headings: string[], rows: string[][]): string {
  const row = (cells: string[], tag: 'th' | 'td'): string =>
    `<tr>${cells.map(cell => `<${tag}>${cell}</${tag}>`).join('')}</tr>`
  return `<table>${row(headings, 'th')}${rows.map(cells => row(cells, 'td')).join('')}</table>`
}

function inPlaceRows(result: RestoreResult, checkedOut: string[]): string[][] {
  return [
    ['Repository', escapeHtml(result.repositoryUrl)],
    ['Mode', 'in-place: the existing checkout was updated, no snapshot downloaded'],
    checkedOut,
    ['Fetched through cachew', formatBytes(result.download.bytes)],
    ['Peak memory (RSS)', formatBytes(process.resourceUsage().maxRSS * 1024)]
  ]
}

function snapshotRows(result: RestoreResult, checkedOut: string[]): string[][] {
  const { download } = result
  return [
    ['Repository', escapeHtml(result.repositoryUrl)],
    ['Mode', 'snapshot'],
    ['Snapshot commit', commitLink(result.repositoryUrl, result.snapshotCommit)],
    checkedOut,
    ['Delta bundle', result.bundleApplied ? 'applied' : 'not applied'],
    ['Snapshot size', result.size === undefined ? 'unknown' : formatBytes(result.size)],
    [
      'Snapshot source',
      result.source === 'runner-cache'
        ? 'kept on this runner, still current (not downloaded)'
        : 'downloaded from cachew'
    ],
    [
      'Downloaded',
      `${formatBytes(download.bytes)} in ${download.requests} request(s), ${download.mode}`
    ],
    ['Throughput', formatRate(download.bytes, result.snapshotSeconds)],
    ['Most requests in flight', String(download.maxInFlight)],
    ['Retries', String(download.retries)],
    ['Restarts (snapshot changed)', String(result.restarts)],
    ['Entries extracted', String(result.entries)],
    // The action's own process, which extracts the tree itself.
    ['Peak memory (RSS)', formatBytes(process.resourceUsage().maxRSS * 1024)]
  ]
}
