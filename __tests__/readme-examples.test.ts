/**
 * Every YAML example in the README, taken at its word: the action's steps pass only inputs
 * action.yml declares and read only outputs it declares, and each example runs, as a runner
 * would run it, against the project's cachew-compatible server: `${{ }}` expressions are
 * given test values (a matrix runs once per value), `if:` conditions are evaluated on the
 * action's outputs, and a self-hosted `runs-on` gets a runner cache that outlives the job.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse } from 'yaml'
import { startCachewServer, type CachewServer } from './support/cachew-server.js'
import { makeMirror, makeSnapshot, type Mirror, type Snapshot } from './support/fixtures.js'
import { runActionWithPost, visibleLog, type ActionRun } from './support/run-action.js'

const ACTION = 'org/cachew-restore@v1'
const TOKEN = 'readme-example-token'
const WORKFLOW_REPOSITORY = 'acme/widgets'

interface Step {
  id?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, string | number | boolean>
}

interface Job {
  'runs-on': string | string[]
  strategy?: { matrix?: Record<string, unknown[]> }
  steps: Step[]
}

interface Example {
  /** Where it is: the first line of the block. */
  name: string
  jobs: Job[]
}

const readme = fs.readFileSync(path.resolve('README.md'), 'utf8')
const action = parse(fs.readFileSync(path.resolve('action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}

/** The README's ```yaml blocks, each as jobs: a bare step or step list is one job. */
function readmeExamples(): Example[] {
  return [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map(([, text]) => {
    const value = parse(text) as unknown
    const name = text.split('\n').find(line => line.trim() !== '') ?? ''
    if (Array.isArray(value)) return { name, jobs: [{ 'runs-on': 'ubuntu-latest', steps: value }] }
    const document = value as { jobs?: Record<string, Job> } & Step
    if (document.jobs) return { name, jobs: Object.values(document.jobs) }
    return { name, jobs: [{ 'runs-on': 'ubuntu-latest', steps: [document] }] }
  })
}

const examples = readmeExamples()
const OUTPUT_REFERENCE = /steps\.([\w-]+)\.outputs\.([\w-]+)/g

let root: string
let mirror: Mirror
let snapshot: Snapshot
let server: CachewServer

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'readme-examples-'))
  mirror = await makeMirror(path.join(root, 'repo'), { files: 40, commits: 2, fileSize: 2048 })
  snapshot = await makeSnapshot(mirror, path.join(root, 'snapshot.tar.zst'), {
    compressor: 'pzstd'
  })
  server = await startCachewServer()
  // Every repository an example names (the workflow's own one included) is this snapshot.
  const named = new Set([`https://github.com/${WORKFLOW_REPOSITORY}`])
  for (const match of readme.matchAll(/repository: (https:\/\/\S+|\[[^\]]*\])/g)) {
    const values = match[1].startsWith('[') ? match[1].slice(1, -1).split(',') : [match[1]]
    for (const value of values.map(v => v.trim())) {
      named.add(value.startsWith('https://') ? value : `https://github.com/${value}`)
    }
  }
  for (const upstream of named) {
    server.addRepository(upstream, { file: snapshot.file, commit: snapshot.commit }, mirror)
  }
}, 120_000)

afterAll(async () => {
  await server?.close()
  if (root) await fsp.rm(root, { recursive: true, force: true })
})

/** Gives an expression's test value; an expression the test does not know fails it. */
function evaluate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
    if (!(expression in values)) throw new Error(`no test value for \${{ ${expression} }}`)
    return values[expression]
  })
}

/** The conditions the README uses: `steps.ID.outputs.NAME == 'x'` and `!=`. */
function condition(text: string, values: Record<string, string>): boolean {
  const match = /^\s*(steps\.[\w-]+\.outputs\.[\w-]+)\s*(==|!=)\s*'([^']*)'\s*$/.exec(text)
  if (!match) throw new Error(`the test cannot evaluate if: ${text}`)
  const equal = (values[match[1]] ?? '') === match[3]
  return match[2] === '==' ? equal : !equal
}

/** The matrix's combinations (one empty one without a matrix). */
function combinations(job: Job): Array<Record<string, string>> {
  let result: Array<Record<string, string>> = [{}]
  for (const [key, list] of Object.entries(job.strategy?.matrix ?? {})) {
    result = result.flatMap(partial => list.map(value => ({ ...partial, [key]: String(value) })))
  }
  return result
}

interface JobRun {
  restores: ActionRun[]
  /** Steps after the action whose `if:` held. */
  ranAfter: Step[]
}

