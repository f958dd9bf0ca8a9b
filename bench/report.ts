/**
 * Turns the samples into the published results: per-contender medians and ranges (wall time,
 * CPU seconds, page faults, memory), ratios to `curl | zstd -dc | tar -x` (with and without
 * the first `git status`) of the same repository and scenario, the issue's targets judged met
 * or missed per repository, results.json (everything, every sample) and results.md (the
 * tables the README shows).
 */
import * as fsp from 'node:fs/promises'
import {
  DEFAULT_CONCURRENCY,
  MEMORY_TARGET_CONCURRENCY,
  PINNED_CPUS,
  type Contender,
  type Scenario,
  type SampleOutcome
} from './contenders.js'
import type { FilesystemDescription } from './filesystem.js'
import type { RepoShape } from './generate.js'
import type { BenchOptions } from './options.js'
import type { RepositoryId } from './repositories.js'
import type { FullClone, MirrorInfo, SnapshotSet } from './snapshots.js'

export interface Sample extends Partial<SampleOutcome> {
  repetition: number
  /** Position in the whole run (the order samples were taken). */
  sequence: number
  ok: boolean
  error?: string
}

export interface Summary {
  samples: number
  failures: number
  medianSeconds?: number
  minSeconds?: number
  maxSeconds?: number
  /** Median / the same repository's and scenario's curl | zstd | tar median. */
  ratioToCurl?: number
  /** Median / the same repository's and scenario's curl | zstd | tar && git status median. */
  ratioToCurlStatus?: number
  /** Pinned contenders: median / the same contender's unpinned (fast) median. */
  ratioToUnpinned?: number
  /** Median of user + system CPU seconds of the whole process tree, and of each. */
  medianCpuSeconds?: number
  medianUserSeconds?: number
  medianSystemSeconds?: number
  medianMinorFaults?: number
  medianMajorFaults?: number
  medianPeakTreeRssBytes?: number
  maxPeakTreeRssBytes?: number
  maxProcessRssBytes?: number
  /** Median of each phase, for contenders made of steps. */
  phases?: Record<string, number>
  /** Compressed MiB/s over the download: its download phase, the engine's own transfer time, or the whole run. */
  downloadMiBps?: number
  /** Medians of what the contender reported about itself (the action's outputs, the engine's JSON). */
  details?: Record<string, number>
  /** Which time downloadMiBps divides by. */
  downloadTime?: 'download phase' | 'in-process transfer' | 'whole run'
}

export interface ContenderResult {
  id: string
  repository: RepositoryId
  scenario: Scenario
  name: string
  kind: Contender['kind']
  label: string
  bytes: number
  summary: Summary
  samples: Sample[]
}

export interface Target {
  repository: RepositoryId
  name: string
  /** How the measured value was computed. */
  basis: string
  value?: number
  limit: number
  /** 'max': value must be ≤ limit; 'min': value must be ≥ limit. */
  direction: 'max' | 'min'
  /** A ratio (shown as 0.92×) or megabytes. */
  unit: 'ratio' | 'MB'
  pass?: boolean
  /** Why it was not measured, when that is known (a contender skipped on this repository). */
  note?: string
}

