/**
 * cachew's Authorization goes to server-url's origin and nowhere else: the rule itself, and
 * the transport on real sockets, checked by what a real server on 127.0.0.1 received.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { authorizationFor, gitCredentialScope, sameOrigin } from '../src/cachew/credentials.js'
import { HttpTransport } from '../src/download/http.js'

describe('authorizationFor', () => {
  const server = 'https://cachew.example.com'
  const secret = 'Bearer s3cret'

  it('gives the secret to server-url’s own origin, whatever the path', () => {
    expect(
      authorizationFor(server, secret, 'https://cachew.example.com/git/x/snapshot.tar.zst')
    ).toBe(secret)
    expect(authorizationFor(`${server}/prefix/`, secret, `${server}:443/other`)).toBe(secret)
  })

  it('withholds it from another host, scheme or port', () => {
    for (const url of [
      'https://evil.example.com/git/x',
      'https://cachew.example.com.evil.example/git/x',
      'http://cachew.example.com/git/x',
      'https://cachew.example.com:8443/git/x',
      'https://user@evil.example.com/'
    ]) {
      expect(authorizationFor(server, secret, url)).toBeUndefined()
      expect(sameOrigin(server, url)).toBe(false)
    }
  })

  it('has nothing to give without a secret', () => {
    expect(authorizationFor(server, undefined, `${server}/x`)).toBeUndefined()
  })

  it('scopes git to the same server, as a URL prefix', () => {
    expect(gitCredentialScope('https://cachew.example.com//')).toBe('https://cachew.example.com/')
    expect(gitCredentialScope('http://127.0.0.1:8080/base')).toBe('http://127.0.0.1:8080/base/')
  })
})

describe('HttpTransport', () => {
  let server: http.Server
  let port: number
  const received: Array<{ host?: string; authorization?: string }> = []

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received.push({ host: req.headers.host, authorization: req.headers.authorization })
      res.end('ok')
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    await new Promise(resolve => server.close(resolve))
  })

  it('sends Authorization to server-url’s origin only', async () => {
    const transport = new HttpTransport(
      { serverUrl: `http://127.0.0.1:${port}`, authorization: 'Bearer only-for-cachew' },
      2
    )
    try {
      // The same server under another name is another origin.
      for (const url of [`http://127.0.0.1:${port}/a`, `http://localhost:${port}/b`]) {
        const response = await transport.request(url)
        response.resume()
      }
    } finally {
      transport.close()
    }
    expect(received).toEqual([
      { host: `127.0.0.1:${port}`, authorization: 'Bearer only-for-cachew' },
      { host: `localhost:${port}`, authorization: undefined }
    ])
  })
})
