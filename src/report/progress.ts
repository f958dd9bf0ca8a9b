/**
 * A progress line every few seconds while a download runs: bytes, percent, MB/s, requests
 * in flight, retries so far. Stopped by the caller in `finally`.
 */
import type { DownloadStats } from '../download/download.js'
import { formatBytes, formatRate, type Log } from './log.js'

export function describeProgress(
  stats: DownloadStats,
  size: number | undefined,
  seconds: number
): string {
  const percent = size
    ? ` of ${formatBytes(size)} (${Math.floor((100 * stats.bytes) / size)}%)`
    : ''
  return (
    `Downloaded ${formatBytes(stats.bytes)}${percent} at ${formatRate(stats.bytes, seconds)}, ` +
    `${stats.inFlight} request(s) in flight, ${stats.retries} retr${stats.retries === 1 ? 'y' : 'ies'}`
  )
}

export function startProgress(
  stats: DownloadStats,
  size: number | undefined,
  log: Log,
  intervalMs = 5000
): { stop(): void } {
  const started = performance.now()
  const timer = setInterval(() => {
    log.info(describeProgress(stats, size, (performance.now() - started) / 1000))
  }, intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