const MIB = 1024 * 1024

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function summarize(
  contender: Pick<Contender, 'bytes' | 'kind'>,
  samples: Sample[]
): Summary {
  const ok = samples.filter(s => s.ok && s.seconds !== undefined)
  const summary: Summary = { samples: samples.length, failures: samples.length - ok.length }
  if (ok.length === 0) return summary
  const seconds = ok.map(s => s.seconds!)
  summary.medianSeconds = median(seconds)
  summary.minSeconds = Math.min(...seconds)
  summary.maxSeconds = Math.max(...seconds)
  const medianOf = (values: Array<number | undefined>): number | undefined => {
    const known = values.filter((v): v is number => v !== undefined)
    return known.length > 0 ? median(known) : undefined
  }
  summary.medianCpuSeconds = medianOf(
    ok.map(s =>
      s.userSeconds !== undefined && s.systemSeconds !== undefined
        ? s.userSeconds + s.systemSeconds
        : undefined
    )
  )
  summary.medianUserSeconds = medianOf(ok.map(s => s.userSeconds))
  summary.medianSystemSeconds = medianOf(ok.map(s => s.systemSeconds))
  summary.medianMinorFaults = medianOf(ok.map(s => s.minorFaults))
  summary.medianMajorFaults = medianOf(ok.map(s => s.majorFaults))
  const peaks = ok.map(s => s.peakTreeRssBytes ?? 0)
  summary.medianPeakTreeRssBytes = median(peaks)
  summary.maxPeakTreeRssBytes = Math.max(...peaks)
  summary.maxProcessRssBytes = Math.max(...ok.map(s => s.maxProcessRssBytes ?? 0))
  const phaseNames = [...new Set(ok.flatMap(s => Object.keys(s.phases ?? {})))]
  if (phaseNames.length > 0) {
    summary.phases = Object.fromEntries(
      phaseNames.map(name => [name, median(ok.map(s => s.phases?.[name] ?? 0))])
    )
  }
  const detailNames = [...new Set(ok.flatMap(s => Object.keys(s.details ?? {})))]
  const numeric = detailNames.filter(name => ok.every(s => typeof s.details?.[name] === 'number'))
  if (numeric.length > 0) {
    summary.details = Object.fromEntries(
      numeric.map(name => [name, median(ok.map(s => s.details![name] as number))])
    )
  }
  if (contender.bytes > 0) {
    // The engine times its own transfer, without the process start and module load that a
    // download tool's throughput would not include either.
    const transfer = ok.map(s => s.details?.seconds).filter(v => typeof v === 'number')
    if (summary.phases?.download !== undefined) {
      summary.downloadMiBps = contender.bytes / MIB / summary.phases.download
      summary.downloadTime = 'download phase'
    } else if (contender.kind === 'download' && transfer.length === ok.length) {
      summary.downloadMiBps = contender.bytes / MIB / median(transfer)
      summary.downloadTime = 'in-process transfer'
    } else {
      summary.downloadMiBps = contender.bytes / MIB / summary.medianSeconds
      summary.downloadTime = 'whole run'
    }
  }
  return summary
}

/** The same contender elsewhere: `${repository}/${scenario}/${name}`. */
function idOf(repository: RepositoryId, scenario: Scenario, name: string): string {
  return `${repository}/${scenario}/${name}`
}

/** Fills in each contender's ratios to its repository's and scenario's baselines. */
export function addRatios(results: ContenderResult[]): void {
  for (const result of results) {
    const own = result.summary.medianSeconds
    if (own === undefined) continue
    const of = (scenario: Scenario, name: string) =>
      medianOf(results, idOf(result.repository, scenario, name))
    const curl = of(result.scenario, 'curl-zstd-tar')
    const curlStatus = of(result.scenario, 'curl-zstd-tar-status')
    if (curl) result.summary.ratioToCurl = own / curl
    if (curlStatus) result.summary.ratioToCurlStatus = own / curlStatus
    const unpinned = result.scenario === 'pinned' ? of('fast', result.name) : undefined
    if (unpinned) result.summary.ratioToUnpinned = own / unpinned
  }
}

function find(results: ContenderResult[], id: string): ContenderResult | undefined {
  return results.find(r => r.id === id)
}

function medianOf(results: ContenderResult[], id: string): number | undefined {
  return find(results, id)?.summary.medianSeconds
}

function judge(target: Target): Target {
  if (target.value === undefined || !Number.isFinite(target.value)) return target
  const pass =
    target.direction === 'max' ? target.value <= target.limit : target.value >= target.limit
  return { ...target, pass }
}

const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined)

/** The largest peak RSS, tree or single process, over every sample of these contenders, in MB. */
function peakRssMB(results: ContenderResult[], ids: string[]): number | undefined {
  const peaks = results
    .filter(r => ids.includes(r.id))
    .map(r => Math.max(r.summary.maxPeakTreeRssBytes ?? 0, r.summary.maxProcessRssBytes ?? 0))
  return peaks.length > 0 && Math.max(...peaks) > 0 ? Math.max(...peaks) / 1e6 : undefined
}

