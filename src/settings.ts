/**
 * Every input of the action, read once and validated into a typed RestoreSettings, together
 * with what the workflow's context decides (the commit to end on). Everything that can be
 * refused is refused here, before the first request; only this module and main.ts know about
 * the Actions runtime's input conventions.
 */
import * as core from './report/runner.js'
import * as os from 'node:os'
import * as path from 'node:path'
import { ExpectedError, InputError } from './errors.js'
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
  lfs: 'lfs'
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
  lfs: false
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
    destination: chooseDestination(
      { ref: readInput(Inputs.ref), keepSnapshotHead, repositoryUrl },
      readWorkflowContext(env)
    ),
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
    lfs: parseBoolean(Inputs.lfs, Defaults.lfs)
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

/** Accepts https://HOST/OWNER/REPO[.git] or OWNER/REPO (on GITHUB_SERVER_URL's host). */
function parseRepository(raw: string, env: Env): string {
  const name = Inputs.repository
  const value = raw || env.GITHUB_REPOSITORY || ''
  const allowed = 'use https://HOST/OWNER/REPO or OWNER/REPO'
  if (value === '') throw new InputError(name, `required outside a workflow; ${allowed}`)
  if (OWNER_REPO.test(value)) {
    // A URL would resolve '.' and '..' away, leaving another repository or none at all.
    const parts = value.replace(/\.git$/, '').split('/')
    if (parts.some(part => part === '' || part === '.' || part === '..')) {
      throw new InputError(name, `'${value}' is not a repository; ${allowed}`)
    }
    const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')
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
  return `${url.protocol}//${url.host}/${repoPath}`
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
