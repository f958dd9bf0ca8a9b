/**
 * Where the restores land. The filesystem decides much of a restore's time (creating tens of
 * thousands of files), and some are pathological: on an ext4 without a journal mounted with
 * `discard`, deleting a large tree takes a minute and slows file creation for a while after.
 * So by default (as root) each run formats a fresh journaled ext4 image, mounted on a loop
 * device, the kind of disk a CI runner has; `--fs tmpfs` measures with no disk at all;
 * `--dir` uses a directory as it is. Whatever is used is described in the results.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { execTool } from '../__tests__/support/fixtures.js'
import { CACHE_DIR, type FilesystemChoice } from './options.js'

export interface BenchFilesystem {
  choice: FilesystemChoice
  /** A fresh directory on it for this run. */
  root: string
  description: FilesystemDescription
  release(): Promise<void>
}

export interface FilesystemDescription {
  target: string
  source: string
  fstype: string
  options: string
  note: string
}

/** Room for a few restores of the default scale (~1 GB each with the spool). */
const IMAGE_BYTES = 8 * 1024 ** 3

export function describe(dir: string, note: string): FilesystemDescription {
  try {
    const [source, fstype, options] = execFileSync(
      'findmnt',
      ['-no', 'SOURCE,FSTYPE,OPTIONS', '-T', dir],
      { encoding: 'utf8' }
    )
      .trim()
      .split(/\s+/)
    return { target: dir, source, fstype, options, note }
  } catch {
    const fstype = execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim()
    return { target: dir, source: 'unknown', fstype, options: 'unknown', note }
  }
}

async function mountExt4Loop(mountPoint: string): Promise<string> {
  const image = path.join(CACHE_DIR, 'ext4.img')
  // Reserve the blocks once; reformatting each run gives a pristine filesystem on them.
  if (!fs.existsSync(image) || fs.statSync(image).size !== IMAGE_BYTES) {
    await fsp.rm(image, { force: true })
    await execTool('fallocate', ['-l', String(IMAGE_BYTES), image])
  }
  // nodiscard: formatting must not hand the reserved blocks back; eager init: no background
  // inode-table zeroing while the benchmark runs.
  await execTool('mkfs.ext4', [
    '-q',
    '-F',
    '-E',
    'nodiscard,lazy_itable_init=0,lazy_journal_init=0',
    image
  ])
  await execTool('mount', ['-o', 'loop', image, mountPoint]).catch((error: Error) => {
    throw new Error(`${error.message}\nNo loop devices here? Use --fs tmpfs or --dir DIR.`, {
      cause: error
    })
  })
  return 'a fresh journaled ext4 image (8 GiB) on a loop device, formatted for this run'
}

export async function prepareFilesystem(
  choice: FilesystemChoice,
  dir: string | undefined
): Promise<BenchFilesystem> {
  if (choice === 'dir') {
    const base = dir ?? os.tmpdir()
    await fsp.mkdir(base, { recursive: true })
    const root = await fsp.mkdtemp(path.join(base, 'cachew-bench-'))
    return {
      choice,
      root,
      description: describe(root, dir ? 'the directory given with --dir' : 'the OS temp directory'),
      release: () => fsp.rm(root, { recursive: true, force: true })
    }
  }
  const mountPoint = path.join(CACHE_DIR, 'mnt')
  await fsp.mkdir(mountPoint, { recursive: true })
  await execTool('umount', [mountPoint]).catch(() => undefined) // left over from a killed run
  const note =
    choice === 'tmpfs'
      ? await execTool('mount', ['-t', 'tmpfs', '-o', 'size=8g', 'tmpfs', mountPoint]).then(
          () => 'a tmpfs (memory only) mounted for this run'
        )
      : await mountExt4Loop(mountPoint)
  const root = path.join(mountPoint, 'run')
  await fsp.mkdir(root)
  return {
    choice,
    root,
    description: describe(root, note),
    release: async () => {
      await fsp.rm(root, { recursive: true, force: true })
      await execTool('umount', [mountPoint])
    }
  }
}