const RSS_BASIS =
  'largest of: summed RSS of its process tree (polled), GNU time max RSS; both scenarios, every sample (MB = 10^6 bytes)'

/**
 * The issue's targets on one repository (generated or real), each computed from medians of
 * this run: time against `curl | zstd | tar && git status` (the clean index the action
 * delivers) and `git clone --depth=1 && git status` (actions/checkout's default), CPU, the
 * throttled case and memory; plus the targets earlier runs were judged by, kept as they were.
 */
function repositoryTargets(
  repository: RepositoryId,
  results: ContenderResult[],
  fullClone?: FullClone
): Target[] {
  const id = (scenario: Scenario, name: string) => idOf(repository, scenario, name)
  const m = (scenario: Scenario, name: string) => medianOf(results, id(scenario, name))
  const cpu = (scenario: Scenario, name: string) =>
    find(results, id(scenario, name))?.summary.medianCpuSeconds
  const action = `action-c${DEFAULT_CONCURRENCY}`
  const memory = `action-c${MEMORY_TARGET_CONCURRENCY}`
  const targets: Target[] = []
  const add = (target: Omit<Target, 'repository' | 'direction' | 'unit'> & Partial<Target>) =>
    targets.push({ repository, direction: 'max', unit: 'ratio', ...target })

  add({
    name: 'action (default inputs) time ≤ 1.0 × curl | zstd | tar && git status',
    basis: `median ${id('fast', action)} ÷ median ${id('fast', 'curl-zstd-tar-status')}`,
    value: ratio(m('fast', action), m('fast', 'curl-zstd-tar-status')),
    limit: 1.0
  })
  add({
    name: 'action (default inputs) time ≤ 0.5 × git clone --depth=1 && git status',
    basis: `median ${id('fast', action)} ÷ median ${id('fast', 'git-clone-depth1-status')}`,
    value: ratio(m('fast', action), m('fast', 'git-clone-depth1-status')),
    limit: 0.5
  })
  add({
    name: "action (default inputs) CPU ≤ 1.3 × curl | zstd | tar && git status's",
    basis:
      `median user+sys seconds of ${id('fast', action)} ÷ those of ${id('fast', 'curl-zstd-tar-status')} ` +
      '(whole process trees, GNU time)',
    value: ratio(cpu('fast', action), cpu('fast', 'curl-zstd-tar-status')),
    limit: 1.3
  })
  add({
    name: `throttled: action (c${DEFAULT_CONCURRENCY}) time ≤ 0.30 × curl | zstd | tar (one stream)`,
    basis: `median ${id('throttled', action)} ÷ median ${id('throttled', 'curl-zstd-tar')}`,
    value: ratio(m('throttled', action), m('throttled', 'curl-zstd-tar')),
    limit: 0.3
  })
  add({
    name: `action at concurrency ${MEMORY_TARGET_CONCURRENCY} × 16 MiB chunks: peak RSS ≤ 120 MB`,
    basis: `${id('fast', memory)} and ${id('throttled', memory)}: ${RSS_BASIS}`,
    value: peakRssMB(results, [id('fast', memory), id('throttled', memory)]),
    limit: 120,
    unit: 'MB'
  })

  // The targets earlier runs were judged by: kept, never relaxed.
  if (repository === 'generated') {
    const engine = find(results, id('throttled', 'download-engine-c8'))?.summary.downloadMiBps
    const aria2 = find(results, id('throttled', 'aria2c-then-tar'))?.summary.downloadMiBps
    add({
      name: "throttled: action's download throughput ≥ 0.8 × aria2c's",
      basis:
        `MiB/s of ${id('throttled', 'download-engine-c8')} (its in-process transfer time) ÷ ` +
        'MiB/s of the aria2c download step (its process time)',
      value: ratio(engine, aria2),
      limit: 0.8,
      direction: 'min'
    })
  }
  add({
    name: `unthrottled: action (c${DEFAULT_CONCURRENCY}) time ≤ 1.0 × curl | zstd | tar`,
    basis: `median ${id('fast', action)} ÷ median ${id('fast', 'curl-zstd-tar')}`,
    value: ratio(m('fast', action), m('fast', 'curl-zstd-tar')),
    limit: 1.0
  })
  if (repository === 'generated') {
    const halves = actionHalves(results, repository)
    add({
      name: `unthrottled: action (c${DEFAULT_CONCURRENCY}) time ≤ 1.15 × max(download only, decode+extract only)`,
      basis: `median ${id('fast', action)} ÷ max(${halves.basis})`,
      value: ratio(m('fast', action), halves.seconds),
      limit: 1.15
    })
  }
  const clone = fullClone && 'args' in fullClone ? fullClone.args.join(' ') : ''
  add({
    name: `unthrottled: action (c${DEFAULT_CONCURRENCY}) ≥ 5 × faster than git clone${clone ? ` ${clone}` : ''} (local http-backend)`,
    basis: `median ${id('fast', 'git-clone')} ÷ median ${id('fast', action)}`,
    value: ratio(m('fast', 'git-clone'), m('fast', action)),
    limit: 5,
    direction: 'min',
    note:
      fullClone && 'skipped' in fullClone
        ? 'git clone skipped: the mirror lacks objects (see the repository above)'
        : undefined
  })
  add({
    name: `action (c${DEFAULT_CONCURRENCY}) peak RSS ≤ 150 MB`,
    basis: RSS_BASIS,
    value: peakRssMB(results, [id('fast', action), id('throttled', action)]),
    limit: 150,
    unit: 'MB'
  })
  return targets
}

