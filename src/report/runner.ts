/**
 * The runner's side of a step, as the Actions runner defines it: inputs from INPUT_*
 * variables, outputs and state appended to the files GITHUB_OUTPUT and GITHUB_STATE name,
 * the job summary appended to GITHUB_STEP_SUMMARY, and log commands (`::warning::`, groups,
 * masks) on stdout.
 *
 * Why not @actions/core: it imports @actions/http-client for OIDC tokens, and that loads
 * undici at start-up. Measured on two ncc bundles, one that only calls core.info and one
 * that only writes to stdout: 0.08 s against 0.03 s of wall time, 66 MB against 43 MB of
 * RSS, 6,300 against 2,800 minor faults, on every job, for code the action never runs.
 * These few commands are the whole surface the action uses.
 */
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import { EOL } from 'node:os'

/** An input as the runner passes it: INPUT_<NAME> (spaces as '_', hyphens kept), trimmed. */
export function getInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
}

/** Sets a step output (read by later steps as steps.<id>.outputs.<name>). */
export function setOutput(name: string, value: string): void {
  if (!appendKeyValue('GITHUB_OUTPUT', name, value)) {
    // A runner too old for output files (or a local run) reads the deprecated command.
    process.stdout.write(
      `${EOL}::set-output name=${escapeProperty(name)}::${escapeData(value)}${EOL}`
    )
  }
}

/** Saves a value for this action's post step (read back there with getState). */
export function saveState(name: string, value: string): void {
  if (!appendKeyValue('GITHUB_STATE', name, value)) {
    process.stdout.write(`::save-state name=${escapeProperty(name)}::${escapeData(value)}${EOL}`)
  }
}

/** A value the main step saved; the runner passes it to the post step as STATE_<name>. */
export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? ''
}

/** Masks a secret in every later log line of the job. */
export function setSecret(secret: string): void {
  issue('add-mask', secret)
}

export function info(message: string): void {
  process.stdout.write(message + EOL)
}

export function debug(message: string): void {
  issue('debug', message)
}

export function warning(message: string): void {
  issue('warning', message)
}

export function notice(message: string): void {
  issue('notice', message)
}

export function error(message: string): void {
  issue('error', message)
}

/** Fails the step: an error annotation and a non-zero exit code (without ending the process). */
export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

/** Runs fn inside a collapsible group of log lines. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  issue('group', name)
  try {
    return await fn()
  } finally {
    issue('endgroup', '')
  }
}

/** Appends HTML to the job summary; false when the runner gives no summary file. */
export function appendSummary(html: string): boolean {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (!file) return false
  fs.appendFileSync(file, html + EOL, 'utf8')
  return true
}

/**
 * `name<<DELIMITER`, the value, `DELIMITER`: the multi-line form the runner parses, with a
 * random delimiter that neither the name nor the value may contain.
 */
function appendKeyValue(variable: 'GITHUB_OUTPUT' | 'GITHUB_STATE', name: string, value: string) {
  const file = process.env[variable]
  if (!file) return false
  const delimiter = `ghadelimiter_${randomUUID()}`
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`${variable}: '${name}' contains the delimiter`)
  }
  fs.appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8')
  return true
}

function issue(command: string, message: string): void {
  process.stdout.write(`::${command}::${escapeData(message)}${EOL}`)
}

/** Command data: '%', CR and LF would end or forge the command. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** Command properties also must not contain ':' or ','. */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}