/** Runs a job's steps: the action's for real, the others' conditions and output references. */
async function runJob(
  job: Job,
  matrix: Record<string, string>,
  serverUrl: string
): Promise<JobRun> {
  const selfHosted = [job['runs-on']].flat().includes('self-hosted')
  const toolCache = await fsp.mkdtemp(path.join(root, 'tool-cache-'))
  const values: Record<string, string> = {
    'vars.CACHEW_URL': serverUrl,
    'secrets.CACHEW_TOKEN': TOKEN,
    ...Object.fromEntries(Object.entries(matrix).map(([k, v]) => [`matrix.${k}`, v]))
  }
  const result: JobRun = { restores: [], ranAfter: [] }
  for (const step of job.steps) {
    if (step.if !== undefined && !condition(step.if, values)) continue
    if (step.uses !== ACTION) {
      if (result.restores.length > 0) result.ranAfter.push(step)
      if (step.run) expect(evaluate(step.run, values)).not.toMatch(/\$\{\{/)
      continue
    }
    const inputs: Record<string, string> = {}
    for (const [name, value] of Object.entries(step.with ?? {})) {
      inputs[name] = evaluate(String(value), values).replace(
        'https://cachew.example.com',
        serverUrl
      )
    }
    const run = await runActionWithPost({
      inputs,
      env: {
        GITHUB_REPOSITORY: WORKFLOW_REPOSITORY,
        GITHUB_SERVER_URL: 'https://github.com',
        RUNNER_ENVIRONMENT: selfHosted ? 'self-hosted' : 'github-hosted',
        RUNNER_TOOL_CACHE: toolCache
      }
    })
    result.restores.push(run)
    for (const [name, value] of Object.entries(run.outputs)) {
      values[`steps.${step.id}.outputs.${name}`] = value
    }
  }
  return result
}

describe('README examples', () => {
  it('are there: basic with a fallback, another repository, a matrix, a self-hosted runner', () => {
    const jobs = examples.flatMap(example => example.jobs)
    const steps = jobs.flatMap(job => job.steps)
    expect(
      steps.some(s => s.uses?.startsWith('actions/checkout') && s.if?.includes('cache-hit'))
    ).toBe(true)
    expect(jobs.some(job => job.strategy?.matrix)).toBe(true)
    expect(jobs.some(job => [job['runs-on']].flat().includes('self-hosted'))).toBe(true)
    expect(steps.some(s => String(s.with?.authorization ?? '').includes('secrets.'))).toBe(true)
    expect(steps.filter(s => s.uses === ACTION).length).toBeGreaterThanOrEqual(4)
  })

  it('pass only inputs action.yml declares and read only outputs it declares, from earlier steps', () => {
    for (const example of examples) {
      for (const job of example.jobs) {
        const seen = new Set<string>()
        for (const step of job.steps) {
          const text = JSON.stringify(step)
          for (const [, id, output] of text.matchAll(OUTPUT_REFERENCE)) {
            expect({ example: example.name, id, known: seen.has(id) }).toMatchObject({
              known: true
            })
            expect({
              example: example.name,
              output,
              known: output in action.outputs
            }).toMatchObject({
              known: true
            })
          }
          if (step.uses === ACTION) {
            for (const input of Object.keys(step.with ?? {})) {
              expect({ example: example.name, input, known: input in action.inputs }).toMatchObject(
                {
                  known: true
                }
              )
            }
            if (step.id) seen.add(step.id)
          }
        }
      }
    }
  })

  it.each(examples.map(example => [example.name, example] as const))(
    'runs: %s',
    async (_name, example) => {
      for (const job of example.jobs) {
        for (const matrix of combinations(job)) {
          const { restores, ranAfter } = await runJob(job, matrix, server.url)
          expect(restores.length).toBeGreaterThan(0)
          for (const run of restores) {
            expect(visibleLog(run)).not.toMatch(/::error::/)
            expect(visibleLog(run)).not.toContain(TOKEN)
            expect(run.exitCode).toBe(0)
            expect(run.outputs['cache-hit']).toBe('true')
            expect(run.outputs.commit).toBe(snapshot.commit)
          }
          // With a hit, a checkout fallback guarded by cache-hit does not run.
          expect(ranAfter.some(step => step.uses?.startsWith('actions/checkout'))).toBe(false)
        }
      }
    },
    120_000
  )

  it('falls back to actions/checkout on a miss, as the basic example says', async () => {
    const basic = examples.find(example =>
      example.jobs.some(job => job.steps.some(step => step.uses?.startsWith('actions/checkout')))
    )!
    const job = basic.jobs[0]
    const missing = await runJob(
      {
        ...job,
        steps: job.steps.map(step =>
          step.uses === ACTION
            ? { ...step, with: { ...step.with, repository: 'https://github.com/acme/unknown' } }
            : step
        )
      },
      {},
      server.url
    )
    expect(missing.restores[0].exitCode).toBe(0)
    expect(missing.restores[0].outputs['cache-hit']).toBe('false')
    expect(missing.ranAfter.some(step => step.uses?.startsWith('actions/checkout'))).toBe(true)
  })

  it('self-hosted: the second job restores from the runner cache', async () => {
    const example = examples.find(e =>
      e.jobs.some(job => [job['runs-on']].flat().includes('self-hosted'))
    )!
    const job = example.jobs[0]
    const toolCache = await fsp.mkdtemp(path.join(root, 'shared-tool-cache-'))
    const step = job.steps.find(s => s.uses === ACTION)!
    const inputs = Object.fromEntries(
      Object.entries(step.with ?? {}).map(([k, v]) => [
        k,
        evaluate(String(v), { 'vars.CACHEW_URL': server.url, 'secrets.CACHEW_TOKEN': TOKEN })
      ])
    )
    const env = {
      GITHUB_REPOSITORY: WORKFLOW_REPOSITORY,
      RUNNER_ENVIRONMENT: 'self-hosted',
      RUNNER_TOOL_CACHE: toolCache
    }
    const first = await runActionWithPost({ inputs, env })
    const second = await runActionWithPost({ inputs, env })
    expect([first.outputs['snapshot-source'], second.outputs['snapshot-source']]).toEqual([
      'server',
      'runner-cache'
    ])
  })
})
