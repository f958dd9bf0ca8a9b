import { afterEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  accessConfig,
  accessSecrets,
  configureGitAccess,
  removeGitAccess,
  renderConfigFile,
  tokenHeader
} from '../src/git/access.js'
import {
  addCommit,
  git,
  makeStagedClone,
  makeUpstream,
  restoreSettings,
  TempDirs,
  UPSTREAM_URL
} from './git-helpers.js'

const dirs = new TempDirs()
afterEach(() => dirs.cleanup())

const AUTHORIZATION = 'Bearer cachew-secret-123'
const TOKEN = 'ghs_upstreamtoken456'
const SERVER = 'http://127.0.0.1:8123'

async function stagedRepo(): Promise<string> {
  const upstream = await makeUpstream(dirs)
  await addCommit(upstream, { 'README.md': 'hello\n' })
  return makeStagedClone(dirs, upstream)
}

async function settingsWithTemp(overrides = {}) {
  return restoreSettings({
    serverUrl: SERVER,
    authorization: AUTHORIZATION,
    token: TOKEN,
    tempDir: await dirs.make('runner-temp'),
    ...overrides
  })
}

describe('accessConfig', () => {
  it('routes fetches of the upstream host through cachew, pushes straight upstream', () => {
    const entries = accessConfig(
      restoreSettings({ serverUrl: SERVER, authorization: AUTHORIZATION, token: TOKEN })
    )
    expect(entries).toEqual([
      { key: `http.${SERVER}/.extraheader`, value: `Authorization: ${AUTHORIZATION}` },
      { key: 'http.https://git.example.test/.extraheader', value: tokenHeader(TOKEN) },
      { key: `url.${SERVER}/git/git.example.test/.insteadOf`, value: 'https://git.example.test/' },
      { key: 'url.https://git.example.test/.pushInsteadOf', value: 'https://git.example.test/' }
    ])
  })

  it('sends nothing through cachew without git-through-cachew, and nothing unasked', () => {
    expect(accessConfig(restoreSettings({ gitThroughCachew: false }))).toEqual([])
  })

  it('lists the token in its raw and base64 forms as secrets', () => {
    const secrets = accessSecrets({ authorization: AUTHORIZATION, token: TOKEN })
    expect(secrets).toContain(AUTHORIZATION)
    expect(secrets).toContain(TOKEN)
    expect(tokenHeader(TOKEN)).toContain(secrets[2])
  })
})

describe('renderConfigFile', () => {
  it('writes values git reads back exactly, quotes and backslashes included', async () => {
    const file = path.join(await dirs.make('render'), 'config')
    const tricky = 'a "quoted" \\ back\\slash; # not a comment\tand tab'
    await fs.writeFile(
      file,
      renderConfigFile([
        { key: 'http.https://h.example/a.b/.extraheader', value: tricky },
        { key: 'core.plain', value: 'x' }
      ])
    )
    expect(
      git(
        path.dirname(file),
        'config',
        '--file',
        file,
        '--get',
        'http.https://h.example/a.b/.extraheader'
      )
    ).toBe(tricky)
    expect(git(path.dirname(file), 'config', '--file', file, '--get', 'core.plain')).toBe('x')
  })
})

describe('configureGitAccess / removeGitAccess', () => {
  it('puts the secrets in a private included file, never in .git/config', async () => {
    const repo = await stagedRepo()
    const settings = await settingsWithTemp()
    const { configFile } = await configureGitAccess(repo, settings)

    expect(path.isAbsolute(configFile)).toBe(true)
    expect(path.dirname(configFile)).toBe(settings.tempDir)
    expect((await fs.stat(configFile)).mode & 0o777).toBe(0o600)
    const included = await fs.readFile(configFile, 'utf8')
    expect(included).toContain(AUTHORIZATION)
    const repoConfig = await fs.readFile(path.join(repo, '.git', 'config'), 'utf8')
    for (const secret of accessSecrets(settings)) expect(repoConfig).not.toContain(secret)
    expect(git(repo, 'config', '--get-all', 'include.path')).toBe(configFile)

    // git in the repository sees the included configuration.
    expect(git(repo, 'config', '--get', `http.${SERVER}/.extraheader`)).toBe(
      `Authorization: ${AUTHORIZATION}`
    )
    expect(git(repo, 'remote', 'get-url', 'origin')).toBe(
      `${SERVER}/git/git.example.test/acme/widgets`
    )
    expect(git(repo, 'remote', 'get-url', '--push', 'origin')).toBe(UPSTREAM_URL)
  })

  it('keeps working after the repository is moved, and is undone by removeGitAccess', async () => {
    const repo = await stagedRepo()
    const settings = await settingsWithTemp()
    const { configFile } = await configureGitAccess(repo, settings)
    const moved = path.join(await dirs.make('target'), 'checkout')
    await fs.rename(repo, moved)
    expect(git(moved, 'config', '--get', `http.${SERVER}/.extraheader`)).toContain('Authorization')

    await removeGitAccess(moved, configFile)
    await expect(fs.stat(configFile)).rejects.toThrow()
    expect(git(moved, 'config', '--list', '--show-origin')).not.toContain(configFile)
    expect(git(moved, 'remote', 'get-url', 'origin')).toBe(UPSTREAM_URL)
    // A second post step, or one after the repository was deleted, is harmless.
    await removeGitAccess(moved, configFile)
    await fs.rm(moved, { recursive: true })
    await removeGitAccess(moved, configFile)
  })

  it('removes only its own include line', async () => {
    const repo = await stagedRepo()
    git(repo, 'config', '--add', 'include.path', '/somewhere/else.config')
    const { configFile } = await configureGitAccess(repo, await settingsWithTemp())
    await removeGitAccess(repo, configFile)
    expect(git(repo, 'config', '--get-all', 'include.path')).toBe('/somewhere/else.config')
  })
})
