/**
 * Every input of the action, read once and validated into a typed RestoreSettings, together
 * with what the workflow's context decides (the commit to end on). Everything that can be
 * refused is refused here, before the first request; only this module and main.ts know about
 * the Actions runtime's input conventions.
 */
import * as core from './report/runner.js'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  filterSpecProblem,
  sshOriginUrl,
  SUPERSEDED,
  type SupersededInput
} from './checkout-inputs.js'
import { ExpectedError, InputError } from './errors.js'
import { conePatternProblem, type SparseCheckout } from './archive/sparse-set.js'
import { forkCodeInTrustedWorkflow, TRUSTED_PULL_REQUEST_EVENTS } from './git/fork-pull-request.js'
import {
  destinationOfRefInput,
  destinationOfWorkflow,
  isFullSha,
  isWorkflowRepository,
  readWorkflowContext,
  refInputProblem,
  type Destination,
  type WorkflowContext
} from './git/workflow-ref.js'

/** Input names exactly as action.yml declares them. */
export const Inputs = {
  serverUrl: 'server-url',
  repository: 'repository',
  path: 'path',
  authorization: 'authorization',
  downloadConcurrency: 'download-concurrency',
  downloadChunkSizeMb: 'download-chunk-size-mb',
  stallTimeoutSeconds: 'stall-timeout-seconds',
  bundle: 'bundle',
  failOnCacheMiss: 'fail-on-cache-miss',
  ref: 'ref',
  keepSnapshotHead: 'keep-snapshot-head',
  token: 'token',
  persistCredentials: 'persist-credentials',
  setSafeDirectory: 'set-safe-directory',
  gitThroughCachew: 'git-through-cachew',
  runnerCache: 'runner-cache',
  runnerCacheMaxGb: 'runner-cache-max-gb',
  updateExisting: 'update-existing',
  // actions/checkout's other inputs, under its names (see checkout-inputs.ts).
  githubServerUrl: 'github-server-url',
  showProgress: 'show-progress',
  clean: 'clean',
  sshKey: 'ssh-key',
  sshKnownHosts: 'ssh-known-hosts',
  sshStrict: 'ssh-strict',
  sshUser: 'ssh-user',
  allowUnsafePrCheckout: 'allow-unsafe-pr-checkout',
  fetchDepth: 'fetch-depth',
  fetchTags: 'fetch-tags',
  filter: 'filter',
  sparseCheckout: 'sparse-checkout',
  sparseCheckoutConeMode: 'sparse-checkout-cone-mode',
  lfs: 'lfs',
  submodules: 'submodules'
} as const

/**
 * Defaults that apply when an input is absent (the runner fills action.yml's defaults in;
 * outside a workflow these apply). A test keeps them equal to action.yml's.
 */
export const Defaults = {
  downloadConcurrency: 8,
  downloadChunkSizeMb: 16,
  stallTimeoutSeconds: 30,
  bundle: true,
  failOnCacheMiss: false,
  keepSnapshotHead: false,
  persistCredentials: true,
  setSafeDirectory: true,
  gitThroughCachew: true,
  runnerCache: 'auto',
  runnerCacheMaxGb: 10,
  updateExisting: 'auto',
  // actions/checkout's defaults, so a non-default value is one the workflow chose.
  showProgress: true,
  clean: true,
  sshStrict: true,
  sshUser: 'git',
  allowUnsafePrCheckout: false,
  fetchDepth: 1,
  fetchTags: false,
  sparseCheckoutConeMode: true,
  lfs: false,
  submodules: 'false'
} as const

/** `auto`: update a checkout of the same repository in place when it qualifies; `false`: never. */
export type UpdateExisting = 'auto' | 'false'

export const Limits = {
  downloadConcurrency: { min: 1, max: 64 },
  downloadChunkSizeMb: { min: 1, max: 1024 },
  stallTimeoutSeconds: { min: 1, max: 3600 },
  runnerCacheMaxGb: { min: 1, max: 1024 }
} as const

