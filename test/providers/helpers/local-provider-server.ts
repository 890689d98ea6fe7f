/**
 * A loopback HTTP server (node:http on 127.0.0.1, ephemeral port) that stands in for a
 * provider's real hosts in tests, plus:
 *
 * - `server.fetch(hosts)`: a `fetch` that sends requests meant for the given https origins
 *   (`https://github.com`, `https://api.github.com`, …) to the local server instead, keeping path
 *   and query and telling the server which host was meant in {@link INTENDED_HOST_HEADER}. Any
 *   other URL is refused, so a test can never reach the real network.
 * - `server.requests`: every request the server received, with its body, for assertions.
 * - {@link AuthorizationCodes}: codes issued at a simulated authorize step, bound to the client,
 *   the redirect URI and the PKCE challenge, redeemable once.
 */

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pkce } from '../../../src/core/pkce.ts'

/** Header carrying the host a rewritten request was meant for. */
export const INTENDED_HOST_HEADER = 'x-test-intended-host'

/** One request as the local server saw it. */
export interface RecordedRequest {
  readonly method: string
  /** The host the client meant (`api.github.com`), or the loopback host when not rewritten. */
  readonly host: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** The body parsed as `application/x-www-form-urlencoded` (empty for other bodies). */
  readonly form: URLSearchParams
}

/** What a handler answers. */
export interface Reply {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  /** Sent as `application/json` unless `headers` says otherwise. */
  readonly json?: unknown
  /** A raw body (used when `json` is absent). */
  readonly body?: string
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>

/** A running local provider. */
export interface LocalProviderServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  readonly requests: RecordedRequest[]
  /** A `fetch` sending requests for `origins` (e.g. `https://github.com`) to this server. */
  fetch(origins: readonly string[]): typeof fetch
  /** How many recorded requests match. */
  count(predicate: (request: RecordedRequest) => boolean): number
  close(): Promise<void>
}

function isForm(headers: IncomingHttpHeaders): boolean {
  return /^application\/x-www-form-urlencoded/i.test(headers['content-type'] ?? '')
}

/** Starts a server on 127.0.0.1 with an ephemeral port; every request goes to `handler`. */
export async function startLocalProviderServer(handler: Handler): Promise<LocalProviderServer> {
  const requests: RecordedRequest[] = []
  let origin = ''
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url ?? '/', origin)
      const intended = req.headers[INTENDED_HOST_HEADER]
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        host: typeof intended === 'string' ? intended : url.host,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        form: isForm(req.headers) ? new URLSearchParams(body) : new URLSearchParams(),
      }
      requests.push(request)
      Promise.resolve()
        .then(() => handler(request))
        .then(
          (reply) => {
            const headers: Record<string, string> = { 'cache-control': 'no-store' }
            let payload = reply.body ?? ''
            if (reply.json !== undefined) {
              headers['content-type'] = 'application/json; charset=utf-8'
              payload = JSON.stringify(reply.json)
            }
            res.writeHead(reply.status ?? 200, { ...headers, ...reply.headers })
            res.end(payload)
          },
          (err: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' })
            res.end(`local provider handler failed: ${String(err)}`)
          },
        )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  origin = `http://127.0.0.1:${port}`

  return {
    origin,
    requests,
    fetch(origins) {
      const allowed = new Set(origins.map((o) => new URL(o).origin))
      const rewriting = (input: string | URL | Request, init?: RequestInit) => {
        if (input instanceof Request) {
          throw new TypeError('local provider fetch: pass a URL, not a Request')
        }
        const target = new URL(input)
        if (!allowed.has(target.origin) && target.origin !== origin) {
          throw new TypeError(`local provider fetch: refusing to reach ${target.origin}`)
        }
        const headers = new Headers(init?.headers)
        if (target.origin !== origin) {
          headers.set(INTENDED_HOST_HEADER, target.host)
          const local = new URL(`${target.pathname}${target.search}`, origin)
          return globalThis.fetch(local, { ...init, headers })
        }
        return globalThis.fetch(target, { ...init, headers })
      }
      return rewriting as typeof fetch
    },
    count(predicate) {
      return requests.filter(predicate).length
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      )
    },
  }
}

