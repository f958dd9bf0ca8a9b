/**
 * How git reaches cachew and the upstream host: the cachew Authorization header, the upstream
 * token (as actions/checkout sends it), and the insteadOf rule that routes upstream fetches
 * through cachew. The same entries serve two purposes: passed through the environment to the
 * fetches of the restore itself (and, through the environment, to every nested git of a
 * submodule update), and written to a private file that the repository's .git/config and its
 * submodules' configs include, so the workflow's later steps can fetch and push. Secrets never go
 * into .git/config itself, and the post step deletes the file. With ssh-key, later steps'
 * origin is the ssh URL (setOrigin) and the file also carries core.sshCommand, naming a key
 * and a known_hosts file kept beside it; the restore itself never uses ssh.
 */
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { gitCredentialScope } from '../cachew/credentials.js'
import { gitInsteadOf } from '../cachew/endpoints.js'
import type { RestoreSettings, SshSettings } from '../settings.js'
import type { ConfigEntry } from './git.js'
import { Git } from './git.js'

type AccessSettings = Pick<
  RestoreSettings,
  'serverUrl' | 'repositoryUrl' | 'authorization' | 'token' | 'gitThroughCachew' | 'tempDir'
>

/** What configureGitAccess also needs: ssh-key's settings, for later steps only. */
type PersistedAccessSettings = AccessSettings & Pick<RestoreSettings, 'ssh'>

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
 * The repository's .git/config and those of its submodules' git dirs, nested ones included
 * (.git/modules/NAME, .git/modules/NAME/modules/NESTED; a NAME may hold slashes), so later
 * steps reach a submodule's upstream as they reach the superproject's, as actions/checkout
 * configures each submodule with persist-credentials.
 */
async function repositoryConfigFiles(directory: string): Promise<string[]> {
  const files = [repositoryConfigFile(directory)]
  const walk = async (modules: string): Promise<void> => {
    for (const entry of await directoriesIn(modules)) {
      const candidate = path.join(modules, entry)
      if (await isFile(path.join(candidate, 'HEAD'))) {
        if (await isFile(path.join(candidate, 'config'))) files.push(path.join(candidate, 'config'))
        await walk(path.join(candidate, 'modules'))
      } else {
        await walk(candidate)
      }
    }
  }
  await walk(path.join(directory, '.git', 'modules'))
  return files
}

async function directoriesIn(directory: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(directory, { withFileTypes: true })
    return entries.filter(entry => entry.isDirectory()).map(entry => entry.name)
  } catch {
    return []
  }
}

/**
 * Writes the access configuration to a new private file under tempDir and includes it from
 * the repository's .git/config by absolute path, so moving the repository keeps it working.
 * With ssh-key, the key and the known hosts go beside it (sshFilesOf), and the file sets
 * core.sshCommand to use them. The lead saves `configFile` for the post step, which passes it
 * to removeGitAccess.
 */
export async function configureGitAccess(
  directory: string,
  settings: PersistedAccessSettings
): Promise<{ configFile: string }> {
  const configFile = path.join(path.resolve(settings.tempDir), `cachew-git-${randomUUID()}.config`)
  try {
    const entries = accessConfig(settings)
    if (settings.ssh) entries.push(...(await writeSshFiles(configFile, settings.ssh, settings)))
    await fs.writeFile(configFile, renderConfigFile(entries), { mode: 0o600, flag: 'wx' })
    for (const config of await repositoryConfigFiles(directory)) {
      await new Git(directory).run([
        'config',
        '--file',
        config,
        '--add',
        'include.path',
        configFile
      ])
    }
  } catch (error) {
    await removeAccessFiles(configFile)
    throw error
  }
  return { configFile }
}

/**
 * Points origin where later steps should find it: the ssh URL with ssh-key, as actions/checkout
 * leaves it, else the https one. The snapshot's clone has the https upstream; a checkout an
 * earlier job left (updated in place) may have either. An https origin spelled otherwise is
 * left as it is.
 */
