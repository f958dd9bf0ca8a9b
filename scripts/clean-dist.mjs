// Empties dist/ before ncc writes it, so that no chunk of an earlier build stays behind: ncc
// names the chunks of a split bundle by module id, and an id that changes leaves the old file
// (which nothing loads) in dist/. licenses.txt stays: ncc does not write it for a split bundle,
// and it carries the license of the one bundled dependency, @actions/http-client.
import * as fs from 'node:fs'

const KEEP = new Set(['licenses.txt'])
for (const name of fs.existsSync('dist') ? fs.readdirSync('dist') : []) {
  if (!KEEP.has(name)) fs.rmSync(`dist/${name}`, { recursive: true, force: true })
}