/** The small repository's target: its fixed costs against the tools'. */
function smallTargets(results: ContenderResult[]): Target[] {
  const id = (name: string) => idOf('small', 'fast', name)
  const action = id(`action-c${DEFAULT_CONCURRENCY}`)
  return [
    {
      repository: 'small',
      name: 'small repository: action (default inputs) time ≤ 1.5 × curl | zstd | tar && git status',
      basis: `median ${action} ÷ median ${id('curl-zstd-tar-status')}`,
      value: ratio(medianOf(results, action), medianOf(results, id('curl-zstd-tar-status'))),
      limit: 1.5,
      direction: 'max',
      unit: 'ratio'
    }
  ]
}

/** The issue's targets on every repository of the run, each computed from this run's medians. */
export function computeTargets(
  results: ContenderResult[],
  repositories: Array<Pick<RepositoryRecord, 'id' | 'fullClone'>>
): Target[] {
  const targets: Target[] = []
  for (const repository of repositories) {
    if (repository.id === 'small') targets.push(...smallTargets(results))
    else targets.push(...repositoryTargets(repository.id, results, repository.fullClone))
  }
  return targets.map(judge)
}

/** The action's own halves when measured, the CLI's otherwise. */
function actionHalves(
  results: ContenderResult[],
  repository: RepositoryId
): { seconds?: number; basis: string } {
  const pick = (preferred: string, fallback: string) => {
    const a = idOf(repository, 'fast', preferred)
    return medianOf(results, a) !== undefined ? a : idOf(repository, 'fast', fallback)
  }
  const download = pick('download-engine-c8', 'download-curl')
  const extract = pick('extract-engine', 'extract-cli')
  const a = medianOf(results, download)
  const b = medianOf(results, extract)
  return {
    seconds: a !== undefined && b !== undefined ? Math.max(a, b) : undefined,
    basis: `median ${download}, median ${extract}`
  }
}

// ---------------------------------------------------------------- markdown

function seconds(value?: number): string {
  return value === undefined ? '–' : value.toFixed(2)
}

function megabytes(bytes?: number): string {
  return bytes === undefined || bytes === 0 ? '–' : `${Math.round(bytes / 1e6)}`
}

function times(value?: number): string {
  return value === undefined ? '–' : `${value.toFixed(2)}×`
}

function count(value?: number): string {
  return value === undefined ? '–' : Math.round(value).toLocaleString('en-US')
}

