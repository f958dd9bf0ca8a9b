/**
 * `allow-unsafe-pr-checkout`, as actions/checkout v7 has it. A workflow that a pull request
 * triggers through `pull_request_target`, or through `workflow_run` after a pull request's
 * workflow, runs with the base repository's token, secrets, cache scope and runner: checking
 * out a fork's code there, and building or testing it, hands all of that to whoever wrote the
 * fork (a "pwn request"). Such a restore is refused unless the input is true.
 *
 * What counts as the fork's code, from the event's payload: the fork's repository itself, a
 * pull request ref (refs/pull/N/head or refs/pull/N/merge), or one of the pull request's own
 * commits (its head, its test merge). A pull request from a branch of the base repository
 * is not a fork's, and a workflow that restores its own repository at the commit GitHub chose
 * for the event (no `ref`) gets trusted code; neither is checked.
 */
import type { Destination } from './workflow-ref.js'

export interface ForkCheckoutQuestion {
  /** GITHUB_EVENT_NAME. */
  eventName?: string
  /** The event's payload (GITHUB_EVENT_PATH's JSON); undefined when there is none. */
  payload?: unknown
  /** Whether the restored repository is the fork's (its OWNER/REPO on the workflow's host). */
  isRepository: (fullName: string) => boolean
  destination: Destination
}

const PULL_REQUEST_REF = /^refs\/pull\/\d+\/(head|merge)$/

/** The events whose workflows run trusted, with a pull request's code within reach. */
export const TRUSTED_PULL_REQUEST_EVENTS = ['pull_request_target', 'workflow_run']

/**
 * What makes the restore a fork's code in a trusted workflow ("the fork's repository",
 * "refs/pull/7/merge", "the pull request's commit abc…"), or undefined when it is not one.
 */
export function forkCodeInTrustedWorkflow(question: ForkCheckoutQuestion): string | undefined {
  const pullRequest = forkPullRequest(question.eventName, question.payload)
  if (!pullRequest) return undefined
  if (pullRequest.repository !== undefined && question.isRepository(pullRequest.repository)) {
    return `the fork's repository ${pullRequest.repository}`
  }
  const destination = question.destination
  if (destination.kind === 'detached-ref' && PULL_REQUEST_REF.test(destination.ref)) {
    return `the pull request ref ${destination.ref}`
  }
  if (destination.kind === 'commit' && pullRequest.commits.includes(destination.commit)) {
    return `the pull request's commit ${destination.commit}`
  }
  return undefined
}

interface ForkPullRequest {
  /** The fork's OWNER/REPO, when the payload gives it. */
  repository?: string
  /** The fork's commits the payload names, in lower case. */
  commits: string[]
}

/** The fork's pull request behind the event, or undefined when the event has none. */
function forkPullRequest(
  eventName: string | undefined,
  payload: unknown
): ForkPullRequest | undefined {
  const baseId = field(payload, 'repository', 'id')
  if (typeof baseId !== 'number') return undefined
  let headId: unknown
  let repository: unknown
  let commits: unknown[]
  if (eventName === 'pull_request_target') {
    headId = field(payload, 'pull_request', 'head', 'repo', 'id')
    repository = field(payload, 'pull_request', 'head', 'repo', 'full_name')
    commits = [
      field(payload, 'pull_request', 'head', 'sha'),
      field(payload, 'pull_request', 'merge_commit_sha')
    ]
  } else if (eventName === 'workflow_run') {
    const triggeredBy = field(payload, 'workflow_run', 'event')
    if (typeof triggeredBy !== 'string' || !triggeredBy.startsWith('pull_request')) return undefined
    headId = field(payload, 'workflow_run', 'head_repository', 'id')
    repository = field(payload, 'workflow_run', 'head_repository', 'full_name')
    commits = [field(payload, 'workflow_run', 'head_commit', 'id')]
    // After a pull_request_target workflow, head_sha is the base branch's commit, not the fork's.
    if (triggeredBy !== 'pull_request_target')
      commits.push(field(payload, 'workflow_run', 'head_sha'))
  } else {
    return undefined
  }
  if (typeof headId !== 'number' || headId === baseId) return undefined
  return {
    repository: typeof repository === 'string' ? repository : undefined,
    commits: commits
      .filter((sha): sha is string => typeof sha === 'string' && sha !== '')
      .map(sha => sha.toLowerCase())
  }
}

function field(value: unknown, ...names: string[]): unknown {
  let at = value
  for (const name of names) {
    if (at === null || typeof at !== 'object') return undefined
    at = (at as Record<string, unknown>)[name]
  }
  return at
}
