/**
 * How git reaches cachew and the upstream host: the cachew Authorization header, the upstream
 * token (as actions/checkout sends it), and the insteadOf rule that routes upstream fetches
 * through cachew. The same entries serve two purposes: passed through the environment to the
 * fetches of the restore itself, and written to a private file that the repository's
 * .git/config includes, so the workflow's later steps can fetch and push. Secrets never go
 * into .git/config itself, and the post step deletes the file.
 */
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { gitCredentialScope } from '../cachew/credentials.js'
import { gitInsteadOf } from '../cachew/endpoints.js'
import type { RestoreSettings } from '../settings.js'
import type { ConfigEntry } from './git.js'
import { Git } from './git.js'

type AccessSettings = Pick<
  RestoreSettings,
  'serverUrl' | 'repositoryUrl' | 'authorization' | 'token' | 'gitThroughCachew' | 'tempDir'
>

/** The Authorization header git sends upstream for a token, as actions/checkout does. */
export function tokenHeader(token: string): string {
  return `AUTHORIZATION: basic ${basicCredential(token)}`
}

function basicCredential(token: string): string {
  return Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64')
}

/** Every secret the entries below can contain, in the forms a log could show. */
export function accessSecrets(settings: Pick<AccessSettings, 'authorization' | 'token'>): string[] {
  const secrets: string[] = []
  if (settings.authorization) secrets.push(settings.authorization)
  if (settings.token) secrets.push(settings.token, basicCredential(settings.token))
  return secrets
}

/**
 * The git configuration for reaching cachew and upstream. With git-through-cachew, fetches
 * of https://HOST/ go to cachew, while pushes still go straight upstream: cachew serves
 * upload-pack only, and an identity pushInsteadOf keeps insteadOf off push URLs.
 */
export function accessConfig(settings: AccessSettings): ConfigEntry[] {
  const route = gitInsteadOf(settings.serverUrl, settings.repositoryUrl)
  const upstream = route.from
  const server = gitCredentialScope(settings.serverUrl)
  const entries: ConfigEntry[] = []
  // readSettings refused values with a line break, which would inject further headers.
  if (settings.authorization) {
    entries.push({
      key: `http.${server}.extraheader`,
      value: `Authorization: ${settings.authorization}`
    })
  }
  if (settings.token) {
    entries.push({ key: `http.${upstream}.extraheader`, value: tokenHeader(settings.token) })
  }
  if (settings.gitThroughCachew) {
    entries.push({ key: `url.${route.to}.insteadOf`, value: upstream })
    entries.push({ key: `url.${upstream}.pushInsteadOf`, value: upstream })
  }
  return entries
}

/** Renders entries in git's config file syntax, quoting every value. */
export function renderConfigFile(entries: readonly ConfigEntry[]): string {
  const lines: string[] = []
  for (const entry of entries) {
    const { section, subsection, name } = splitKey(entry.key)
    const header =
      subsection === undefined ? `[${section}]` : `[${section} "${escapeSubsection(subsection)}"]`
    lines.push(header, `\t${name} = "${escapeValue(entry.value)}"`)
  }
  return lines.join('\n') + '\n'
}

/** git's rule: the section is before the first dot, the name after the last one. */
function splitKey(key: string): { section: string; subsection?: string; name: string } {
  const first = key.indexOf('.')
  const last = key.lastIndexOf('.')
  if (first <= 0 || last === key.length - 1) throw new Error(`invalid git config key: ${key}`)
  if (first === last) return { section: key.slice(0, first), name: key.slice(last + 1) }
  return {
    section: key.slice(0, first),
    subsection: key.slice(first + 1, last),
    name: key.slice(last + 1)
  }
}

function escapeSubsection(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')
}

function escapeValue(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
}

function repositoryConfigFile(directory: string): string {
  return path.join(directory, '.git', 'config')
}

/**
 * Writes the access configuration to a new private file under tempDir and includes it from
 * the repository's .git/config by absolute path, so moving the repository keeps it working.
 * The lead saves `configFile` for the post step, which passes it to removeGitAccess.
 */
export async function configureGitAccess(
  directory: string,
  settings: AccessSettings
): Promise<{ configFile: string }> {
  const configFile = path.join(path.resolve(settings.tempDir), `cachew-git-${randomUUID()}.config`)
  await fs.writeFile(configFile, renderConfigFile(accessConfig(settings)), {
    mode: 0o600,
    flag: 'wx'
  })
  try {
    await new Git(directory).run([
      'config',
      '--file',
      repositoryConfigFile(directory),
      '--add',
      'include.path',
      configFile
    ])
  } catch (error) {
    await fs.rm(configFile, { force: true })
    throw error
  }
  return { configFile }
}

/**
 * Deletes the access file and its include.path line. Tolerates a repository that later steps
 * removed: the file under tempDir holds the secrets and goes regardless.
 */
export async function removeGitAccess(directory: string, configFile: string): Promise<void> {
  if (!configFile) return
  await fs.rm(configFile, { force: true })
  const repositoryConfig = repositoryConfigFile(directory)
  if (!(await isFile(repositoryConfig))) return
  // Exit 5: the line was already gone.
  await new Git(directory).run(
    [
      'config',
      '--file',
      repositoryConfig,
      '--fixed-value',
      '--unset-all',
      'include.path',
      configFile
    ],
    { okExitCodes: [5] }
  )
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile()
  } catch {
    return false
  }
}