function cpu(summary: Summary): string {
  const { medianCpuSeconds: total, medianUserSeconds: user, medianSystemSeconds: sys } = summary
  if (total === undefined) return '–'
  return user !== undefined && sys !== undefined
    ? `${total.toFixed(2)} (${user.toFixed(2)} + ${sys.toFixed(2)})`
    : total.toFixed(2)
}

function notes(result: ContenderResult): string {
  const parts: string[] = []
  const { summary } = result
  if (summary.ratioToUnpinned !== undefined) {
    parts.push(`${summary.ratioToUnpinned.toFixed(2)}× its unpinned (2-core) time`)
  }
  if (summary.phases) {
    parts.push(
      Object.entries(summary.phases)
        .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
        .join(', ')
    )
  }
  if (summary.downloadMiBps !== undefined && (result.kind === 'download' || summary.phases)) {
    const over = summary.downloadTime === 'in-process transfer' ? ' (in-process transfer time)' : ''
    parts.push(`${summary.downloadMiBps.toFixed(0)} MiB/s${over}`)
  }
  const own = summary.details
  if (result.kind === 'restore' && own?.seconds !== undefined) {
    const overlap = own['download-seconds'] ?? 0
    parts.push(
      `own timing: ${own.seconds.toFixed(2)} s, of which download+extract ${overlap.toFixed(2)} s`
    )
  }
  if (own?.blobs !== undefined && own['pack-bytes'] !== undefined) {
    // what a partial clone holds (verify.ts checks it is only the checked-out files' blobs)
    parts.push(`holds ${count(own.blobs)} blobs, ${megabytes(own['pack-bytes'])} MB of packs`)
  }
  if (summary.failures > 0) parts.push(`**${summary.failures} of ${summary.samples} failed**`)
  return parts.join('; ')
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|')
}

function contenderTable(results: ContenderResult[]): string[] {
  const lines = [
    '| contender | median s | min–max s | × curl \\| zstd \\| tar | × curl \\| zstd \\| tar && git status | CPU s (user + sys) | minor faults | peak RSS MB (tree) | max RSS MB (one process) | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const r of results) {
    const s = r.summary
    const range =
      s.minSeconds === undefined ? '–' : `${seconds(s.minSeconds)}–${seconds(s.maxSeconds)}`
    lines.push(
      `| ${escape(r.label)} | ${seconds(s.medianSeconds)} | ${range} | ${times(s.ratioToCurl)} | ${times(s.ratioToCurlStatus)} | ${cpu(s)} | ${count(s.medianMinorFaults)} | ${megabytes(s.maxPeakTreeRssBytes)} | ${megabytes(s.maxProcessRssBytes)} | ${notes(r)} |`
    )
  }
  return lines
}

function targetTable(targets: Target[], titles: Map<string, string>): string[] {
  const lines = ['| repository | target | measured | result |', '| --- | --- | ---: | --- |']
  for (const t of targets) {
    const value =
      t.value === undefined
        ? 'not measured'
        : t.unit === 'MB'
          ? `${t.value.toFixed(0)} MB`
          : `${t.value.toFixed(2)}×`
    const result = t.pass === undefined ? (t.note ?? '–') : t.pass ? 'met' : '**missed**'
    const repository = titles.get(t.repository) ?? t.repository
    lines.push(`| ${escape(repository)} | ${escape(t.name)} | ${value} | ${escape(result)} |`)
  }
  return lines
}

/** One repository of a run, without this machine's paths (results are committed). */
export interface RepositoryRecord {
  id: RepositoryId
  title: string
  source: MirrorInfo['source']
  upstreamUrl: string
  branch: string
  commit: string
  commits: number
  trackedFiles: number
  packBytes: number
  fullClone: FullClone
  shape?: RepoShape
  snapshots: SnapshotSet
}

/** Everything one run measured and ran on: results.json, and all results.md is made from. */
export interface RunRecord {
  generatedAt: string
  /** The command that reruns it. */
  command: string
  durationSeconds: number
  machine: { cpu: string; cores: number; memoryBytes: number; kernel: string; os: string }
  loadAverage: { start: number[]; end: number[] }
  filesystem: FilesystemDescription & { choice: string }
  node: string
  tools: Record<string, string>
  options: BenchOptions
  /** How the action's halves were run. */
  engine: string
  repositories: RepositoryRecord[]
  contenders: ContenderResult[]
  targets: Target[]
}

