/**
 * The harness's command line. Every flag has a default that gives the full benchmark;
 * the rest narrow it down for quick runs while working on one piece.
 */
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export type Scale = 'default' | 'small'
/** Where restores land: a journaled ext4 image mounted for the run, a tmpfs, or a given dir. */
export type FilesystemChoice = 'ext4-loop' | 'tmpfs' | 'dir'

export interface BenchOptions {
  scale: Scale
  repetitions: number
  /** Contender filters: a contender runs when its id contains any of them. */
  only: string[]
  filesystem: FilesystemChoice
  /** With filesystem 'dir': the directory to restore under. */
  dir?: string
  /** Per-connection rate of the throttled server, in MB/s (nginx limit_rate). */
  rateMBps: number
  /** Kills one sample that runs longer than this. */
  timeoutSeconds: number
  /** results.json / results.md are written as `${out}.json` / `${out}.md`. */
  out: string
  /** The action's bundle to run (dist/index.js unless another build is to be measured). */
  action: string
  /** A real repository's bare mirror (`git clone --mirror URL`), restored beside the generated ones. */
  mirror?: string
  /** Its upstream URL, when its config has no remote.origin.url. */
  mirrorUrl?: string
  /** Its full-clone contender clones the history since this date (`--shallow-since`). */
  cloneSince?: string
  list: boolean
  /** Re-render results from this results.json (after a change to the report) without running. */
  render?: string
  help: boolean
}

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
export const CACHE_DIR = path.join(BENCH_DIR, '.cache')

export const USAGE = `Usage: npm run bench -- [options]

  --scale default|small   the generated repository's size: ~40k entries / ~300 MB tar
                          (default), or a tenth. The small repository (~2,500 entries, 14 MB
                          snapshot) runs at every scale.
  --mirror PATH           also restore a real repository from its bare mirror, as made by
                          \`git clone --mirror https://github.com/babel/babel\`: snapshots
                          made from it as cachew makes them; contenders named real/...
  --mirror-url URL        the mirror's upstream URL, when its config has no remote.origin.url
                          (it names the served path and the snapshot's origin)
  --clone-since DATE      the real repository's full-history git clone takes the history
                          since DATE (--shallow-since), for a mirror that lacks older objects;
                          without it such a mirror's full clone is skipped, and the results
                          say why
  --reps N                repetitions of every contender (default 3)
  --only A,B              run only contenders whose id contains A or B (ids are
                          REPOSITORY/SCENARIO/NAME, e.g. generated/fast/action-c8: filter
                          with curl, action-c8, throttled/, pinned/, real/, small/); results
                          then go to bench/.cache/results-only.*
  --fs ext4-loop|tmpfs    filesystem for the restores, made and mounted for the run (needs
                          root): a fresh journaled ext4 image on a loop device (default as
                          root), or a tmpfs
  --dir DIR               restore under DIR instead, on whatever filesystem it is on
                          (the default when not root: the OS temp directory)
  --rate MBPS             per-connection limit of the throttled server (default 25)
  --timeout SECONDS       a sample running longer is killed and fails (default 600)
  --out PREFIX            write PREFIX.json and PREFIX.md (default bench/results)
  --action FILE           the action bundle to run (default dist/index.js)
  --list                  list the contenders and exit
  --render FILE.json      recompute summaries and targets from the samples in FILE.json and
                          rewrite it and FILE.md, without running anything

Contender ids are REPOSITORY/SCENARIO/NAME (--list shows them all):
  repositories  generated (bench/generate.ts at --scale), small (~2,500 entries, a 14 MB
                snapshot), real (the --mirror repository)
  scenarios     fast (nginx on loopback), throttled (--rate per connection), pinned (fast,
                with the contender and everything it starts on one core: taskset -c 0)
Each contender gets wall time, CPU seconds (user + sys of its whole process tree), minor
page faults and peak RSS, as medians; results.md judges the issue's targets on each
repository from the same run's samples (met or missed, with the measured ratio).
See bench/README.md.
`

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value)
  if (!value || !Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a whole number ≥ 1`)
  return n
}

export function parseOptions(argv: string[], isRoot: boolean): BenchOptions {
  const options: BenchOptions = {
    scale: 'default',
    repetitions: 3,
    only: [],
    filesystem: isRoot ? 'ext4-loop' : 'dir',
    rateMBps: 25,
    timeoutSeconds: 600,
    out: path.join(BENCH_DIR, 'results'),
    action: path.join(BENCH_DIR, '..', 'dist', 'index.js'),
    list: false,
    help: false
  }
  let outGiven = false
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = (): string => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${flag} needs a value`)
      return next
    }
    switch (flag) {
      case '--scale': {
        const scale = value()
        if (scale !== 'default' && scale !== 'small') throw new Error('--scale is default or small')
        options.scale = scale
        break
      }
      case '--reps':
        options.repetitions = positiveInteger(flag, value())
        break
      case '--only':
        options.only.push(...value().split(',').filter(Boolean))
        break
      case '--fs': {
        const fs = value()
        if (fs !== 'ext4-loop' && fs !== 'tmpfs') throw new Error('--fs is ext4-loop or tmpfs')
        options.filesystem = fs
        break
      }
      case '--dir':
        options.filesystem = 'dir'
        options.dir = path.resolve(value())
        break
      case '--rate':
        options.rateMBps = positiveInteger(flag, value())
        break
      case '--timeout':
        options.timeoutSeconds = positiveInteger(flag, value())
        break
      case '--out':
        options.out = path.resolve(value())
        outGiven = true
        break
      case '--action':
        options.action = path.resolve(value())
        break
      case '--mirror':
        options.mirror = path.resolve(value())
        break
      case '--mirror-url':
        options.mirrorUrl = value()
        break
      case '--clone-since': {
        const since = value()
        if (Number.isNaN(Date.parse(since)))
          throw new Error('--clone-since takes a date (YYYY-MM-DD)')
        options.cloneSince = since
        break
      }
      case '--list':
        options.list = true
        break
      case '--render':
        options.render = path.resolve(value())
        break
      case '--help':
      case '-h':
        options.help = true
        break
      default:
        throw new Error(`unknown option '${flag}'`)
    }
  }
  // A partial run must not overwrite the published results.
  if (options.only.length > 0 && !outGiven) options.out = path.join(CACHE_DIR, 'results-only')
  if ((options.mirrorUrl || options.cloneSince) && !options.mirror) {
    throw new Error(
      '--mirror-url and --clone-since describe the --mirror repository: give --mirror'
    )
  }
  if ((options.filesystem === 'ext4-loop' || options.filesystem === 'tmpfs') && !isRoot) {
    throw new Error(`--fs ${options.filesystem} mounts a filesystem and needs root; use --dir DIR`)
  }
  return options
}
