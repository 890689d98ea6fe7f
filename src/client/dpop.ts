/**
 * DPoP on the client (RFC 9449): each request to the token endpoint, userinfo or a resource
 * server carries a fresh proof signed by the session's key (`htm`, `htu`, `iat`, `jti`, and
 * `ath` with an access token); a server nonce (`DPoP-Nonce`) is remembered per origin and a
 * `use_dpop_nonce` answer is retried once with the new nonce (§8, §9).
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import type { DpopKey } from '../dpop/key.ts'
import { createDpopProof } from '../dpop/proof.ts'
import type { HttpResponse, ResolvedHttpOptions } from './http.ts'

/** What a DPoP request needs: the key, and the nonces servers handed out, by origin. */
export interface DpopContext {
  readonly key: DpopKey
  readonly nonces: Map<string, string>
  readonly clock: Clock
}

/** A nonce is an NQCHAR string (RFC 9449 §8.1); anything else is ignored. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/

/** At most this many origins' nonces are kept. */
const MAX_ORIGINS = 100

/** Remembers the `DPoP-Nonce` of an answer from `url`'s origin. */
export function learnNonce(context: DpopContext, url: URL, headers: Headers): string | undefined {
  const nonce = headers.get('dpop-nonce')
  if (nonce === null || !NONCE.test(nonce)) return undefined
  if (!context.nonces.has(url.origin) && context.nonces.size >= MAX_ORIGINS)
    context.nonces.delete(context.nonces.keys().next().value as string)
  context.nonces.set(url.origin, nonce)
  return nonce
}

/**
 * Whether an answer asks for a (new) nonce: the token endpoint's 400 `use_dpop_nonce` (§8), or a
 * resource server's 401 whose DPoP challenge says `error="use_dpop_nonce"` (§9).
 */
export function asksForNonce(status: number, headers: Headers, body?: Uint8Array): boolean {
  if (status === 401)
    return /\bDPoP\b[\s\S]*\berror="use_dpop_nonce"/i.test(headers.get('www-authenticate') ?? '')
  if (status !== 400 || body === undefined || body.length > 4096) return false
  try {
    return (
      (JSON.parse(new TextDecoder().decode(body)) as { error?: unknown }).error === 'use_dpop_nonce'
    )
  } catch {
    return false
  }
}

/** What {@link withDpop} reads of an answer. */
interface Answer {
  readonly status: number
  readonly headers: Headers
}

/**
 * Sends a request with a DPoP proof; when the answer asks for a nonce it now has (`asks`), sends
 * it once more with a fresh proof carrying it (`discard` releases the first answer).
 *
 * @example
 * ```ts
 * const response = await withDpop(context, 'POST', tokenEndpoint, undefined, (headers) =>
 *   httpRequest(tokenEndpoint, { method: 'POST', headers: { ...base, ...headers }, body }, http, 'token endpoint'),
 * )
 * ```
 */
export async function withDpop<R extends Answer>(
  context: DpopContext,
  method: string,
  url: URL,
  accessToken: string | undefined,
  send: (headers: Record<string, string>) => Promise<R>,
  asks: (answer: R) => boolean = (a) =>
    asksForNonce(a.status, a.headers, (a as Partial<HttpResponse>).body),
  discard: (answer: R) => Promise<void> = async () => {},
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    const nonce = context.nonces.get(url.origin)
    const proof = await createDpopProof(
      context.key,
      {
        method,
        url,
        ...(accessToken === undefined ? {} : { accessToken }),
        ...(nonce === undefined ? {} : { nonce }),
      },
      context.clock,
    )
    const answer = await send({ dpop: proof })
    const fresh = learnNonce(context, url, answer.headers)
    if (attempt > 0 || fresh === undefined || fresh === nonce || !asks(answer)) return answer
    await discard(answer)
  }
}

/** A resource request: method (default GET), headers, and a body that can be sent twice. */
export interface ResourceInit {
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | URLSearchParams
}

/**
 * A request to a protected resource with an access token: `Bearer`, or with `dpop` the `DPoP`
 * scheme and a proof carrying the token's `ath`, retried once for a nonce (RFC 9449 §7.1, §9).
 *
 * @example
 * ```ts
 * const response = await callResource(token, 'https://api.example/orders', {}, http, dpop)
 * ```
 */
export function callResource(
  accessToken: string,
  url: string | URL,
  init: ResourceInit,
  http: ResolvedHttpOptions,
  dpop: DpopContext | undefined,
): Promise<Response> {
  const target = new URL(url)
  const method = (init.method ?? 'GET').toUpperCase()
  const send = (extra: Record<string, string>) =>
    http.fetch(target, {
      method,
      headers: {
        ...init.headers,
        authorization: `${dpop ? 'DPoP' : 'Bearer'} ${accessToken}`,
        ...extra,
      },
      ...(init.body === undefined ? {} : { body: init.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(http.timeoutMs),
    })
  if (!dpop) return send({})
  return withDpop(
    dpop,
    method,
    target,
    accessToken,
    send,
    (r) => asksForNonce(r.status, r.headers),
    async (r) => {
      await r.body?.cancel()
    },
  )
}
