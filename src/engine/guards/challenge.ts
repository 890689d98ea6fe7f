/**
 * What the built-in guards share: `WWW-Authenticate` challenges (RFC 9110 §11.6.1) built from
 * values checked at creation, refusals marked as "no credentials" or "credentials presented" (so
 * `anyOf` knows which refusal to return), and the 400 and 503 answers `refuse` does not cover.
 *
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'
import type { GuardRequest } from './types.ts'
import { type GuardResult, refuse } from './types.ts'

/** Whether the request carried a credential for this guard. */
export type Presented = 'none' | 'presented'

const marks = new WeakMap<Response, Presented>()

/**
 * A challenge: `Scheme name="value", …`. Values must come from {@link checkQuotable} or be
 * fixed strings of the guard; none contains `"` or `\`.
 */
export function challenge(scheme: string, params: readonly (readonly [string, string])[]): string {
  if (params.length === 0) return scheme
  return `${scheme} ${params.map(([name, value]) => `${name}="${value}"`).join(', ')}`
}

/**
 * Checks a configured value that goes into a quoted-string (a realm): 1–256 printable ASCII
 * characters without `"` or `\`, so no escaping is ever needed. Throws `config_invalid`.
 */
export function checkQuotable(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,256}$/.test(value)) {
    throw new AuthkestraError(
      'config_invalid',
      `"${name}" must be 1 to 256 printable ASCII characters without '"' or '\\'`,
    )
  }
  return value
}

/** A refusal, marked with whether a credential was presented. */
export function deny(
  presented: Presented,
  status: 400 | 401 | 403 | 503,
  challengeValue: string | undefined,
  error: string,
  description: string,
): GuardResult<never> {
  let result: GuardResult<never>
  if (status === 401 || status === 403) {
    result = refuse(status, challengeValue, error, description)
  } else {
    const headers = new Headers({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    })
    if (challengeValue !== undefined) headers.set('www-authenticate', challengeValue)
    const body = JSON.stringify({ error, error_description: description })
    result = { ok: false, response: new Response(body, { status, headers }) }
  }
  if (!result.ok) marks.set(result.response, presented)
  return result
}

/**
 * Whether a refusal means "no credentials": as marked by the built-in guards; for any other
 * guard's refusal, a 401 whose challenge carries no `error` attribute (RFC 6750 §3.1).
 */
export function isNoCredentials(response: Response): boolean {
  const mark = marks.get(response)
  if (mark !== undefined) return mark === 'none'
  return (
    response.status === 401 && !/\berror\s*=/i.test(response.headers.get('www-authenticate') ?? '')
  )
}

/** The `Authorization` header split into scheme (lowercased) and the rest, if there is one. */
export function authorization(request: GuardRequest): { scheme: string; rest: string } | undefined {
  const value = request.headers.get('authorization')
  if (value === null || value === '') return undefined
  const space = value.indexOf(' ')
  if (space === -1) return { scheme: value.toLowerCase(), rest: '' }
  return {
    scheme: value.slice(0, space).toLowerCase(),
    rest: value.slice(space).replace(/^ +/, ''),
  }
}