/** A record written before runs had several repositories: one generated repository. */
interface LegacyRecord extends Omit<RunRecord, 'repositories'> {
  repositories?: RepositoryRecord[]
  repository?: {
    commit: string
    commits: number
    trackedFiles: number
    packBytes: number
    shape?: RepoShape
  }
  snapshots?: SnapshotSet
}

/** Gives a record of the one-repository runs the shape of today's, so --render still reads it. */
function upgrade(record: LegacyRecord): RunRecord {
  if (record.repositories) return record as RunRecord
  const { repository: repo, snapshots, ...rest } = record
  if (!repo || !snapshots) throw new Error('the record names no repository')
  const generated: RepositoryRecord = {
    id: 'generated',
    title: `generated, ${repo.trackedFiles} files`,
    source: 'generated',
    upstreamUrl: 'https://github.com/bench/monorepo',
    branch: 'main',
    commit: repo.commit,
    commits: repo.commits,
    trackedFiles: repo.trackedFiles,
    packBytes: repo.packBytes,
    fullClone: { args: [], commits: repo.commits },
    shape: repo.shape,
    snapshots
  }
  const contenders = record.contenders.map(c => {
    if (c.repository) return c
    const name = c.id.slice(c.id.indexOf('/') + 1)
    return { ...c, repository: 'generated' as const, name, id: `generated/${c.id}` }
  })
  return { ...rest, repositories: [generated], contenders }
}

/** (Re)computes every summary, ratio and target from the samples. */
export function finalize(input: RunRecord | LegacyRecord): RunRecord {
  const record = upgrade(input as LegacyRecord)
  const contenders = record.contenders.map(c => ({ ...c, summary: summarize(c, c.samples) }))
  addRatios(contenders)
  return { ...record, contenders, targets: computeTargets(contenders, record.repositories) }
}

/** Other work on the machine slows every contender: the results say how busy it was. */
function loadLine(record: RunRecord): string {
  const { start, end } = record.loadAverage
  const busy = Math.max(start[0], end[0]) > record.machine.cores / 2
  return (
    `- Load average (1 min): ${start[0].toFixed(1)} at the start, ${end[0]?.toFixed(1) ?? '?'} at the end, on ${record.machine.cores} cores` +
    (busy ? ': **the machine was busy with other work; these times are inflated and noisy**.' : '.')
  )
}

function repositoryLine(repo: RepositoryRecord): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`
  const snaps = repo.snapshots
  const what =
    repo.source === 'mirror'
      ? `a real repository's bare mirror (${repo.upstreamUrl}, ${repo.branch} at ${repo.commit.slice(0, 12)})`
      : `generated by bench/generate.ts`
  const clone =
    'skipped' in repo.fullClone
      ? ` Full-history git clone skipped: ${repo.fullClone.skipped}.`
      : repo.fullClone.note
        ? ` Its "git clone" contender clones the ${repo.fullClone.note}.`
        : ''
  return (
    `- **${repo.title}** (${what}): ${repo.trackedFiles} files, ${repo.commits} commits, objects ${mb(repo.packBytes)}; ` +
    `snapshot tar ${mb(snaps.tarBytes)}, ${snaps.tarEntries} entries; ` +
    `\`tar | pzstd\` ${mb(snaps.files.pzstd.bytes)} (${snaps.files.pzstd.frames} frames), \`tar | zstd -T0\` ${mb(snaps.files.zstd.bytes)} (${snaps.files.zstd.frames} frame).${clone}`
  )
}

