import * as core from '@actions/core'
import { gunzipSync } from 'node:zlib'
export async function run(): Promise<void> {
  core.info('hello ' + typeof gunzipSync)
}