export async function setOrigin(
  directory: string,
  settings: Pick<RestoreSettings, 'repositoryUrl' | 'ssh'>
): Promise<void> {
  const git = new Git(directory)
  const read = await git.run(['config', '--get', 'remote.origin.url'], { okExitCodes: [1] })
  const current = read.stdout.trim()
  const wanted = settings.ssh?.originUrl
  if (wanted ? current === wanted : /^https?:\/\//i.test(current)) return
  await git.run(['config', 'remote.origin.url', wanted ?? settings.repositoryUrl])
}

/** The ssh key and known hosts kept for later steps, named after the access file. */
export function sshFilesOf(configFile: string): { key: string; knownHosts: string } {
  const stem = configFile.replace(/\.config$/, '')
  return { key: `${stem}.ssh-key`, knownHosts: `${stem}.known_hosts` }
}

/** The access file and the ssh files beside it, whichever exist. */
export async function removeAccessFiles(configFile: string): Promise<void> {
  const ssh = sshFilesOf(configFile)
  await Promise.all([configFile, ssh.key, ssh.knownHosts].map(file => fs.rm(file, { force: true })))
}

/**
 * github.com's SSH host keys as GitHub publishes them for known_hosts ("GitHub's SSH key
 * fingerprints"), always trusted, as actions/checkout trusts github.com implicitly. A test
 * checks them against the published SHA256 fingerprints.
 */
export const GITHUB_HOST_KEYS = [
  'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  'github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=',
  'github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk='
]

/**
 * Writes the key (0600, as ssh requires) and the known hosts, and returns the configuration
 * for later steps: core.sshCommand, as actions/checkout sets it, so `git push` to the ssh
 * origin uses the key; and, with git-through-cachew, fetches from the ssh URL go to cachew as
 * https ones do, while pushes stay on ssh (the identity pushInsteadOf keeps insteadOf off
 * them).
 */
async function writeSshFiles(
  configFile: string,
  ssh: SshSettings,
  settings: AccessSettings
): Promise<ConfigEntry[]> {
  const files = sshFilesOf(configFile)
  await fs.writeFile(files.key, ssh.key.trim() + '\n', { mode: 0o600, flag: 'wx' })
  const knownHosts = [ssh.knownHosts.trim(), ...GITHUB_HOST_KEYS].filter(text => text !== '')
  await fs.writeFile(files.knownHosts, knownHosts.join('\n') + '\n', { mode: 0o600, flag: 'wx' })
  const entries: ConfigEntry[] = [{ key: 'core.sshCommand', value: sshCommand(files, ssh.strict) }]
  if (settings.gitThroughCachew) {
    const route = gitInsteadOf(settings.serverUrl, settings.repositoryUrl)
    const sshPrefix = ssh.originUrl.slice(0, ssh.originUrl.indexOf(':') + 1)
    entries.push({ key: `url.${route.to}.insteadOf`, value: sshPrefix })
    entries.push({ key: `url.${sshPrefix}.pushInsteadOf`, value: sshPrefix })
  }
  return entries
}

/**
 * The command git runs (through the shell) for ssh. `ssh` is looked up on PATH when a later
 * step runs it, so a job that installs ssh after this step works too. The user's own
 * ~/.ssh/known_hosts stays in use beside ours: UserKnownHostsFile takes a list, and replaces
 * the default one.
 */
export function sshCommand(files: { key: string; knownHosts: string }, strict: boolean): string {
  // Within the option, ssh splits on whitespace and honours double quotes and backslashes.
  const knownHosts = `"${files.knownHosts.replace(/[\\"]/g, '\\$&')}"`
  const args = ['ssh', '-i', shellQuote(files.key)]
  args.push('-o', shellQuote(`UserKnownHostsFile=${knownHosts} ~/.ssh/known_hosts`))
  if (strict) args.push('-o', 'StrictHostKeyChecking=yes', '-o', 'CheckHostIP=no')
  return args.join(' ')
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

/**
 * Deletes the access file (and the ssh files beside it) and its include.path line. Tolerates
 * a repository that later steps removed: the files under tempDir hold the secrets and go
 * regardless.
 */
export async function removeGitAccess(directory: string, configFile: string): Promise<void> {
  if (!configFile) return
  await removeAccessFiles(configFile)
  if (!(await isFile(repositoryConfigFile(directory)))) return
  for (const config of await repositoryConfigFiles(directory)) {
    // Exit 5: the line was already gone.
    await new Git(directory).run(
      ['config', '--file', config, '--fixed-value', '--unset-all', 'include.path', configFile],
      { okExitCodes: [5] }
    )
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile()
  } catch {
    return false
  }
}
