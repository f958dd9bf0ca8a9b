/**
 * Throwaway TLS identities for test servers and proxies: a key and a self-signed certificate
 * made by openssl, for a host name or an IP address.
 *
 *   const identity = await selfSignedIdentity(dir, 'cachew.proxy.test')   // or '127.0.0.1'
 *   https.createServer(identity, ...)   // identity.certFile for NODE_EXTRA_CA_CERTS / GIT_SSL_CAINFO
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import { isIP } from 'node:net'
import * as path from 'node:path'

export interface Identity {
  key: Buffer
  cert: Buffer
  certFile: string
}

/** Writes key.pem and cert.pem (P-256, valid one day) into `dir`, which it creates. */
export async function selfSignedIdentity(dir: string, host: string): Promise<Identity> {
  await fs.mkdir(dir, { recursive: true })
  const keyFile = path.join(dir, 'key.pem')
  const certFile = path.join(dir, 'cert.pem')
  const altName = isIP(host) ? `IP:${host}` : `DNS:${host}`
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=${altName}`,
      '-keyout',
      keyFile,
      '-out',
      certFile
    ],
    { stdio: 'pipe' }
  )
  const [key, cert] = await Promise.all([fs.readFile(keyFile), fs.readFile(certFile)])
  return { key, cert, certFile }
}
