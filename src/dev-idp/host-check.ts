/**
 * The `Host` check of servers that listen on loopback (the dev IdP, the demo). Binding to
 * 127.0.0.1 keeps other machines out, but not other web pages: a page the developer visits can
 * point its own name at 127.0.0.1 (DNS rebinding) and then drive the server as a same-origin
 * page. Such requests carry the attacker's name in `Host`, so every request whose `Host` is not a
 * name the server answers to is refused before anything else runs: 421 Misdirected Request
 * (RFC 9110 §15.5.20) for another name, 400 when `Host` is absent or not a host.
 *
 * @module
 */

/** A host as URLs write it (`name:port`, lowercased, default port dropped), or undefined. */
export function normalizeHost(value: string, defaultPort?: number): string | undefined {
  if (value === '' || /[\s/?#@\\]/.test(value)) return undefined
  try {
    const url = new URL(`http://${value}`)
    if (url.username !== '' || url.password !== '' || url.pathname !== '/') return undefined
    if (url.port === '' && defaultPort !== undefined && defaultPort !== 80)
      return `${url.host}:${defaultPort}`
    return url.host
  } catch {
    return undefined
  }
}

/**
 * The set of `Host` values to serve: each entry is `name` or `name:port`; a bare name takes
 * `port` (the port the server listens on).
 *
 * @example
 * ```ts
 * allowedHostSet(['127.0.0.1', 'localhost:9000'], 9000) // Set { '127.0.0.1:9000', 'localhost:9000' }
 * ```
 */
export function allowedHostSet(entries: readonly string[], port: number): ReadonlySet<string> {
  const set = new Set<string>()
  for (const entry of entries) {
    const host = normalizeHost(entry, port)
    if (host === undefined) throw new TypeError(`"${entry}" is not a host name`)
    set.add(host)
  }
  return set
}

/** What to answer for a `Host` header: undefined to serve it, else the refusal's status. */
export function checkHost(
  header: string | string[] | undefined,
  allowed: ReadonlySet<string>,
): 400 | 421 | undefined {
  if (typeof header !== 'string') return 400
  const host = normalizeHost(header)
  if (host === undefined) return 400
  return allowed.has(host) ? undefined : 421
}

/**
 * The refusal for `status` as plain text. It echoes nothing of the request; `origin`, the
 * server's own address, tells a developer who typed another name where to go.
 */
export function hostRefusal(
  status: 400 | 421,
  origin: string,
): { status: number; headers: Record<string, string>; body: string } {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body:
      status === 421
        ? `This server does not answer to that host name. Use ${origin}\n`
        : 'Bad Request: missing or malformed Host header.\n',
  }
}
