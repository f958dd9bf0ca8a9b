/**
 * Where the restored repository should end: the workflow's own commit (where actions/checkout
 * would leave it), a `ref` the user named, or the snapshot's head. Pure decisions, no git;
 * settings.ts makes them once, before the first request, and turns a refusal into an
 * InputError naming the input.
 */

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

/**
 * Why `name` is not a ref name by git's rules (git check-ref-format), or undefined when it is
 * one. A leading dash is refused in every part too, so a name can never be taken for an
 * option on a git command line.
 */
export function refNameProblem(name: string): string | undefined {
  if (name === '' || name === '@') return 'it is not a name'
  if (name.startsWith('/')) return "it starts with '/'"
  if (hasControlOrSpace(name)) return 'it contains a space or a control character'
  const forbidden = /[~^:?*[\\]/.exec(name)
  if (forbidden) return `it contains '${forbidden[0]}'`
  for (const sequence of ['..', '@{', '//']) {
    if (name.includes(sequence)) return `it contains '${sequence}'`
  }
  if (name.endsWith('/') || name.endsWith('.')) return `it ends with '${name.slice(-1)}'`
  for (const part of name.split('/')) {
    if (part.startsWith('.') || part.startsWith('-')) {
      return `a part of it starts with '${part[0]}'`
    }
    if (part.endsWith('.lock')) return "a part of it ends with '.lock'"
  }
  return undefined
}

export function isValidRefName(name: string): boolean {
  return refNameProblem(name) === undefined
}

function hasControlOrSpace(text: string): boolean {
  return [...text].some(char => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f)
}

/** Why the `ref` input can name nothing to check out, or undefined when it can. */
export function refInputProblem(ref: string): string | undefined {
  if (isFullSha(ref)) return undefined
  const problem = refNameProblem(ref)
  if (problem) return problem
  // Namespaces, not refs: git keeps branches and tags under them.
  if (ref === 'refs/heads' || ref === 'refs/tags') return 'it names no branch or tag'
  return undefined
}

/**
 * The `ref` input: a full SHA, refs/heads/…, refs/tags/…, any other refs/…, or a bare name;
 * undefined when it is none of them (refInputProblem says why).
 */
export function destinationOfRefInput(ref: string): Destination | undefined {
  if (isFullSha(ref)) return { kind: 'commit', commit: ref.toLowerCase() }
  if (refInputProblem(ref)) return undefined
  if (ref.startsWith('refs/heads/'))
    return { kind: 'branch', branch: ref.slice('refs/heads/'.length) }
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', tag: ref.slice('refs/tags/'.length) }
  if (ref.startsWith('refs/')) return { kind: 'detached-ref', ref }
  return { kind: 'branch-or-tag', name: ref }
}

/**
 * GITHUB_SHA with GITHUB_REF: a push to a branch stays on it; everything else detaches. Some
 * events give GITHUB_REF unqualified (a merged pull request's closed event gives `main`):
 * a branch, as actions/checkout takes it.
 */
export function destinationOfWorkflow(sha: string, ref: string | undefined): Destination {
  const commit = sha.toLowerCase()
  if (!ref || !isValidRefName(ref)) return { kind: 'commit', commit }
  if (ref.startsWith('refs/heads/')) {
    return { kind: 'branch', branch: ref.slice('refs/heads/'.length), commit }
  }
  if (ref.startsWith('refs/tags/'))
    return { kind: 'tag', tag: ref.slice('refs/tags/'.length), commit }
  if (ref.startsWith('refs/')) return { kind: 'detached-ref', ref, commit }
  return { kind: 'branch', branch: ref, commit }
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
