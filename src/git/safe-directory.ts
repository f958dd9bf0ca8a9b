/**
 * `set-safe-directory`: the restored repository in git's global `safe.directory` list, so that
 * git accepts it when another user owns the files. A job with `container:` runs as another
 * user than the runner that made the workspace, and git (2.35.2 and later) then refuses the
 * repository with "detected dubious ownership", root included. git reads `safe.directory`
 * only from protected configuration (system, global, command line), never from the
 * repository's own, so the entry goes into the global file (~/.gitconfig, or wherever
 * GIT_CONFIG_GLOBAL or XDG point git), where this step's git and every later step's git find it.
 *
 * actions/checkout adds the same entry, but to a temporary global configuration (a copy of
 * ~/.gitconfig under RUNNER_TEMP, with HOME pointed at it for its own git processes only),
 * deleted when its step ends; its post step does the same again for its own cleanup. So its
 * entry never reaches later steps. Here the entry stays for the job and the post step removes
 * it; an entry the user had already is left alone, and is not removed either.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Git } from './git.js'

const KEY = 'safe.directory'

/** Global configuration needs no repository: git runs where no repository can be found. */
function globalGit(): Git {
  return new Git(os.tmpdir())
}

/**
 * The path as git compares it: git matches the repository's physical path (no symlinks, as
 * getcwd gives it), so symlinks in the part that exists are resolved; the rest may not exist
 * yet, before the restore.
 */
export async function physicalPath(directory: string): Promise<string> {
  const absolute = path.resolve(directory)
  const missing: string[] = []
  for (let at = absolute; ; at = path.dirname(at)) {
    try {
      return path.join(await fs.realpath(at), ...missing.reverse())
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || at === path.dirname(at)) {
        throw error
      }
      missing.push(path.basename(at))
    }
  }
}

/** The global safe.directory values, in order. */
export async function globalSafeDirectories(): Promise<string[]> {
  // Exit 1: none set.
  const result = await globalGit().run(['config', '--global', '--get-all', KEY], {
    okExitCodes: [1]
  })
  return result.stdout.split('\n').filter(line => line !== '')
}

/**
 * Adds `directory` to the global safe.directory list. Returns the value added, for the post
 * step to remove; undefined when the list already had it (the user's entry, left alone).
 */
export async function addSafeDirectory(directory: string): Promise<string | undefined> {
  const value = await physicalPath(directory)
  if ((await globalSafeDirectories()).includes(value)) return undefined
  await globalGit().run(['config', '--global', '--add', KEY, value])
  return value
}

/** Removes the value addSafeDirectory added; nothing when it is already gone. */
export async function removeSafeDirectory(value: string): Promise<void> {
  // Exit 5: no such value (a later step removed it, or HOME changed).
  await globalGit().run(['config', '--global', '--fixed-value', '--unset-all', KEY, value], {
    okExitCodes: [5]
  })
}
