/**
 * The job's cancellation. When a job is cancelled the runner sends SIGINT to the action's
 * process, SIGTERM 7.5 s later if it still runs, and kills the process tree 2.5 s after
 * that. main.ts turns the first signal into an abort of this one signal, which every HTTP
 * request, the extraction and every git process observe (git by its process group), so
 * that the restore's ordinary failure path (staging discarded, temp files removed, the
 * target left as it was) runs well inside that window.
 */
import { CancelledError } from './errors.js'

const controller = new AbortController()

/** Aborted, with a CancelledError, once the job is cancelled. */
export const jobCancelled: AbortSignal = controller.signal

/** Listens for the runner's signals until the returned function is called. */
export function cancelOnSignals(onCancel: (signal: NodeJS.Signals) => void): () => void {
  const handle = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    onCancel(signal)
    controller.abort(new CancelledError(signal))
  }
  process.on('SIGINT', handle)
  process.on('SIGTERM', handle)
  return () => {
    process.off('SIGINT', handle)
    process.off('SIGTERM', handle)
  }
}

/** The given signal, also aborted when the job is cancelled. */
export function orCancelled(signal: AbortSignal | undefined): AbortSignal {
  return signal === undefined ? jobCancelled : AbortSignal.any([signal, jobCancelled])
}
