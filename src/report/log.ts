/** The log the restore writes to; main.ts backs it with @actions/core, tests with an array. */
export interface Log {
  info(message: string): void
  warning(message: string): void
  /** An annotation the job's summary shows, for what a user may want to act on. */
  notice(message: string): void
  debug(message: string): void
  /** Runs fn inside a collapsible group of log lines. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

/** MB/s (decimal megabytes, as network speeds are quoted). */
export function formatRate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${(bytes / 1e6 / seconds).toFixed(1)} MB/s` : 'n/a'
}