export interface RestoreSettings {
  /** cachew base URL without a trailing slash. */
  serverUrl: string
  /** Upstream repository URL, https://HOST/OWNER/REPO (no .git). */
  repositoryUrl: string
  /** Absolute directory the tree lands in. */
  target: string
  /** Absolute GITHUB_WORKSPACE (or the working directory outside a workflow). */
  workspace: string
  /** Directory for temporary files: RUNNER_TEMP, else the OS temp directory. */
  tempDir: string
  /** Authorization header value for cachew; registered as a secret. */
  authorization?: string
  downloadConcurrency: number
  chunkSizeBytes: number
  stallTimeoutMs: number
  applyBundle: boolean
  failOnCacheMiss: boolean
  /**
   * Where the checkout ends: the `ref` input, else the workflow's commit (GITHUB_SHA and
   * GITHUB_REF, when the workflow's repository is the one restored), else the snapshot's head.
   */
  destination: Destination
  /** Stay at the snapshot (+ bundle) head instead of moving to the workflow's commit. */
  keepSnapshotHead: boolean
  /** Token for the upstream host (git over HTTPS); registered as a secret. */
  token?: string
  persistCredentials: boolean
  /** Add the target to git's global safe.directory for the job; the post step removes it. */
  setSafeDirectory: boolean
  gitThroughCachew: boolean
  /**
   * Where the runner cache lives (RUNNER_TOOL_CACHE), when it is on: `runner-cache` true, or
   * auto on a self-hosted runner. Undefined when off; '' when on but the runner gives no place.
   */
  runnerCacheDir?: string
  runnerCacheMaxBytes: number
  updateExisting: UpdateExisting
  /**
   * Git LFS content, as actions/checkout's input: the objects come from cachew's LFS snapshot
   * (and git-lfs fetches what it lacks), then the working tree gets the files' content.
   */
  lfs: boolean
  /**
   * sparse-checkout and sparse-checkout-cone-mode, when patterns are given: files outside the
   * set are never extracted, and the clone ends as `git sparse-checkout set` leaves it.
   */
  sparseCheckout?: SparseCheckout
  /** Print a download progress line every few seconds (show-progress). */
  showProgress: boolean
  /**
   * An update in place removes untracked and ignored files first (clean: true, `git clean
   * -ffdx`); with false it keeps those that the destination commit does not need the place of.
   * Local changes to tracked files are undone either way, as by checkout's forced checkout.
   */
  clean: boolean
  /** ssh-key and its companions: how later steps reach the upstream over ssh. */
  ssh?: SshSettings
  /** checkout inputs set to a non-default value that the snapshot supersedes, for the log. */
  superseded: SupersededInput[]
  /**
   * submodules: after the commit's checkout, each restored from its own cachew snapshot (else
   * `git submodule update --init` through cachew's git route), one level (true) or nested ones
   * too (recursive); false leaves them uninitialised.
   */
  submodules: Submodules
}

/**
 * ssh-key, as actions/checkout leaves it for later steps: origin becomes the ssh URL, and with
 * persist-credentials the key and known hosts go to private files that core.sshCommand names.
 * The restore itself never uses ssh: the snapshot and every fetch come over HTTP(S).
 */
export interface SshSettings {
  /** The private key; each line registered as a secret. */
  key: string
  /** known_hosts lines added to the user's (ssh-known-hosts). */
  knownHosts: string
  /** StrictHostKeyChecking=yes and CheckHostIP=no (ssh-strict). */
  strict: boolean
  /** origin's URL: USER@HOST:PATH.git, USER from ssh-user. */
  originUrl: string
}

type Env = NodeJS.ProcessEnv

/** Reads an input the way the runner passes it (INPUT_<NAME>, hyphens kept), trimmed. */
function readInput(name: string): string {
  return core.getInput(name)
}

