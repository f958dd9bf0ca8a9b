/**
 * The external programs the harness drives, checked before anything runs, so a missing one
 * is reported once, with the Debian packages that provide it, instead of as a failed sample
 * halfway through.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { FilesystemChoice } from './options.js'

interface Tool {
  command: string
  /** Debian package that provides it. */
  pkg: string
  why: string
}

export const GNU_TIME = '/usr/bin/time'

const TOOLS: Tool[] = [
  { command: 'git', pkg: 'git', why: 'generates the repository, serves and clones it' },
  { command: 'tar', pkg: 'tar', why: 'makes and extracts the snapshots' },
  { command: 'zstd', pkg: 'zstd', why: 'one-frame snapshots and the CLI decoders' },
  { command: 'pzstd', pkg: 'zstd', why: "the cachew server's compressor" },
  { command: 'nginx', pkg: 'nginx', why: 'serves the snapshots' },
  { command: 'curl', pkg: 'curl', why: 'the curl | zstd | tar contender' },
  { command: 'aria2c', pkg: 'aria2', why: 'the aria2c contender' },
  {
    command: GNU_TIME,
    pkg: 'time',
    why: "GNU time: each process tree's CPU seconds, page faults and largest RSS"
  },
  { command: 'taskset', pkg: 'util-linux', why: 'pins the pinned/ contenders to one core' },
  { command: 'find', pkg: 'findutils', why: 'lists restored trees for the checks' }
]

const MOUNT_TOOLS: Tool[] = [
  { command: 'mount', pkg: 'mount', why: 'mounts the benchmark filesystem' },
  { command: 'umount', pkg: 'mount', why: 'unmounts it' }
]

const EXT4_TOOLS: Tool[] = [
  { command: 'mkfs.ext4', pkg: 'e2fsprogs', why: 'formats the ext4 image' },
  { command: 'fallocate', pkg: 'util-linux', why: 'reserves the image file' }
]

function onPath(command: string): boolean {
  if (command.includes('/')) return isExecutable(command)
  const dirs = (process.env.PATH ?? '').split(path.delimiter)
  return dirs.some(dir => dir !== '' && isExecutable(path.join(dir, command)))
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** git http-backend lives in git's exec path, not on PATH. */
function hasGitHttpBackend(): boolean {
  try {
    const execPath = execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim()
    return isExecutable(path.join(execPath, 'git-http-backend'))
  } catch {
    return false
  }
}

/**
 * Returns a message naming every missing tool and the apt-get line that installs them, or
 * undefined when everything is there.
 */
export function missingTools(filesystem: FilesystemChoice): string | undefined {
  const wanted = [...TOOLS]
  if (filesystem !== 'dir') wanted.push(...MOUNT_TOOLS)
  if (filesystem === 'ext4-loop') wanted.push(...EXT4_TOOLS)
  const missing = wanted.filter(tool => !onPath(tool.command))
  if (onPath('git') && !hasGitHttpBackend()) {
    missing.push({
      command: 'git-http-backend',
      pkg: 'git',
      why: 'serves the git clone contenders'
    })
  }
  if (missing.length === 0) return undefined
  const packages = [...new Set(missing.map(tool => tool.pkg))].sort()
  const lines = missing.map(tool => `  ${tool.command} (package ${tool.pkg}): ${tool.why}`)
  return [
    'The benchmark needs these programs, which are missing:',
    ...lines,
    `Install them with: apt-get install -y ${packages.join(' ')}`
  ].join('\n')
}

/** The first line `command --version` (or the given flag) prints, for the results. */
export function toolVersion(command: string, flag = '--version'): string {
  const result = spawnSync(command, [flag], { encoding: 'utf8' })
  // nginx -v answers on stderr
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`
  return (
    text
      .split('\n')
      .find(line => line.trim() !== '')
      ?.trim() ?? 'unknown'
  )
}
