/**
 * Guards protect routes: a guard looks at a request and yields either a typed principal or the
 * response to send instead (401 with `WWW-Authenticate`, 403 for missing scope). Adapters run
 * guards as middleware; any framework can call them directly.
 *
 * @module
 */

/** The outcome of a guard. */
export type GuardResult<Principal> =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly response: Response }

/**
 * What a guard reads of a request: its absolute URL, method and headers. A Web `Request` is one;
 * the Node adapters pass a lighter object read straight from `node:http` (no Web `Request` built
 * per guarded request).
 */
export interface GuardRequest {
  readonly url: string
  readonly method: string
  readonly headers: { get(name: string): string | null }
}

/** A guard: request in, principal or refusal out. Never throws for a bad credential. */
export type Guard<Principal> = (request: GuardRequest) => Promise<GuardResult<Principal>>

/** The principal type of a guard. */
export type PrincipalOf<G> = G extends Guard<infer P> ? P : never

/**
 * A JSON refusal with the status and `WWW-Authenticate` given.
 *
 * @example
 * ```ts
 * return refuse(401, 'Bearer realm="api", error="invalid_token"', 'invalid_token')
 * ```
 */
export function refuse(
  status: 401 | 403,
  challenge: string | undefined,
  error: string,
  description?: string,
): GuardResult<never> {
  const headers = new Headers({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  })
  if (challenge !== undefined) headers.set('www-authenticate', challenge)
  const body = JSON.stringify(
    description === undefined ? { error } : { error, error_description: description },
  )
  return { ok: false, response: new Response(body, { status, headers }) }
}
