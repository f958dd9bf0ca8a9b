/**
 * actions/checkout's inputs that a snapshot makes moot, in the terms the log uses for them.
 * They are declared in action.yml so that a workflow moving from checkout keeps its `with:` block and gets no "Unexpected input" warning;
 * settings.ts reads and validates them as checkout would take them, and main.ts says once
 * what the snapshot gives instead.
 */

/** A checkout input set to something other than checkout's default. */
export interface SupersededInput {
  /** How the input is shown: `fetch-depth: 0`. */
  shown: string
  /** What the snapshot gives instead, completing "... (": `all history is there`. */
  instead: string
}

/**
 * The one line for every superseded input the workflow set. An info line, not a notice: the
 * job gets all that these inputs asked for and more, so nothing needs anyone's attention; an
 * annotation on every run (one per job of a matrix) would be noise that only editing the
 * workflow silences.
 */
export function describeSuperseded(inputs: readonly SupersededInput[]): string | undefined {
  if (inputs.length === 0) return undefined
  const list = inputs.map(input => `${input.shown} (${input.instead})`).join(', ')
  return (
    `The snapshot is a full clone, so ${inputs.length === 1 ? 'this actions/checkout input changes' : 'these actions/checkout inputs change'} ` +
    `nothing: ${list}.`
  )
}

export const SUPERSEDED = {
  fetchDepth: (depth: number): SupersededInput => ({
    shown: `fetch-depth: ${depth}`,
    instead: 'all history is there'
  }),
  fetchTags: { shown: 'fetch-tags: true', instead: 'every tag is there' },
  filter: (spec: string): SupersededInput => ({
    shown: `filter: ${spec}`,
    instead: 'every object is there, not a partial clone'
  })
} as const

/** The filter kinds git's --filter takes (git rev-list, "--filter=<filter-spec>"). */
const SIMPLE_FILTERS = [
  /^blob:none$/,
  /^blob:limit=\d+[kmg]?$/i,
  /^tree:\d+$/,
  /^object:type=(blob|tree|commit|tag)$/,
  /^sparse:oid=\S+$/
]

/**
 * Why `spec` is not a filter git's --filter accepts, or undefined when it is one. checkout
 * passes the input to git, whose fetch then fails the step; here it fails before any request.
 */
export function filterSpecProblem(spec: string): string | undefined {
  if (spec.startsWith('combine:')) {
    for (const part of spec.slice('combine:'.length).split('+')) {
      let decoded: string
      try {
        decoded = decodeURIComponent(part)
      } catch {
        return `'${part}' is not percent-encoded correctly`
      }
      const problem = filterSpecProblem(decoded)
      if (problem) return problem
    }
    return undefined
  }
  if (SIMPLE_FILTERS.some(pattern => pattern.test(spec))) return undefined
  return (
    `'${spec}' is not a filter; use blob:none, blob:limit=<n>[kmg], tree:<depth>, ` +
    'object:type=<type>, sparse:oid=<blob> or combine:<filter>+<filter>'
  )
}

/**
 * The ssh URL actions/checkout gives origin when `ssh-key` is set: USER@HOST:PATH.git, the host
 * without its port (scp-like syntax has none; ssh uses port 22 or the user's ssh config).
 */
export function sshOriginUrl(repositoryUrl: string, user: string): string {
  const url = new URL(repositoryUrl)
  const repoPath = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '')
  return `${user}@${url.hostname}:${repoPath}.git`
}
