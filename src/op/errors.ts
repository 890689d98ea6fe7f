/**
 * OAuth problems inside the OP: an RFC 6749 `error` value, a public description, the HTTP status
 * and any headers (`WWW-Authenticate`). Endpoints throw them; the endpoint turns them into the
 * JSON body, redirect or page the RFCs prescribe. Descriptions never contain request values.
 *
 * @module
 */

/** An OAuth error an endpoint answers with. */
export class OAuthProblem extends Error {
  override name = 'OAuthProblem'
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description)
  }
}

/** `invalid_request` with this description. */
export const invalidRequest = (description: string): OAuthProblem =>
  new OAuthProblem('invalid_request', description)

/** The `error` values a custom grant may refuse with (RFC 6749 §5.2, client authentication aside). */
export type GrantErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unauthorized_client'

const GRANT_ERROR_CODES: ReadonlySet<string> = new Set<GrantErrorCode>([
  'invalid_request',
  'invalid_grant',
  'invalid_scope',
  'unauthorized_client',
])

/** RFC 6749 §5.2: `error_description` is %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/

/**
 * Thrown by a custom grant's handler to refuse a request with an RFC 6749 §5.2 error (400).
 * The description is the handler's; never put a presented value in it.
 *
 * @example
 * ```ts
 * throw new GrantError('invalid_grant', 'the assertion has expired')
 * ```
 */
export class GrantError extends OAuthProblem {
  override name = 'GrantError'
  constructor(error: GrantErrorCode, description: string) {
    if (!GRANT_ERROR_CODES.has(error)) throw new TypeError(`GrantError: "${error}" is not allowed`)
    super(error, DESCRIPTION.test(description) ? description : 'the grant was refused')
  }
}
