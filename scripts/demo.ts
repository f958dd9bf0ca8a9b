/**
 * npm run demo: the first thing a newcomer runs. Builds a small repository, snapshots it
 * exactly as cachew does (bare mirror, git clone, tar | pzstd), serves it from the
 * project's cachew-compatible test server on 127.0.0.1, runs dist/index.js against it as a
 * runner would (main step, then the post step that removes the git credentials), and prints
 * the log, the outputs, the job summary and where the tree landed.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { startCachewServer } from '../__tests__/support/cachew-server.js'
import { makeMirror, makeSnapshot } from '../__tests__/support/fixtures.js'
import { runActionWithPost } from '../__tests__/support/run-action.js'

async function main(): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cachew-restore-demo-'))
  console.log(`Building a demo repository and its snapshot in ${root} ...`)
  const mirror = await makeMirror(path.join(root, 'repo'), { files: 2000, commits: 3 })
  const snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'), {
    compressor: 'pzstd'
  })
  const server = await startCachewServer()
  server.addRepository(mirror.upstreamUrl, { file: snapshot.file, commit: snapshot.commit }, mirror)
  console.log(
    `Serving ${mirror.upstreamUrl} from ${server.url} (${snapshot.size} bytes, commit ${snapshot.commit})\n`
  )

  const workspace = path.join(root, 'workspace')
  const runnerTemp = path.join(root, 'runner-temp')
  await fs.mkdir(workspace)
  await fs.mkdir(runnerTemp)
  try {
    const run = await runActionWithPost({
      inputs: {
        'server-url': server.url,
        repository: mirror.upstreamUrl,
        'download-chunk-size-mb': '1'
      },
      workspace,
      runnerTemp
    })
    console.log('--- action log ---')
    process.stdout.write(run.stdout)
    console.log('--- outputs ---')
    for (const [name, value] of Object.entries(run.outputs)) console.log(`${name}=${value}`)
    console.log('--- job summary (markdown) ---')
    console.log(run.summary)
    const entries = await fs.readdir(workspace)
    console.log(
      `The tree landed in ${workspace} (${entries.length} top-level entries, including .git).`
    )
    console.log(`RUNNER_TEMP left behind: ${(await fs.readdir(runnerTemp)).length} entries.`)
    console.log(`Remove the demo with: rm -rf ${root}`)
    if (run.exitCode !== 0) {
      process.stderr.write(run.stderr)
      throw new Error(`the action exited with ${run.exitCode}`)
    }
  } finally {
    await server.close()
  }
}

main().catch(error => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
