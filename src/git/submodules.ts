/**
 * submodules: true|recursive, as actions/checkout checks them out: after the superproject's
 * commit is checked out, `git submodule sync` and `git submodule update --init --force`
 * (`--recursive` for nested ones). git resolves a relative URL in .gitmodules against origin's
 * URL, which is still the https upstream here (the snapshot's clone keeps it; setOrigin runs
 * later), and the fetches go through cachew by the same insteadOf route and credentials as the
 * superproject's, passed through the environment so every nested git inherits them. git lays
 * the repositories out as checkout's do: absorbed git dirs under .git/modules/NAME, with
 * relative gitdir and core.worktree links, so moving the staged clone into place keeps them.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { RestoreSettings } from '../settings.js'
import { accessConfig } from './access.js'
import type { Git } from './git.js'
import { withRetries } from './retry.js'

export interface SubmoduleLog {
  info(message: string): void
}

export interface SubmodulesResult {
  /** Submodules checked out, nested ones included with recursive. */
  count: number
}

/**
 * Checks out the submodules the settings ask for, in the repository `git` runs in; undefined
 * with submodules: false or when the commit has no .gitmodules. git itself tries a failed
 * submodule clone once more at the end of the update (2.39, as tested here), but not a failed
 * fetch into one it has; the update is retried as a whole under the fetches' policy when it
 * failed anyway, and then clones or fetches only what is still missing.
 */
export async function updateSubmodules(
  git: Git,
  settings: Pick<
    RestoreSettings,
    | 'submodules'
    | 'serverUrl'
    | 'repositoryUrl'
    | 'authorization'
    | 'token'
    | 'gitThroughCachew'
    | 'tempDir'
  >,
  log: SubmoduleLog
): Promise<SubmodulesResult | undefined> {
  if (settings.submodules === 'false') return undefined
  if (!(await hasGitmodules(git.directory))) return undefined
  const recursive = settings.submodules === 'recursive' ? ['--recursive'] : []
  const config = accessConfig(settings)
  const via = settings.gitThroughCachew ? 'through cachew' : 'from upstream'
  log.info(`Checking out submodules${recursive.length ? ' recursively' : ''} ${via}`)
  // sync matters for an update in place, where .gitmodules may name a new URL since an
  // earlier job initialised the submodule; on a fresh clone it has nothing to do.
  await git.run(['submodule', 'sync', '--quiet', ...recursive], { config })
  await withRetries(
    `git submodule update ${via}`,
    () =>
      git.run(['submodule', 'update', '--init', '--force', '--quiet', ...recursive], { config }),
    { log, signal: git.signal }
  )
  const status = await git.read(['submodule', 'status', ...recursive])
  const count = status.split('\n').filter(line => line.trim() !== '').length
  log.info(`Submodules: ${count} checked out.`)
  return { count }
}

async function hasGitmodules(directory: string): Promise<boolean> {
  try {
    return (await fs.lstat(path.join(directory, '.gitmodules'))).isFile()
  } catch {
    return false
  }
}