export function readSettings(env: Env = process.env): RestoreSettings {
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd())
  const authorization = readInput(Inputs.authorization) || env.CACHEW_AUTHORIZATION || undefined
  if (authorization) core.setSecret(authorization)
  if (authorization) refuseUnsendable(Inputs.authorization, authorization, HEADER_VALUE)
  const token = readInput(Inputs.token) || undefined
  if (token) core.setSecret(token)
  if (token) refuseUnsendable(Inputs.token, token, /[\r\n]/)
  const repositoryUrl = parseRepository(readInput(Inputs.repository), env)
  const keepSnapshotHead = parseBoolean(Inputs.keepSnapshotHead, Defaults.keepSnapshotHead)
  const chunkMb = parseInteger(
    Inputs.downloadChunkSizeMb,
    Defaults.downloadChunkSizeMb,
    Limits.downloadChunkSizeMb
  )
  const ref = readInput(Inputs.ref)
  const workflow = readWorkflowContext(env)
  const destination = chooseDestination({ ref, keepSnapshotHead, repositoryUrl }, workflow)
  refuseForkCodeInTrustedWorkflow({ ref, repositoryUrl, destination }, workflow, env)
  return {
    serverUrl: parseServerUrl(readInput(Inputs.serverUrl) || env.CACHEW_URL || ''),
    repositoryUrl,
    target: parseTargetPath(readInput(Inputs.path), workspace),
    workspace,
    tempDir: path.resolve(env.RUNNER_TEMP || os.tmpdir()),
    authorization,
    downloadConcurrency: parseInteger(
      Inputs.downloadConcurrency,
      Defaults.downloadConcurrency,
      Limits.downloadConcurrency
    ),
    chunkSizeBytes: chunkMb * 1024 * 1024,
    stallTimeoutMs:
      parseInteger(
        Inputs.stallTimeoutSeconds,
        Defaults.stallTimeoutSeconds,
        Limits.stallTimeoutSeconds
      ) * 1000,
    applyBundle: parseBoolean(Inputs.bundle, Defaults.bundle),
    failOnCacheMiss: parseBoolean(Inputs.failOnCacheMiss, Defaults.failOnCacheMiss),
    destination,
    keepSnapshotHead,
    token,
    persistCredentials: parseBoolean(Inputs.persistCredentials, Defaults.persistCredentials),
    setSafeDirectory: parseBoolean(Inputs.setSafeDirectory, Defaults.setSafeDirectory),
    gitThroughCachew: parseBoolean(Inputs.gitThroughCachew, Defaults.gitThroughCachew),
    runnerCacheDir: parseRunnerCache(env),
    runnerCacheMaxBytes:
      parseInteger(Inputs.runnerCacheMaxGb, Defaults.runnerCacheMaxGb, Limits.runnerCacheMaxGb) *
      1024 ** 3,
    updateExisting: parseUpdateExisting(),
    lfs: parseBoolean(Inputs.lfs, Defaults.lfs),
    showProgress: parseBoolean(Inputs.showProgress, Defaults.showProgress),
    clean: parseBoolean(Inputs.clean, Defaults.clean),
    ssh: parseSsh(repositoryUrl),
    sparseCheckout: parseSparseCheckout(),
    superseded: parseSuperseded(),
    submodules: parseSubmodules()
  }
}

/** What an HTTP header value cannot carry: line breaks, other control characters, non-Latin-1. */
const HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/**
 * A line break would end the header and let the rest of the value inject further headers,
 * into the action's requests and git's. The message never echoes the secret.
 */
function refuseUnsendable(name: string, value: string, unsendable: RegExp): void {
  if (!unsendable.test(value)) return
  throw new InputError(
    name,
    'contains a line break or another character an HTTP header cannot carry; remove it'
  )
}

export interface DestinationInputs {
  ref: string
  keepSnapshotHead: boolean
  /** The restored repository, https://HOST/OWNER/REPO. */
  repositoryUrl: string
}

/**
 * Where the checkout ends, from the inputs and the workflow's context. Refuses what could only
 * fail after the download: `keep-snapshot-head` with a `ref`, a `ref` that cannot name a
 * branch, tag, ref or commit, and a GITHUB_SHA that is no commit.
 */
