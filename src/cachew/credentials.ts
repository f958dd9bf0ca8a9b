/**
 * The one rule for where cachew's Authorization header may go: only to the origin (scheme,
 * host and port) of server-url. The server's X-Cachew-Bundle-Url may be absolute and name any
 * host; a misconfigured or hostile server, or a proxy rewriting headers, must not be able to
 * collect the token that way. git's side of the same rule is the extraheader's URL scope
 * (gitCredentialScope), which git matches by scheme, host, port and path prefix: within the
 * same origin, never wider.
 */

/** The Authorization value to send with a request to url: the secret only for server-url's origin. */
export function authorizationFor(
  serverUrl: string,
  authorization: string | undefined,
  url: string
): string | undefined {
  if (authorization === undefined) return undefined
  return sameOrigin(serverUrl, url) ? authorization : undefined
}

/** Whether url has server-url's scheme, host and port (default ports made explicit). */
export function sameOrigin(serverUrl: string, url: string): boolean {
  return new URL(url).origin === new URL(serverUrl).origin
}

/** The URL git scopes the Authorization extraheader to: http.<this>.extraheader. */
export function gitCredentialScope(serverUrl: string): string {
  return `${serverUrl.replace(/\/+$/, '')}/`
}
