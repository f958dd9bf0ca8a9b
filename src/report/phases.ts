/** The named, timed steps of a restore, as the summary's phase table shows them. */
export interface Phase {
  name: string
  seconds: number
}

/** Runs one phase and records how long it took. */
export async function timed<T>(phases: Phase[], name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now()
  const value = await fn()
  phases.push({ name, seconds: (performance.now() - start) / 1000 })
  return value
}