export function chooseDestination(
  inputs: DestinationInputs,
  workflow: WorkflowContext
): Destination {
  const ref = inputs.ref.trim()
  if (inputs.keepSnapshotHead) {
    if (ref) {
      throw new InputError(
        Inputs.keepSnapshotHead,
        `cannot be combined with ref ${quoted(ref)}; set one or the other (keep-snapshot-head: false, or no ref)`
      )
    }
    return { kind: 'snapshot' }
  }
  if (ref) {
    const destination = destinationOfRefInput(ref)
    if (destination) return destination
    throw new InputError(
      Inputs.ref,
      `${quoted(ref)} is not a valid ref (${refInputProblem(ref)}); use a branch or ` +
        'tag name, a full ref such as refs/heads/main or refs/pull/1/merge, or a full commit SHA'
    )
  }
  if (workflow.sha && isWorkflowRepository(inputs.repositoryUrl, workflow)) {
    if (!isFullSha(workflow.sha)) {
      throw new ExpectedError(
        `GITHUB_SHA ${quoted(workflow.sha)} is not a full commit SHA; the runner sets it ` +
          "to the workflow's commit (outside a workflow, unset it or name the commit in 'ref')"
      )
    }
    return destinationOfWorkflow(workflow.sha, workflow.ref)
  }
  return { kind: 'snapshot' }
}

/** The value in quotes for a message, control characters escaped so the line stays one line. */
function quoted(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1)}'`
}

/** `auto` turns the cache on where disks outlive the job: self-hosted runners. */
function parseRunnerCache(env: Env): string | undefined {
  const raw = readInput(Inputs.runnerCache) || Defaults.runnerCache
  let on: boolean
  if (raw === 'auto') on = env.RUNNER_ENVIRONMENT === 'self-hosted'
  else if (TRUE_WORDS.includes(raw)) on = true
  else if (FALSE_WORDS.includes(raw)) on = false
  else throw new InputError(Inputs.runnerCache, `'${raw}' is not allowed; use auto, true or false`)
  return on ? (env.RUNNER_TOOL_CACHE ?? '') : undefined
}

function parseInteger(name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = readInput(name)
  if (raw === '') return fallback
  const allowed = `a whole number from ${range.min} to ${range.max}`
  if (!/^\d+$/.test(raw)) throw new InputError(name, `'${raw}' is not ${allowed}`)
  const value = Number(raw)
  if (value < range.min || value > range.max)
    throw new InputError(name, `${raw} is out of range; use ${allowed}`)
  return value
}

const TRUE_WORDS = ['true', 'True', 'TRUE']
const FALSE_WORDS = ['false', 'False', 'FALSE']

function parseBoolean(name: string, fallback: boolean): boolean {
  const raw = readInput(name)
  if (raw === '') return fallback
  if (TRUE_WORDS.includes(raw)) return true
  if (FALSE_WORDS.includes(raw)) return false
  throw new InputError(name, `'${raw}' is not a boolean; use true or false`)
}

function parseUpdateExisting(): UpdateExisting {
  const raw = readInput(Inputs.updateExisting)
  if (raw === '') return Defaults.updateExisting
  if (raw.toLowerCase() === 'auto') return 'auto'
  if (FALSE_WORDS.includes(raw)) return 'false'
  throw new InputError(Inputs.updateExisting, `'${raw}' is not allowed; use auto or false`)
}

/** A whole number, 0 or more, as checkout's fetch-depth takes it (0: all history). */
function parseFetchDepth(): number {
  const raw = readInput(Inputs.fetchDepth)
  if (raw === '') return Defaults.fetchDepth
  if (!/^\d+$/.test(raw)) {
    throw new InputError(
      Inputs.fetchDepth,
      `'${raw}' is not a whole number, 0 or more (0 is all history)`
    )
  }
  return Number(raw)
}

/** checkout's inputs that a full snapshot supersedes, those the workflow set, validated. */
function parseSuperseded(): SupersededInput[] {
  const superseded: SupersededInput[] = []
  const depth = parseFetchDepth()
  if (depth !== Defaults.fetchDepth) superseded.push(SUPERSEDED.fetchDepth(depth))
  if (parseBoolean(Inputs.fetchTags, Defaults.fetchTags)) superseded.push(SUPERSEDED.fetchTags)
  const filter = readInput(Inputs.filter)
  if (filter) {
    const problem = filterSpecProblem(filter)
    if (problem) throw new InputError(Inputs.filter, problem)
    superseded.push(SUPERSEDED.filter(filter))
  }
  return superseded
}

