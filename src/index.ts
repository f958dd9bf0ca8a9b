import { isMaterializeWorker, useWorkerEntry } from './archive/materialize-worker.js'

// The extraction's worker runs this same bundle (src/archive/materialize-worker.ts). Each
// side imports only what it runs: ncc then splits the bundle in chunks, and the worker, which
// loads only the extraction's, is ready in about half the time (40 ms instead of 60-80 ms).
if (isMaterializeWorker()) {
  const { serveMaterializeWorker } = await import('./archive/materialize.js')
  serveMaterializeWorker()
} else {
  useWorkerEntry(new URL(import.meta.url))
  const { run } = await import('./main.js')
  await run()
}
