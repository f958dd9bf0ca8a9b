/**
 * Turns the samples into the published results: per-contender medians and ranges, ratios to
 * `curl | zstd -dc | tar -x` in the same scenario, the targets judged PASS or MISS,
 * results.json (everything, every sample) and results.md (the tables the README shows).
 */
import * as fsp from 'node:fs/promises'
import type { Contender, Scenario, SampleOutcome } from './contenders.js'
import type { FilesystemDescription } from './filesystem.js'
import type { BenchOptions } from './options.js'
import type { MirrorInfo, SnapshotSet } from './snapshots.js'

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
  /** Median / the same scenario's curl | zstd | tar median. */
  ratioToCurl?: number
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
  scenario: Scenario
  kind: Contender['kind']
  label: string
  bytes: number
  summary: Summary
  samples: Sample[]
}

export interface Target {
  name: string
  /** How the measured value was computed. */
  basis: string
  value?: number
  limit: number
  /** 'max': value must be ≤ limit; 'min': value must be ≥ limit. */
  direction: 'max' | 'min'
  pass?: boolean
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

/** Fills in each contender's ratio to curl | zstd | tar of its scenario. */
export function addRatios(results: ContenderResult[]): void {
  for (const result of results) {
    const curl = find(results, `${result.scenario}/curl-zstd-tar`)?.summary.medianSeconds
    const own = result.summary.medianSeconds
    if (curl && own !== undefined) result.summary.ratioToCurl = own / curl
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

/** The targets, each computed from medians of this run. */
export function computeTargets(results: ContenderResult[]): Target[] {
  const targets: Target[] = []
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined)

  const throttledAction = medianOf(results, 'throttled/action-c8')
  targets.push({
    name: 'throttled: action (c8) time ≤ 0.30 × curl | zstd | tar',
    basis: 'median throttled/action-c8 ÷ median throttled/curl-zstd-tar',
    value: ratio(throttledAction, medianOf(results, 'throttled/curl-zstd-tar')),
    limit: 0.3,
    direction: 'max'
  })

  const engine = find(results, 'throttled/download-engine-c8')?.summary.downloadMiBps
  const aria2 = find(results, 'throttled/aria2c-then-tar')?.summary.downloadMiBps
  targets.push({
    name: "throttled: action's download throughput ≥ 0.8 × aria2c's",
    basis:
      'MiB/s of throttled/download-engine-c8 (its in-process transfer time) ÷ MiB/s of the aria2c download step (its process time)',
    value: ratio(engine, aria2),
    limit: 0.8,
    direction: 'min'
  })

  const fastAction = medianOf(results, 'fast/action-c8')
  targets.push({
    name: 'unthrottled: action (c8) time ≤ 1.0 × curl | zstd | tar',
    basis: 'median fast/action-c8 ÷ median fast/curl-zstd-tar',
    value: ratio(fastAction, medianOf(results, 'fast/curl-zstd-tar')),
    limit: 1.0,
    direction: 'max'
  })

  const halves = actionHalves(results)
  targets.push({
    name: 'unthrottled: action (c8) time ≤ 1.15 × max(download only, decode+extract only)',
    basis: `median fast/action-c8 ÷ max(${halves.basis})`,
    value: ratio(fastAction, halves.seconds),
    limit: 1.15,
    direction: 'max'
  })

  targets.push({
    name: 'unthrottled: action (c8) ≥ 5 × faster than git clone (local http-backend)',
    basis: 'median fast/git-clone ÷ median fast/action-c8',
    value: ratio(medianOf(results, 'fast/git-clone'), fastAction),
    limit: 5,
    direction: 'min'
  })

  const actionPeaks = results
    .filter(r => r.id === 'fast/action-c8' || r.id === 'throttled/action-c8')
    .map(r => Math.max(r.summary.maxPeakTreeRssBytes ?? 0, r.summary.maxProcessRssBytes ?? 0))
  targets.push({
    name: 'action (c8) peak RSS ≤ 150 MB',
    basis:
      'largest of: summed RSS of its process tree (polled), GNU time max RSS; both scenarios, every sample (MB = 10^6 bytes)',
    value:
      actionPeaks.length > 0 && Math.max(...actionPeaks) > 0
        ? Math.max(...actionPeaks) / 1e6
        : undefined,
    limit: 150,
    direction: 'max'
  })
  return targets.map(judge)
}

/** The action's own halves when measured, the CLI's otherwise. */
function actionHalves(results: ContenderResult[]): { seconds?: number; basis: string } {
  const pick = (preferred: string, fallback: string) =>
    medianOf(results, preferred) !== undefined ? preferred : fallback
  const download = pick('fast/download-engine-c8', 'fast/download-curl')
  const extract = pick('fast/extract-engine', 'fast/extract-cli')
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

function notes(result: ContenderResult): string {
  const parts: string[] = []
  const { summary } = result
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
  if (summary.failures > 0) parts.push(`**${summary.failures} of ${summary.samples} failed**`)
  return parts.join('; ')
}

function contenderTable(results: ContenderResult[]): string[] {
  const lines = [
    '| contender | median s | min–max s | × curl \\| zstd \\| tar | peak RSS MB (tree) | max RSS MB (one process) | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const r of results) {
    const s = r.summary
    const range =
      s.minSeconds === undefined ? '–' : `${seconds(s.minSeconds)}–${seconds(s.maxSeconds)}`
    const ratio = s.ratioToCurl === undefined ? '–' : `${s.ratioToCurl.toFixed(2)}×`
    const label = r.label.replace(/\|/g, '\\|')
    lines.push(
      `| ${label} | ${seconds(s.medianSeconds)} | ${range} | ${ratio} | ${megabytes(s.maxPeakTreeRssBytes)} | ${megabytes(s.maxProcessRssBytes)} | ${notes(r)} |`
    )
  }
  return lines
}

function targetTable(targets: Target[]): string[] {
  const lines = ['| target | measured | result |', '| --- | ---: | --- |']
  for (const t of targets) {
    const value = t.value === undefined ? 'not measured' : t.value.toFixed(2)
    const result = t.pass === undefined ? '–' : t.pass ? 'PASS' : 'MISS'
    lines.push(`| ${t.name.replace(/\|/g, '\\|')} | ${value} | ${result} |`)
  }
  return lines
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
  repository: MirrorInfo
  snapshots: SnapshotSet
  contenders: ContenderResult[]
  targets: Target[]
}

/** (Re)computes every summary, ratio and target from the samples. */
export function finalize(record: RunRecord): RunRecord {
  const contenders = record.contenders.map(c => ({ ...c, summary: summarize(c, c.samples) }))
  addRatios(contenders)
  return { ...record, contenders, targets: computeTargets(contenders) }
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

function headerLines(record: RunRecord): string[] {
  const { machine: m, filesystem: d, repository: repo, snapshots: snaps, options } = record
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`
  return [
    `Run ${record.generatedAt.slice(0, 10)} with \`${record.command}\` in ${(record.durationSeconds / 60).toFixed(1)} min: ` +
      `${options.repetitions} repetitions, contenders alternating; median and min–max wall time per contender.`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 1024 ** 3).toFixed(0)} GiB, ${m.os}, Linux ${m.kernel}; Node ${record.node}.`,
    loadLine(record),
    `- Filesystem for the restores: ${d.fstype} (${d.options}) on ${d.source}: ${d.note}. Every sample restores into a fresh directory; the previous tree is deleted and \`sync\` runs outside the timed region.`,
    `- Repository: ${repo.trackedFiles} files, ${repo.commits} commits, pack ${mb(repo.packBytes)}; snapshot tar ${mb(snaps.tarBytes)}, ${snaps.tarEntries} entries; ` +
      `\`tar | pzstd\` ${mb(snaps.files.pzstd.bytes)} (${snaps.files.pzstd.frames} frames), \`tar | zstd -T0\` ${mb(snaps.files.zstd.bytes)} (${snaps.files.zstd.frames} frame).`,
    `- Servers: nginx on 127.0.0.1, unthrottled and with \`limit_rate ${options.rateMBps}m\` (${options.rateMBps} MiB/s per connection); git clone from \`git http-backend\` behind a small CGI bridge.`,
    `- Peak RSS (tree): the summed RSS of the contender's whole process tree, polled from /proc every 20 ms. Max RSS (one process): GNU time's maximum RSS, the tree's largest process.`,
    `- The action runs as a runner runs it (\`node dist/index.js\`, inputs as INPUT_* with action.yml's defaults, GITHUB_SHA at the snapshot's commit). Its halves run alone from \`bench/engine.ts\` (${record.engine}).`
  ]
}

export function renderMarkdown(record: RunRecord): string {
  const titles: Record<Scenario, string> = {
    fast: 'Unthrottled (loopback)',
    throttled: `Throttled: ${record.options.rateMBps} MiB/s per connection`
  }
  const lines: string[] = ['# Benchmark results', '', ...headerLines(record), '']
  for (const scenario of ['fast', 'throttled'] as Scenario[]) {
    const rows = record.contenders.filter(r => r.scenario === scenario)
    if (rows.length === 0) continue
    lines.push(`## ${titles[scenario]}`, '', ...contenderTable(rows), '')
  }
  lines.push('## Targets', '', ...targetTable(record.targets), '')
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