/**
 * One pattern a line, as checkout reads it; the mode matters only with patterns, as there
 * (it is still validated). Cone mode takes directories: what git would refuse after the
 * download is refused here, naming the input.
 */
function parseSparseCheckout(): SparseCheckout | undefined {
  const patterns = core
    .getInput(Inputs.sparseCheckout)
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '')
  const cone = parseBoolean(Inputs.sparseCheckoutConeMode, Defaults.sparseCheckoutConeMode)
  if (patterns.length === 0) return undefined
  if (cone) {
    for (const pattern of patterns) {
      const problem = conePatternProblem(pattern)
      if (problem) throw new InputError(Inputs.sparseCheckout, `${problem} (cone mode)`)
    }
  }
  return { patterns, cone }
}

/** `submodules` as checkout takes it: false, true (one level) or recursive. */
export type Submodules = 'false' | 'true' | 'recursive'

function parseSubmodules(): Submodules {
  const raw = readInput(Inputs.submodules)
  if (raw === '') return Defaults.submodules
  if (raw.toLowerCase() === 'recursive') return 'recursive'
  if (TRUE_WORDS.includes(raw)) return 'true'
  if (FALSE_WORDS.includes(raw)) return 'false'
  throw new InputError(Inputs.submodules, `'${raw}' is not allowed; use false, true or recursive`)
}

/** A user name ssh takes as one word, never as an option. */
const SSH_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

function parseSsh(repositoryUrl: string): SshSettings | undefined {
  const strict = parseBoolean(Inputs.sshStrict, Defaults.sshStrict)
  const user = readInput(Inputs.sshUser) || Defaults.sshUser
  if (!SSH_USER.test(user)) {
    throw new InputError(
      Inputs.sshUser,
      `'${user}' is not a user name ssh can take; use letters, digits, '_', '.' and '-' ` +
        "(not first), such as 'git'"
    )
  }
  const key = readInput(Inputs.sshKey)
  if (!key) return undefined
  // A secret of several lines is masked line by line: the log shows lines one at a time.
  for (const line of key.split('\n').map(text => text.trim())) {
    if (line !== '' && !line.startsWith('-----')) core.setSecret(line)
  }
  return {
    key,
    knownHosts: readInput(Inputs.sshKnownHosts),
    strict,
    originUrl: sshOriginUrl(repositoryUrl, user)
  }
}

interface ForkCheckInputs {
  ref: string
  repositoryUrl: string
  destination: Destination
}

/**
 * allow-unsafe-pr-checkout (src/git/fork-pull-request.ts). A workflow restoring its own
 * repository without a `ref` gets the commit GitHub chose for the event, trusted code: only
 * a `ref` or another repository can reach a fork's code.
 */
function refuseForkCodeInTrustedWorkflow(
  inputs: ForkCheckInputs,
  workflow: WorkflowContext,
  env: Env
): void {
  if (parseBoolean(Inputs.allowUnsafePrCheckout, Defaults.allowUnsafePrCheckout)) return
  const eventName = workflow.eventName
  if (!eventName || !TRUSTED_PULL_REQUEST_EVENTS.includes(eventName)) return
  if (!inputs.ref.trim() && isWorkflowRepository(inputs.repositoryUrl, workflow)) return
  const matched = forkCodeInTrustedWorkflow({
    eventName,
    payload: readEventPayload(env),
    isRepository: fullName =>
      isWorkflowRepository(inputs.repositoryUrl, { ...workflow, repository: fullName }),
    destination: inputs.destination
  })
  if (!matched) return
  throw new ExpectedError(
    `Refusing to restore a fork's pull request code (${matched}) in a '${eventName}' ` +
      "workflow: it runs with the base repository's token, secrets, cache and runner, which " +
      "the fork's code could then use. Set 'allow-unsafe-pr-checkout: true' on this step only " +
      'after reviewing the risks at https://gh.io/securely-using-pull_request_target.'
  )
}

