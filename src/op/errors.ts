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