function headerLines(record: RunRecord): string[] {
  const { machine: m, filesystem: d, options } = record
  return [
    `Run ${record.generatedAt.slice(0, 10)} with \`${record.command}\` in ${(record.durationSeconds / 60).toFixed(1)} min: ` +
      `${options.repetitions} repetitions, contenders alternating; median and min–max wall time per contender.`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 1024 ** 3).toFixed(0)} GiB, ${m.os}, Linux ${m.kernel}; Node ${record.node}.`,
    loadLine(record),
    `- Filesystem for the restores: ${d.fstype} (${d.options}) on ${d.source}: ${d.note}. Every sample restores into a fresh directory; the previous tree is deleted and \`sync\` runs outside the timed region.`,
    '- Repositories, each made into snapshots as cachew makes them (`git clone` of the mirror, origin set to the upstream URL, `tar -cpf - -C DIR . | pzstd`, and the one-frame `zstd -T0` variant):',
    ...record.repositories.map(repo => `  ${repositoryLine(repo)}`),
    `- Servers: nginx on 127.0.0.1, unthrottled and with \`limit_rate ${options.rateMBps}m\` (${options.rateMBps} MiB/s per connection); git clone from \`git http-backend\` behind a small CGI bridge. Pinned: the unthrottled server, with the contender and every process it starts on CPU ${PINNED_CPUS} (\`taskset -c ${PINNED_CPUS}\`); the servers are not pinned.`,
    `- CPU s and minor faults: GNU time's rusage of the contender's whole process tree (wait4 sums every descendant that was waited for: a pipeline's stages, the git and tar the action starts), medians. Peak RSS (tree): the summed RSS of the tree, polled from /proc every 20 ms. Max RSS (one process): GNU time's maximum RSS, the tree's largest process.`,
    `- The action runs as a runner runs it (\`node dist/index.js\`, inputs as INPUT_* with action.yml's defaults, GITHUB_SHA at the snapshot's commit); its default inputs are concurrency ${DEFAULT_CONCURRENCY}. \`&& git status\` contenders end with the first \`git status\`, which rehashes the tree and writes a clean index, as the action delivers it. Its halves run alone from \`bench/engine.ts\` (${record.engine}).`
  ]
}

const SCENARIOS: Scenario[] = ['fast', 'throttled', 'pinned']

export function renderMarkdown(record: RunRecord): string {
  const titles: Record<Scenario, string> = {
    fast: 'Unthrottled (loopback)',
    throttled: `Throttled: ${record.options.rateMBps} MiB/s per connection`,
    pinned: `Pinned to one core (\`taskset -c ${PINNED_CPUS}\`), unthrottled`
  }
  const lines: string[] = ['# Benchmark results', '', ...headerLines(record), '']
  for (const repo of record.repositories) {
    const mine = record.contenders.filter(r => r.repository === repo.id)
    if (mine.length === 0) continue
    lines.push(`## ${repo.title}`, '')
    for (const scenario of SCENARIOS) {
      const rows = mine.filter(r => r.scenario === scenario)
      if (rows.length === 0) continue
      lines.push(`### ${titles[scenario]}`, '', ...contenderTable(rows), '')
    }
  }
  const repoTitles = new Map(record.repositories.map(r => [r.id as string, r.title]))
  lines.push(
    '## Targets',
    '',
    "Each computed from this run's medians in the tables above; results.json gives each target's basis (what it divides by what).",
    '',
    ...targetTable(record.targets, repoTitles),
    ''
  )
  lines.push(
    `Rerun: \`${record.command}\` (see bench/README.md; cached snapshots make reruns faster).`,
    ''
  )
  return lines.join('\n')
}

/**
 * Writes `${out}.json` and `${out}.md`; `format` styles the markdown like the repository's.
 * Paths inside the repository are written relative to it: the results are committed and
 * must not carry this machine's directories.
 */
export async function writeResults(
  out: string,
  record: RunRecord,
  repoDir: string,
  format: (markdown: string) => Promise<string>
): Promise<string> {
  const relative = (text: string) => text.split(`${repoDir}/`).join('').split(repoDir).join('.')
  const markdown = await format(relative(renderMarkdown(record)))
  await fsp.writeFile(`${out}.json`, relative(JSON.stringify(record, null, 2)) + '\n')
  await fsp.writeFile(`${out}.md`, markdown)
  return markdown
}