/** The event's payload, or undefined when the runner gives none (or it cannot be read). */
function readEventPayload(env: Env): unknown {
  if (!env.GITHUB_EVENT_PATH) return undefined
  try {
    return JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as unknown
  } catch {
    return undefined
  }
}

function parseServerUrl(raw: string): string {
  const name = Inputs.serverUrl
  if (raw === '')
    throw new InputError(
      name,
      'required: the cachew base URL, e.g. https://cachew.example.com (or set CACHEW_URL)'
    )
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(name, `'${raw}' is not a URL; use an http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(name, `'${url.protocol}' URLs are not supported; use http:// or https://`)
  }
  if (url.username || url.password) {
    throw new InputError(
      name,
      'credentials in the URL are not supported; use the authorization input'
    )
  }
  if (url.search || url.hash) throw new InputError(name, 'must not have a query or fragment')
  return url.origin + url.pathname.replace(/\/+$/, '')
}

const OWNER_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/

/**
 * Accepts https://HOST/OWNER/REPO[.git], or OWNER/REPO on github-server-url's host, else the
 * workflow's (GITHUB_SERVER_URL), else github.com, as actions/checkout places OWNER/REPO.
 */
function parseRepository(raw: string, env: Env): string {
  const name = Inputs.repository
  const githubServer = parseGithubServerUrl(readInput(Inputs.githubServerUrl))
  const value = raw || env.GITHUB_REPOSITORY || ''
  const allowed = 'use https://HOST/OWNER/REPO or OWNER/REPO'
  if (value === '') throw new InputError(name, `required outside a workflow; ${allowed}`)
  if (OWNER_REPO.test(value)) {
    // A URL would resolve '.' and '..' away, leaving another repository or none at all.
    const parts = value.replace(/\.git$/, '').split('/')
    if (parts.some(part => part === '' || part === '.' || part === '..')) {
      throw new InputError(name, `'${value}' is not a repository; ${allowed}`)
    }
    const server = (githubServer || env.GITHUB_SERVER_URL || 'https://github.com').replace(
      /\/+$/,
      ''
    )
    return `${server}/${value.replace(/\.git$/, '')}`
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(name, `'${value}' is not a repository; ${allowed}`)
  }
  const repoPath = url.pathname
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
  if (
    !/^https?:$/.test(url.protocol) ||
    !url.hostname ||
    repoPath === '' ||
    url.search ||
    url.hash
  ) {
    throw new InputError(name, `'${value}' is not a repository URL; ${allowed}`)
  }
  if (url.username || url.password)
    throw new InputError(name, 'credentials in the URL are not supported')
  if (githubServer && githubServer !== url.origin) {
    throw new InputError(
      Inputs.githubServerUrl,
      `is ${githubServer}, but repository is a URL on ${url.origin}; leave one of them out ` +
        '(github-server-url applies to an OWNER/REPO repository)'
    )
  }
  return `${url.protocol}//${url.host}/${repoPath}`
}

/**
 * github-server-url, as its origin (SCHEME://HOST[:PORT]), as checkout builds the clone URL
 * from it; '' when not set.
 */
function parseGithubServerUrl(raw: string): string {
  if (raw === '') return ''
  const name = Inputs.githubServerUrl
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(name, `'${raw}' is not a URL; use one such as https://ghe.example.com`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(name, `'${url.protocol}' URLs are not supported; use https:// or http://`)
  }
  if (url.username || url.password) {
    throw new InputError(name, 'credentials in the URL are not supported; use the token input')
  }
  if (url.search || url.hash) throw new InputError(name, 'must not have a query or fragment')
  return url.origin
}

function parseTargetPath(raw: string, workspace: string): string {
  const target = path.resolve(workspace, raw || '.')
  const relative = path.relative(workspace, target)
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new InputError(
      Inputs.path,
      `'${raw}' resolves outside GITHUB_WORKSPACE (${workspace}); use a path inside it`
    )
  }
  return target
}
