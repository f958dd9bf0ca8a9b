/**
 * Writing verified stat data into the index (src/git/index-stat.ts) against
 * `git update-index --refresh`, each followed by the first `git status`, on a real snapshot.
 *
 *   npx tsx bench/index-stat.ts --tar SNAPSHOT.tar --dir MOUNTED_SCRATCH [--rounds 5]
 *
 * SNAPSHOT.tar is an uncompressed snapshot (a tar of a clone: working tree and .git, as cachew
 * makes one); MOUNTED_SCRATCH a directory on the filesystem to measure, such as a tmpfs
 * (`mount -t tmpfs -o size=4g tmpfs DIR`), never an unjournaled /tmp. The tar is extracted once
 * with `tar -xpf`; before each sample the extracted stale index is put back, so every sample
 * starts from the state extraction leaves (files with new inodes and ctimes, an index that
 * describes other ones). The blob ids come from `git ls-files -s` of that index, i.e. every
 * entry is taken to match, as the extractor reports for an intact snapshot; the tests prove
 * the matching itself. Contenders alternate; medians are printed.
 *
 * writeIndexStat runs in this process and is measured with process.resourceUsage() (wall,
 * user+sys CPU, minor faults), which is its cost inside the action; git commands run under
 * GNU time (-v's fields).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { writeIndexStat } from '../src/git/index-stat.js'

interface Cost {
  wall: number
  cpu: number
  minorFaults: number
}

interface Sample {
  contender: string
  step: Cost
  status: Cost
  statusLines: number
}

const { values } = parseArgs({
  options: {
    tar: { type: 'string' },
    dir: { type: 'string' },
    rounds: { type: 'string', default: '5' }
  }
})
if (!values.tar || !values.dir) {
  console.error('usage: npx tsx bench/index-stat.ts --tar SNAPSHOT.tar --dir SCRATCH [--rounds N]')
  process.exit(2)
}
const rounds = Number(values.rounds)
const tree = fs.mkdtempSync(path.join(values.dir, 'index-stat-'))

/** Runs a command under GNU time and returns its cost and stdout. */
function timed(command: string[], cwd: string): { cost: Cost; stdout: string } {
  const report = path.join(path.dirname(tree), `index-stat-time-${process.pid}`)
  const result = spawnSync('/usr/bin/time', ['-v', '-o', report, '--', ...command], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024
  })
  const text = fs.readFileSync(report, 'utf8')
  fs.rmSync(report)
  if (result.status !== 0 && !(command[1] === 'update-index' && result.status === 1)) {
    throw new Error(`${command.join(' ')} exited ${result.status}: ${result.stderr}`)
  }
  const field = (name: string): number => {
    const match = new RegExp(`${name}: (.*)`).exec(text)
    if (!match) throw new Error(`GNU time printed no '${name}'`)
    return match[1].includes(':')
      ? match[1].split(':').reduce((total, part) => total * 60 + Number(part), 0)
      : Number(match[1])
  }
  return {
    cost: {
      wall: field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)'),
      cpu: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
      minorFaults: field('Minor \\(reclaiming a frame\\) page faults')
    },
    stdout: result.stdout
  }
}

async function inProcess(action: () => Promise<unknown>): Promise<Cost> {
  const before = process.resourceUsage()
  const started = process.hrtime.bigint()
  await action()
  const wall = Number(process.hrtime.bigint() - started) / 1e9
  const after = process.resourceUsage()
  return {
    wall,
    cpu:
      (after.userCPUTime - before.userCPUTime + after.systemCPUTime - before.systemCPUTime) / 1e6,
    minorFaults: after.minorPageFault - before.minorPageFault
  }
}

/** `git ls-files -s -z` as the extractor's map: latin1 path → object id. */
function indexIds(repo: string): Map<string, string> {
  const out = execFileSync('git', ['ls-files', '-s', '-z'], { cwd: repo, maxBuffer: 1 << 28 })
  const ids = new Map<string, string>()
  for (const record of out.toString('latin1').split('\0')) {
    const match = /^\d+ ([0-9a-f]+) \d\t(.*)$/s.exec(record)
    if (match) ids.set(match[2], match[1])
  }
  return ids
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

async function main(): Promise<void> {
  execFileSync('tar', ['-xpf', values.tar as string, '-C', tree])
  const indexFile = path.join(tree, '.git', 'index')
  const staleIndex = fs.readFileSync(indexFile)
  const ids = indexIds(tree)
  console.log(`${ids.size} index entries with ids; tree at ${tree}`)
  const samples: Sample[] = []
  const status = ['git', 'status', '--porcelain']
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? ['refresh', 'writeIndexStat'] : ['writeIndexStat', 'refresh']
    for (const contender of order) {
      fs.writeFileSync(indexFile, staleIndex)
      let step: Cost
      if (contender === 'refresh') {
        step = timed(['git', 'update-index', '--refresh'], tree).cost
      } else {
        let updated = 0
        step = await inProcess(async () => {
          const result = await writeIndexStat(tree, ids)
          if (result.fallback) throw new Error(`fallback: ${result.fallback}`)
          updated = result.updated
        })
        if (updated !== ids.size) throw new Error(`updated ${updated} of ${ids.size}`)
      }
      const first = timed(status, tree)
      samples.push({
        contender,
        step,
        status: first.cost,
        statusLines: first.stdout.split('\n').filter(Boolean).length
      })
    }
  }
  fs.writeFileSync(indexFile, staleIndex)
  for (const contender of ['writeIndexStat', 'refresh']) {
    const mine = samples.filter(s => s.contender === contender)
    const show = (pick: (s: Sample) => Cost): string => {
      const w = median(mine.map(s => pick(s).wall)).toFixed(3)
      const c = median(mine.map(s => pick(s).cpu)).toFixed(3)
      const f = median(mine.map(s => pick(s).minorFaults))
      return `${w} s wall, ${c} s CPU, ${f} minor faults`
    }
    console.log(`${contender} (median of ${mine.length}):`)
    console.log(`  step:             ${show(s => s.step)}`)
    console.log(`  first git status: ${show(s => s.status)}`)
    console.log(`  status lines:     ${[...new Set(mine.map(s => s.statusLines))].join(', ')}`)
    console.log(`  step walls:       ${mine.map(s => s.step.wall.toFixed(3)).join(' ')}`)
  }
}

main()
  .finally(() => fs.rmSync(tree, { recursive: true, force: true }))
  .catch(error => {
    console.error(error)
    process.exitCode = 1
  })
