/**
 * cachew's LFS snapshot into a staged clone: the archive holds `./lfs/objects/XX/YY/OID`
 * relative to `.git`. It is extracted by the same path as the snapshot (materialize, through
 * the tar gate) into an empty directory inside `.git`, each object's content is checked
 * against its name, and only then do the objects move into `.git/lfs/objects`. Anything else
 * in the archive stays behind and goes with the temp directory.
 */
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { ArchiveError } from '../errors.js'
import { materialize, type MaterializeOptions, type SnapshotBytes } from './materialize.js'

export interface LfsInstallResult {
  /** Objects moved into .git/lfs/objects (those already there are kept and not counted). */
  objects: number
  bytes: number
}

/** A damaged LFS object: the restore fails, naming it. */
export class LfsObjectError extends ArchiveError {
  override name = 'LfsObjectError'
}

const OID = /^[0-9a-f]{64}$/

/**
 * Extracts the LFS snapshot into `.git/.cachew-lfs-<pid>-<random>` of the staged clone at
 * `directory`, verifies every object and moves them into `.git/lfs/objects`. The temp
 * directory is removed on every way out; on a failure nothing has moved.
 */
export async function installLfsSnapshot(
  bytes: SnapshotBytes,
  directory: string,
  options: MaterializeOptions
): Promise<LfsInstallResult> {
  const gitDir = path.join(directory, '.git')
  const scratch = path.join(gitDir, `.cachew-lfs-${process.pid}-${randomBytes(4).toString('hex')}`)
  await fs.mkdir(scratch)
  try {
    await materialize(bytes, scratch, options)
    const objects = await verifiedObjects(path.join(scratch, 'lfs', 'objects'))
    return await moveObjects(objects, gitDir)
  } finally {
    await fs.rm(scratch, { recursive: true, force: true })
  }
}

interface LfsObject {
  /** 'XX/YY/OID' below lfs/objects. */
  relative: string
  file: string
  size: number
}

/**
 * Walks lfs/objects/XX/YY/OID and checks each file's SHA-256 against its OID. A file that is
 * not at the place its OID names, or whose content hashes to something else, is refused: the
 * working tree would otherwise get wrong content that `git status` does not notice (the clean
 * filter would hash it to another pointer only when the file's stat data changes).
 */
async function verifiedObjects(root: string): Promise<LfsObject[]> {
  const objects: LfsObject[] = []
  let levels: string[]
  try {
    levels = await fs.readdir(root)
  } catch (error) {
    // An archive with no objects directory carries no objects: nothing to install.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return objects
    throw error
  }
  // One buffer for every read: hashing must not allocate per chunk (first touches are dear).
  const buffer = Buffer.allocUnsafe(1 << 20)
  for (const first of levels.sort()) {
    for (const second of await childrenOf(path.join(root, first), `lfs/objects/${first}`)) {
      const dir = path.join(root, first, second)
      for (const name of await childrenOf(dir, `lfs/objects/${first}/${second}`)) {
        const relative = `${first}/${second}/${name}`
        const file = path.join(dir, name)
        const where = `lfs/objects/${relative}`
        if (!OID.test(name) || name.slice(0, 2) !== first || name.slice(2, 4) !== second) {
          throw new LfsObjectError(
            `The LFS snapshot holds '${where}', which is not an object's place (lfs/objects/XX/YY/OID, the OID's first two byte pairs as directories); refusing it.`
          )
        }
        const stat = await fs.lstat(file)
        if (!stat.isFile()) {
          throw new LfsObjectError(`The LFS snapshot's '${where}' is not a regular file.`)
        }
        const actual = await sha256Of(file, buffer)
        if (actual !== name) {
          throw new LfsObjectError(
            `The LFS snapshot's object ${name} is damaged: its content hashes to ${actual} (${where}); nothing was restored.`
          )
        }
        objects.push({ relative, file, size: stat.size })
      }
    }
  }
  return objects
}

/** The names in a directory of the object tree, refusing a file where a directory belongs. */
async function childrenOf(dir: string, shown: string): Promise<string[]> {
  const stat = await fs.lstat(dir)
  if (!stat.isDirectory()) {
    throw new LfsObjectError(
      `The LFS snapshot holds '${shown}', which is not an object's place (lfs/objects/XX/YY/OID); refusing it.`
    )
  }
  return (await fs.readdir(dir)).sort()
}

async function sha256Of(file: string, buffer: Buffer): Promise<string> {
  const hash = createHash('sha256')
  const handle = await fs.open(file, 'r')
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

/**
 * Renames each object into .git/lfs/objects; one already there (the snapshot's own) is kept.
 * The snapshot made .git, and a symlink there (`.git/lfs -> ../..`, which the gate lets through
 * as long as it points inside the tree) must not carry objects anywhere but into .git: each
 * directory an object lands in must resolve inside it.
 */
async function moveObjects(objects: LfsObject[], gitDir: string): Promise<LfsInstallResult> {
  const target = path.join(gitDir, 'lfs', 'objects')
  const realGitDir = await fs.realpath(gitDir)
  let moved = 0
  let bytes = 0
  const made = new Set<string>()
  for (const object of objects) {
    const destination = path.join(target, object.relative)
    const parent = path.dirname(destination)
    if (!made.has(parent)) {
      await fs.mkdir(parent, { recursive: true })
      const real = await fs.realpath(parent)
      if (real !== realGitDir && !real.startsWith(realGitDir + path.sep)) {
        throw new LfsObjectError(
          `The snapshot's .git/lfs/objects/${path.dirname(object.relative)} leads out of .git (to ${real}); refusing to put LFS objects there.`
        )
      }
      made.add(parent)
    }
    if (await exists(destination)) continue
    await fs.rename(object.file, destination)
    moved++
    bytes += object.size
  }
  return { objects: moved, bytes }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file)
    return true
  } catch {
    return false
  }
}
