/**
 * The repositories a run restores, each with its mirror and its two snapshots:
 *
 * - `generated`: the seeded repository of bench/generate.ts at the run's --scale (~36,000
 *   files by default), the one every earlier run measured;
 * - `small`: a generated repository of about 2,500 entries and a 14 MB snapshot, the size
 *   most repositories are, where the action's fixed costs (process start, git processes)
 *   show most;
 * - `real`: a real public repository's bare mirror given with --mirror (babel/babel is the
 *   one the issue measured), snapshotted as cachew snapshots it.
 */
import { SHAPES, type RepoShape } from './generate.js'
import type { BenchOptions } from './options.js'
import {
  ensureMirror,
  ensureRealMirror,
  ensureSnapshots,
  type MirrorInfo,
  type SnapshotSet,
  type Upstream
} from './snapshots.js'

export type RepositoryId = 'generated' | 'small' | 'real'
export const REPOSITORY_IDS: RepositoryId[] = ['generated', 'small', 'real']

export interface BenchRepository {
  id: RepositoryId
  /** What the results call it: "generated, 35999 files", "babel/babel". */
  title: string
  mirror: MirrorInfo
  snapshots: SnapshotSet
}

/** The generated repository's upstream (unchanged since the first runs: its cache stays valid). */
export const GENERATED_UPSTREAM: Upstream = { host: 'github.com', owner: 'bench', name: 'monorepo' }
export const SMALL_UPSTREAM: Upstream = { host: 'github.com', owner: 'bench', name: 'small' }

/**
 * The small repository: 2,548 tar entries (2,300 files, 200 directories and .git), a 24 MB
 * tar and a 14.1 MB pzstd snapshot, as measured when the shape was chosen; the small
 * repository had 2,483 entries and a 14 MB snapshot. Larger binaries than the big shape's
 * (median 36 KB) bring the snapshot to that size at that entry count.
 */
export const SMALL_REPOSITORY_SHAPE: RepoShape = {
  ...SHAPES.small,
  files: 2_300,
  directories: 200,
  binaryMedianBytes: 36_000
}

/** The repositories a run with these options can restore (`real` only with --mirror). */
export function repositoriesOf(options: Pick<BenchOptions, 'mirror'>): RepositoryId[] {
  return REPOSITORY_IDS.filter(id => id !== 'real' || options.mirror !== undefined)
}

/**
 * Builds (or reuses) one repository's mirror and snapshots. `scratchDir` holds the temporary
 * clones the snapshots are made from.
 */
export async function prepareRepository(
  id: RepositoryId,
  options: Pick<BenchOptions, 'scale' | 'mirror' | 'mirrorUrl' | 'cloneSince'>,
  scratchDir: string,
  log: (line: string) => void
): Promise<BenchRepository> {
  let mirror: MirrorInfo
  if (id === 'generated') {
    mirror = await ensureMirror(options.scale, SHAPES[options.scale], GENERATED_UPSTREAM, log)
  } else if (id === 'small') {
    mirror = await ensureMirror('smallrepo', SMALL_REPOSITORY_SHAPE, SMALL_UPSTREAM, log)
  } else {
    if (!options.mirror) throw new Error('the real repository needs --mirror PATH')
    mirror = await ensureRealMirror(
      options.mirror,
      { url: options.mirrorUrl, cloneSince: options.cloneSince },
      log
    )
  }
  const snapshots = await ensureSnapshots(mirror, scratchDir, log)
  const title =
    id === 'real'
      ? `${mirror.upstream.owner}/${mirror.upstream.name}`
      : `${id === 'small' ? 'small, generated' : 'generated'}, ${mirror.trackedFiles} files`
  return { id, title, mirror, snapshots }
}
