/**
 * Where the restored repository should end: the workflow's own commit (where actions/checkout
 * would leave it), a `ref` the user named, or the snapshot's head. Pure decisions, no git.
 */
import { InputError } from '../errors.js'
import { Inputs } from '../settings.js'

/** The parts of the runner's environment that say which commit the workflow runs for. */
export interface WorkflowContext {
  /** GITHUB_SHA */
  sha?: string
  /** GITHUB_REF, e.g. refs/heads/main, refs/pull/7/merge, refs/tags/v1 */
  ref?: string
  /** GITHUB_EVENT_NAME */
  eventName?: string
  /** GITHUB_REPOSITORY (OWNER/REPO): the commit belongs to this repository only. */
  repository?: string
  /** GITHUB_SERVER_URL */
  serverUrl?: string
}

export function readWorkflowContext(env: NodeJS.ProcessEnv = process.env): WorkflowContext {
  return {
    sha: env.GITHUB_SHA || undefined,
    ref: env.GITHUB_REF || undefined,
    eventName: env.GITHUB_EVENT_NAME || undefined,
    repository: env.GITHUB_REPOSITORY || undefined,
    serverUrl: env.GITHUB_SERVER_URL || undefined
  }
}

/**
 * Where to end. `commit` is the exact commit when it is known up front (the workflow's
 * GITHUB_SHA or a SHA input); otherwise it is whatever the named ref points at upstream.
 */
export type Destination =
  /** Stay at the snapshot's head, moved on by the delta bundle. */
  | { kind: 'snapshot' }
  /** On branch `branch`, tracking origin/`branch` (actions/checkout: `checkout -B`). */
  | { kind: 'branch'; branch: string; commit?: string }
  /** Detached at a tag. */
  | { kind: 'tag'; tag: string; commit?: string }
  /** Detached at another ref, e.g. a pull request's refs/pull/N/merge. */
  | { kind: 'detached-ref'; ref: string; commit?: string }
  /** Detached at a commit. */
  | { kind: 'commit'; commit: string }
  /** An unqualified `ref` input: a branch of that name, else a tag. */
  | { kind: 'branch-or-tag'; name: string }

const FULL_SHA = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/

export function isFullSha(value: string): boolean {
  return FULL_SHA.test(value)
}

export interface DestinationInputs {
  ref: string
  keepSnapshotHead: boolean
  /** The restored repository, https://HOST/OWNER/REPO. */
  repositoryUrl: string
}

export function chooseDestination(
  inputs: DestinationInputs,
  workflow: WorkflowContext
): Destination {
  const ref = inputs.ref.trim()
  if (inputs.keepSnapshotHead) {
    if (ref) {
      throw new InputError(
        Inputs.keepSnapshotHead,
        `cannot be combined with ref '${ref}'; set one or the other`
      )
    }
    return { kind: 'snapshot' }
  }
  if (ref) return destinationOfRefInput(ref)
  if (workflow.sha && isWorkflowRepository(inputs.repositoryUrl, workflow)) {
    return destinationOfWorkflow(workflow.sha, workflow.ref)
  }
  return { kind: 'snapshot' }
}

/**
 * git's ref name rules (git check-ref-format), plus no leading dash anywhere, so a name can
 * never be taken for an option on a git command line.
 */
export function isValidRefName(name: string): boolean {
  if (name === '' || name === '@' || name.endsWith('/') || name.endsWith('.')) return false
  if (hasControlOrSpace(name) || /[~^:?*[\\]|\.\.|@\{|\/\//.test(name)) return false
  return name.split('/').every(part => !/^[.-]/.test(part) && !part.endsWith('.lock'))
}

function hasControlOrSpace(text: string): boolean {
  return [...text].some(char => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f)
}

/** The `ref` input: a full SHA, refs/heads/…, refs/tags/…, any other refs/…, or a bare name. */
export function destinationOfRefInput(ref: string): Destination {
  if (isFullSha(ref)) return { kind: 'commit', commit: ref.toLowerCase() }
  if (!isValidRefName(ref)) {
    throw new InputError(Inputs.ref, `'${ref}' is not a valid branch, tag, ref name or full SHA`)
  }
  if (ref.startsWith('refs/heads/'))
    return { kind: 'branch', branch: ref.slice('refs/heads/'.length) }
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', tag: ref.slice('refs/tags/'.length) }
  if (ref.startsWith('refs/')) return { kind: 'detached-ref', ref }
  return { kind: 'branch-or-tag', name: ref }
}

/** GITHUB_SHA with GITHUB_REF: a push to a branch stays on it; everything else detaches. */
export function destinationOfWorkflow(sha: string, ref: string | undefined): Destination {
  const commit = sha.toLowerCase()
  if (!ref || !isValidRefName(ref)) return { kind: 'commit', commit }
  if (ref.startsWith('refs/heads/')) {
    return { kind: 'branch', branch: ref.slice('refs/heads/'.length), commit }
  }
  if (ref.startsWith('refs/tags/'))
    return { kind: 'tag', tag: ref.slice('refs/tags/'.length), commit }
  if (ref.startsWith('refs/')) return { kind: 'detached-ref', ref, commit }
  return { kind: 'commit', commit }
}

/**
 * GITHUB_SHA names a commit of the workflow's repository; restoring another repository must
 * not try to check it out (actions/checkout uses the default branch then, as we do).
 */
export function isWorkflowRepository(repositoryUrl: string, workflow: WorkflowContext): boolean {
  if (!workflow.repository) return true
  const restored = new URL(repositoryUrl)
  const restoredName = restored.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '')
  if (restoredName.toLowerCase() !== workflow.repository.toLowerCase()) return false
  if (!workflow.serverUrl) return true
  return new URL(workflow.serverUrl).host.toLowerCase() === restored.host.toLowerCase()
}

export function describeDestination(destination: Destination): string {
  switch (destination.kind) {
    case 'snapshot':
      return "the snapshot's head"
    case 'branch':
      return `branch ${destination.branch}${at(destination.commit)}`
    case 'tag':
      return `tag ${destination.tag}${at(destination.commit)}`
    case 'detached-ref':
      return `${destination.ref}${at(destination.commit)}`
    case 'commit':
      return `commit ${destination.commit}`
    case 'branch-or-tag':
      return `ref ${destination.name}`
  }
}

function at(commit: string | undefined): string {
  return commit ? ` at ${commit}` : ''
}
