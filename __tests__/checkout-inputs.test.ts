/**
 * The pieces of actions/checkout's inputs that can be checked against the real tools: the
 * filter-spec check against git's own parser, the ssh command against ssh's configuration
 * parser (`ssh -G`), github.com's host keys against the fingerprints GitHub publishes, and the
 * lines the log shows.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {
  describeSuperseded,
  filterSpecProblem,
  sshOriginUrl,
  SUPERSEDED
} from '../src/checkout-inputs.js'
import { GITHUB_HOST_KEYS, sshCommand } from '../src/git/access.js'
import { git } from './git-helpers.js'
import { tempDirectory } from './support/temp.js'

describe('filterSpecProblem', () => {
  const specs = [
    'blob:none',
    'blob:limit=1k',
    'blob:limit=1K',
    'blob:limit=10',
    'blob:limit=2g',
    'blob:limit=1t',
    'blob:limit=',
    'tree:0',
    'tree:3',
    'tree:-1',
    'object:type=blob',
    'object:type=tag',
    'object:type=foo',
    'sparse:oid=HEAD:sparse.txt',
    'sparse:oid=',
    'combine:blob:none+tree:1',
    'combine:blob:none',
    'combine:blob%3Anone+tree:1',
    'combine:blob:none+bogus',
    'BLOB:NONE',
    'none',
    'sparse:path=x',
    ''
  ]

  it('accepts exactly the filters git accepts', async () => {
    const repo = await tempDirectory('filter-')
    git(repo, 'init', '--quiet', '--initial-branch=main')
    await fs.writeFile(path.join(repo, 'sparse.txt'), 'src/\n')
    git(repo, 'add', '.')
    git(repo, 'commit', '--quiet', '-m', 'one')
    const verdicts = specs.map(spec => {
      const result = spawnSync('git', ['rev-list', '--objects', `--filter=${spec}`, 'HEAD'], {
        cwd: repo,
        encoding: 'utf8'
      })
      return { spec, git: result.status === 0, ours: filterSpecProblem(spec) === undefined }
    })
    // Both kinds are among the cases, so the comparison can fail either way.
    expect(verdicts.filter(v => v.git).length).toBeGreaterThan(5)
    expect(verdicts.filter(v => !v.git).length).toBeGreaterThan(5)
    for (const verdict of verdicts) expect(verdict.ours).toBe(verdict.git)
  })

  it('says what filters there are', () => {
    expect(filterSpecProblem('blob:nothing')).toBe(
      "'blob:nothing' is not a filter; use blob:none, blob:limit=<n>[kmg], tree:<depth>, " +
        'object:type=<type>, sparse:oid=<blob> or combine:<filter>+<filter>'
    )
    expect(filterSpecProblem('combine:blob%ZZnone')).toBe(
      "'blob%ZZnone' is not percent-encoded correctly"
    )
  })
})

describe('the log lines', () => {
  it('name every superseded input and what the snapshot gives instead, in one line', () => {
    const line = describeSuperseded([
      SUPERSEDED.fetchDepth(0),
      SUPERSEDED.fetchTags,
      SUPERSEDED.filter('blob:none')
    ])
    expect(line).toBe(
      'The snapshot is a full clone, so these actions/checkout inputs change nothing: ' +
        'fetch-depth: 0 (all history is there), fetch-tags: true (every tag is there), ' +
        'filter: blob:none (every object is there, not a partial clone).'
    )
    expect(line).not.toContain('\n')
    expect(describeSuperseded([SUPERSEDED.fetchDepth(50)])).toBe(
      'The snapshot is a full clone, so this actions/checkout input changes nothing: ' +
        'fetch-depth: 50 (all history is there).'
    )
    expect(describeSuperseded([])).toBeUndefined()
  })
})

describe('ssh', () => {
  it('gives origin the ssh URL checkout gives it: the host without its port', () => {
    expect(sshOriginUrl('https://github.com/acme/widgets', 'git')).toBe(
      'git@github.com:acme/widgets.git'
    )
    expect(sshOriginUrl('https://GHE.example.com:8443/group/sub/repo', 'deploy')).toBe(
      'deploy@ghe.example.com:group/sub/repo.git'
    )
  })

  it('builds a command that ssh parses as meant, through the shell, quotes included', async () => {
    const dir = path.join(await tempDirectory('ssh-cmd-'), "it's-here")
    const files = { key: path.join(dir, 'k.ssh-key'), knownHosts: path.join(dir, 'k.known_hosts') }
    // ssh lists an identity file only when it can read it.
    await fs.mkdir(dir)
    await fs.writeFile(files.key, '', { mode: 0o600 })
    for (const strict of [true, false]) {
      // git runs core.sshCommand through the shell, with the host (and command) appended.
      const command = sshCommand(files, strict).replace(/^ssh /, 'ssh -G ')
      const result = spawnSync('sh', ['-c', `${command} git@example.com`], { encoding: 'utf8' })
      expect(result.status).toBe(0)
      const config = result.stdout.split('\n')
      expect(config).toContain(`identityfile ${files.key}`)
      expect(config).toContain('user git')
      // Ours, then the user's own (ssh expands the ~), in that order.
      const knownHosts = config.find(line => line.startsWith('userknownhostsfile '))
      expect(knownHosts).toMatch(/^userknownhostsfile (\S+) \/\S+\/\.ssh\/known_hosts$/)
      expect(knownHosts?.split(' ')[1]).toBe(files.knownHosts)
      if (strict)
        expect(config).toEqual(
          expect.arrayContaining(['stricthostkeychecking true', 'checkhostip no'])
        )
    }
    // Not strict: host key checking is left to ssh's own configuration, as with checkout.
    expect(sshCommand(files, false)).not.toMatch(/StrictHostKeyChecking|CheckHostIP/)
  })

  it("trusts github.com's keys as GitHub publishes them (their SHA256 fingerprints)", async () => {
    const file = path.join(await tempDirectory('hostkeys-'), 'known_hosts')
    await fs.writeFile(file, GITHUB_HOST_KEYS.join('\n') + '\n')
    const result = spawnSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' })
    expect(result.status).toBe(0)
    const fingerprints = result.stdout
      .trim()
      .split('\n')
      .map(line => line.split(' ').slice(1).join(' '))
      .sort()
    // From https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/githubs-ssh-key-fingerprints
    expect(fingerprints).toEqual(
      [
        'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s github.com (RSA)',
        'SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM github.com (ECDSA)',
        'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU github.com (ED25519)'
      ].sort()
    )
  })
})
