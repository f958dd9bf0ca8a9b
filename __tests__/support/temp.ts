/**
 * Temp directories that are removed when the test file ends (jest.setup.ts registers the
 * cleanup), so a suite that restores hundreds of MiB per run does not fill the disk.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

const created: string[] = []

/** A fresh directory under the OS temp directory, removed after the test file. */
export async function tempDirectory(prefix: string): Promise<string> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  created.push(directory)
  return directory
}

export async function removeTempDirectories(): Promise<void> {
  const all = created.splice(0)
  await Promise.all(all.map(d => fs.rm(d, { recursive: true, force: true })))
}