/** Decodes an RFC 6749 §2.3.1 Basic header into the client id and secret (form-decoded). */
export function parseBasicAuth(
  header: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  const decode = (v: string) => new URLSearchParams(`v=${v}`).get('v') ?? ''
  return {
    clientId: decode(decoded.slice(0, colon)),
    clientSecret: decode(decoded.slice(colon + 1)),
  }
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer (\S+)$/i.exec(headers.authorization ?? '')
  return match?.[1]
}

/** An opaque random token with a prefix (`gho_…`). */
export function opaqueToken(prefix = ''): string {
  return `${prefix}${randomBytes(20).toString('hex')}`
}

/** What the authorize step bound a code to. */
export interface IssuedCode {
  readonly clientId: string
  readonly redirectUri: string
  readonly scopes: readonly string[]
  readonly codeChallenge: string | undefined
  readonly codeChallengeMethod: string | undefined
  readonly expiresAt: number
}

/** Why a code could not be redeemed. */
export type RedeemFailure =
  | 'unknown_code'
  | 'code_reused'
  | 'code_expired'
  | 'client_mismatch'
  | 'redirect_uri_mismatch'
  | 'pkce_failed'

/**
 * Authorization codes as a server keeps them: issued once, bound to client, redirect URI and
 * PKCE challenge, and consumed by the first redemption attempt, successful or not.
 */
export class AuthorizationCodes {
  readonly #codes = new Map<string, IssuedCode>()
  readonly #used = new Set<string>()
  readonly #ttlMs: number

  constructor(ttlMs = 60_000) {
    this.#ttlMs = ttlMs
  }

  /** Issues a code for an authorization request already checked by the caller. */
  issue(binding: Omit<IssuedCode, 'expiresAt'>): string {
    const code = opaqueToken()
    this.#codes.set(code, { ...binding, expiresAt: Date.now() + this.#ttlMs })
    return code
  }

  /** Redeems a code once; the PKCE verifier is checked with `Pkce.verify`. */
  async redeem(
    code: string | null,
    request: { clientId: string; redirectUri: string | null; codeVerifier: string | null },
  ): Promise<{ ok: true; grant: IssuedCode } | { ok: false; reason: RedeemFailure }> {
    if (code === null) return { ok: false, reason: 'unknown_code' }
    const grant = this.#codes.get(code)
    if (!grant) return { ok: false, reason: 'unknown_code' }
    if (this.#used.has(code)) return { ok: false, reason: 'code_reused' }
    this.#used.add(code)
    if (Date.now() >= grant.expiresAt) return { ok: false, reason: 'code_expired' }
    if (grant.clientId !== request.clientId) return { ok: false, reason: 'client_mismatch' }
    if (request.redirectUri !== grant.redirectUri) {
      return { ok: false, reason: 'redirect_uri_mismatch' }
    }
    if (grant.codeChallenge !== undefined) {
      const method = grant.codeChallengeMethod === 'plain' ? 'plain' : 'S256'
      const proven =
        method === 'S256' &&
        request.codeVerifier !== null &&
        (await Pkce.verify(request.codeVerifier, grant.codeChallenge, method))
      if (!proven) return { ok: false, reason: 'pkce_failed' }
    }
    return { ok: true, grant }
  }
}

/**
 * Plays the browser at the authorization URL: GETs it through `fetch` without following the
 * redirect and returns the `Location` the provider sent back (the callback URL).
 */
export async function followAuthorization(url: URL, fetchImpl: typeof fetch): Promise<URL> {
  const response = await fetchImpl(url, { redirect: 'manual' })
  await response.body?.cancel()
  const location = response.headers.get('location')
  if (response.status !== 302 || location === null) {
    throw new Error(`authorize step answered ${response.status} without a redirect`)
  }
  return new URL(location)
}
