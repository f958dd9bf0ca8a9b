/**
 * Runs one command as its own process group and measures it: wall time from spawn to exit,
 * the peak of the group's summed resident memory (polled from /proc, so a pipeline counts
 * all its processes at once), and from GNU time (the rusage wait4 returns for the command,
 * which the kernel sums over every descendant that was waited for: a pipeline's stages, the
 * git and tar the action spawns, their children) the CPU seconds, user and system, the minor
 * and major page faults, and the maximum RSS, which is that of the largest single process.
 * A command that outlives its timeout is killed with its whole group, and so is anything it
 * left running. A command can be pinned to CPUs (`taskset -c`), its children with it.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { GNU_TIME } from './tools.js'

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs: number
  /** How often /proc is read for the tree's memory. */
  pollMs?: number
  /** Run on these CPUs only (a `taskset -c` list such as '0'); children inherit it. */
  cpus?: string
}

export interface Measured {
  seconds: number
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  /** Peak of the summed RSS of every process in the group (sampled every pollMs). */
  peakTreeRssBytes: number
  /** GNU time's maximum RSS: the largest single process of the tree, exact. */
  maxProcessRssBytes?: number
  /** CPU seconds of the whole tree (GNU time; absent when it was killed before reporting). */
  userSeconds?: number
  systemSeconds?: number
  /** Page faults of the whole tree: minor (no disk: first touch, copy-on-write) and major. */
  minorFaults?: number
  majorFaults?: number
  stdout: string
  stderr: string
}

const OUTPUT_LIMIT = 256 * 1024
const PAGE_SIZE = 4096
const DEFAULT_POLL_MS = 20
/** Look for new members of the group every this many polls. */
const DISCOVER_EVERY = 4

/** Keeps the last `limit` characters of a stream. */
function collect(stream: NodeJS.ReadableStream | null, limit: number): () => string {
  let text = ''
  stream?.setEncoding('utf8')
  stream?.on('data', (chunk: string) => {
    text += chunk
    if (text.length > 2 * limit) text = text.slice(-limit)
  })
  return () => text.slice(-limit)
}

/** pgrp and RSS pages from /proc/PID/stat; undefined once the process is gone. */
function readStat(pid: number): { group: number; pages: number } | undefined {
  let stat: string
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return undefined
  }
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { group: Number(fields[2]), pages: Number(fields[21]) }
}

/**
 * Tracks the summed RSS of one process group (its leader, GNU time, excluded). Reading every
 * process's stat on each tick costs several milliseconds here, enough to slow a contender on
 * two cores; so members are re-read each tick and new ones looked for every few ticks, among
 * PIDs above the leader's only (a group's members are started after it).
 */
export class GroupRssPoller {
  private readonly members = new Set<number>()
  private ticks = 0
  peakBytes = 0

  constructor(private readonly group: number) {}

  poll(): void {
    if (this.ticks++ % DISCOVER_EVERY === 0) this.discover()
    let pages = 0
    for (const pid of this.members) {
      const stat = readStat(pid)
      if (!stat || stat.group !== this.group) this.members.delete(pid)
      else pages += stat.pages
    }
    this.peakBytes = Math.max(this.peakBytes, pages * PAGE_SIZE)
  }

  private discover(): void {
    let entries: string[]
    try {
      entries = fs.readdirSync('/proc')
    } catch {
      return
    }
    for (const entry of entries) {
      const pid = Number(entry)
      if (!(pid > this.group) || this.members.has(pid)) continue
      if (readStat(pid)?.group === this.group) this.members.add(pid)
    }
  }
}

/** Process groups running now, so an interrupted harness can take them down. */
const running = new Set<number>()

