/**
 * One measured run for bench/extract.ts, in a process of its own (compiled to JavaScript
 * first, so no TypeScript loader is measured):
 *
 *   node extract-sample.js extract TAR DIR   the in-process extractor, blob ids included
 *   node extract-sample.js parse TAR         the tar gate alone: headers read and judged
 *   node extract-sample.js hash TAR          the gate plus the blob hashing, no files written
 *
 * The tar is read through one reused 1 MiB buffer, as the action reads its spool. Prints one
 * JSON line: what the process measured of the work alone (without Node's start).
 */
import * as fs from 'node:fs'
import { extractTarFile } from '../__tests__/support/extract-input.js'
import { BlobHasher, isWorktreePath } from '../src/archive/git-blobs.js'
import { TarGate, type TarEntryHandler } from '../src/archive/tar-gate.js'

const READ_BLOCK = 1024 * 1024

function feed(file: string, gate: TarGate): void {
  const fd = fs.openSync(file, 'r')
  const buffer = Buffer.allocUnsafe(READ_BLOCK)
  try {
    for (let read; (read = fs.readSync(fd, buffer, 0, READ_BLOCK, null)) > 0;) {
      gate.write(buffer.subarray(0, read))
    }
    gate.end()
  } finally {
    fs.closeSync(fd)
  }
}

/** The extractor's hashing without its writing: every working-tree file's SHA-1 blob id. */
function hashingHandler(ids: Map<string, string>): TarEntryHandler {
  const blobs = new BlobHasher()
  let hashing = false
  let path = ''
  let left = 0
  return {
    entry(entry) {
      hashing = entry.kind === 'file' && isWorktreePath(entry.path)
      if (!hashing) return
      blobs.start(entry.size)
      path = entry.path
      left = entry.size
      if (left === 0) ids.set(path, blobs.digest())
    },
    data(bytes) {
      if (!hashing) return
      blobs.update(bytes)
      left -= bytes.length
      if (left === 0) ids.set(path, blobs.digest())
    }
  }
}

function work(mode: string, file: string, directory?: string): number {
  if (mode === 'extract' && directory !== undefined) {
    return extractTarFile(file, directory).entries
  }
  if (mode === 'parse' || mode === 'hash') {
    const ids = new Map<string, string>()
    const handler: TarEntryHandler =
      mode === 'parse' ? { entry: () => undefined, data: () => undefined } : hashingHandler(ids)
    const gate = new TarGate(handler)
    feed(file, gate)
    return gate.entries
  }
  throw new Error('usage: extract-sample.js extract TAR DIR | parse TAR | hash TAR')
}

const [mode, file, directory] = process.argv.slice(2)
const before = process.resourceUsage()
const started = performance.now()
const entries = work(mode, file, directory)
const wall = (performance.now() - started) / 1000
const after = process.resourceUsage()
const cpu =
  (after.userCPUTime - before.userCPUTime + after.systemCPUTime - before.systemCPUTime) / 1e6
console.log(
  JSON.stringify({
    mode,
    entries,
    wall,
    cpu,
    minorFaults: after.minorPageFault - before.minorPageFault
  })
)
