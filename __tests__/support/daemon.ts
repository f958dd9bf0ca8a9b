/**
 * Off-the-shelf servers the tests start in the foreground (nginx, squid): a free port on
 * 127.0.0.1, waiting until one listens, and stopping one.
 */
import type { ChildProcess } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as net from 'node:net'

/** A port on 127.0.0.1 that nothing listens on now (it was bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

/** Resolves once the port accepts connections; rejects with the program's own words if it exits. */
export async function waitUntilListening(
  name: string,
  child: ChildProcess,
  port: number,
  logFile: string,
  timeoutMs: number
): Promise<void> {
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  const exited = new Promise<never>((_, reject) => {
    const fail = async (why: string) => {
      const log = await fsp.readFile(logFile, 'utf8').catch(() => '')
      reject(new Error(`${name} ${why}: ${stderr.trim()} ${log.trim()}`))
    }
    child.once('error', error => void fail(`could not start (${error.message})`))
    child.once('exit', code => void fail(`exited with ${code}`))
  })
  exited.catch(() => undefined) // observed through the race below
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ready = await Promise.race([canConnect(port), exited])
    if (ready) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${name} did not listen on port ${port} within ${timeoutMs} ms`)
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** SIGTERM, then SIGKILL if it lingers; removes its directory. */
export async function stopDaemon(
  child: ChildProcess,
  dir: string | undefined,
  timeoutMs: number
): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
  }
  if (dir) await fsp.rm(dir, { recursive: true, force: true })
}