/** Kills every measured process group still running (on Ctrl-C). */
export function killRunning(): void {
  for (const pid of running) killGroup(pid)
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/**
 * Runs `command` (argv; use ['bash', '-c', ...] for a pipeline) under GNU time in a new
 * process group and measures it.
 */
export async function measure(command: string[], options: MeasureOptions): Promise<Measured> {
  const timeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-time-')), 'time.txt')
  const started = performance.now()
  const pinned = options.cpus === undefined ? command : ['taskset', '-c', options.cpus, ...command]
  const child = spawn(GNU_TIME, ['-f', TIME_FORMAT, '-o', timeFile, '--', ...pinned], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // its own process group: the poller finds the tree, a kill reaches it all
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stdout = collect(child.stdout, OUTPUT_LIMIT)
  const stderr = collect(child.stderr, OUTPUT_LIMIT)
  const pid = child.pid
  if (pid !== undefined) running.add(pid)
  let timedOut = false
  const rss = new GroupRssPoller(pid ?? -1)
  const poller = setInterval(() => rss.poll(), options.pollMs ?? DEFAULT_POLL_MS)
  const timer = setTimeout(() => {
    timedOut = true
    if (pid !== undefined) killGroup(pid)
  }, options.timeoutMs)
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        child.once('error', reject)
        child.once('exit', (code, sig) => resolve([code, sig]))
      }
    )
    const seconds = (performance.now() - started) / 1000
    clearInterval(poller)
    if (pid !== undefined) killGroup(pid) // nothing a contender started may outlive it
    await new Promise<void>(resolve => {
      if (child.stdout?.readableEnded && child.stderr?.readableEnded) resolve()
      else child.once('close', () => resolve())
      setTimeout(resolve, 2000).unref()
    })
    return {
      seconds,
      exitCode,
      signal,
      timedOut,
      peakTreeRssBytes: rss.peakBytes,
      ...readUsage(timeFile),
      stdout: stdout(),
      stderr: stderr()
    }
  } finally {
    if (pid !== undefined) running.delete(pid)
    clearInterval(poller)
    clearTimeout(timer)
    fs.rmSync(path.dirname(timeFile), { recursive: true, force: true })
  }
}

/**
 * GNU time's report, one line of name=value (after a "Command exited with non-zero status"
 * line when it failed): %M maximum RSS in KiB, %U and %S CPU seconds, %R and %F faults.
 */
const TIME_FORMAT = 'maxrss=%M user=%U sys=%S minflt=%R majflt=%F'

type Usage = Pick<
  Measured,
  'maxProcessRssBytes' | 'userSeconds' | 'systemSeconds' | 'minorFaults' | 'majorFaults'
>

/** The usage GNU time wrote; nothing when the command was killed before time could write it. */
export function parseUsage(report: string): Usage {
  const line = report
    .trim()
    .split('\n')
    .reverse()
    .find(l => l.startsWith('maxrss='))
  if (!line) return {}
  const values = new Map<string, number>()
  for (const pair of line.split(' ')) {
    const [name, value] = pair.split('=')
    const n = Number(value)
    if (value !== undefined && value !== '' && Number.isFinite(n)) values.set(name, n)
  }
  const kib = values.get('maxrss')
  return {
    maxProcessRssBytes: kib !== undefined && kib > 0 ? kib * 1024 : undefined,
    userSeconds: values.get('user'),
    systemSeconds: values.get('sys'),
    minorFaults: values.get('minflt'),
    majorFaults: values.get('majflt')
  }
}

function readUsage(file: string): Usage {
  try {
    return parseUsage(fs.readFileSync(file, 'utf8'))
  } catch {
    return {}
  }
}

/** Adds up counters of steps run one after another; undefined when any step lacks one. */
function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b
}

/** Runs commands one after another as one sample (e.g. aria2c, then tar): times add up. */
export async function measureSteps(
  steps: { name: string; command: string[] }[],
  options: MeasureOptions
): Promise<{ total: Measured; phases: Record<string, number> }> {
  const phases: Record<string, number> = {}
  let total: Measured | undefined
  for (const step of steps) {
    const result = await measure(step.command, options)
    phases[step.name] = result.seconds
    total = total
      ? {
          ...result,
          seconds: total.seconds + result.seconds,
          peakTreeRssBytes: Math.max(total.peakTreeRssBytes, result.peakTreeRssBytes),
          maxProcessRssBytes: Math.max(
            total.maxProcessRssBytes ?? 0,
            result.maxProcessRssBytes ?? 0
          ),
          userSeconds: sum(total.userSeconds, result.userSeconds),
          systemSeconds: sum(total.systemSeconds, result.systemSeconds),
          minorFaults: sum(total.minorFaults, result.minorFaults),
          majorFaults: sum(total.majorFaults, result.majorFaults),
          stdout: total.stdout + result.stdout,
          stderr: total.stderr + result.stderr
        }
      : result
    if (result.exitCode !== 0) break
  }
  return { total: total!, phases }
}
