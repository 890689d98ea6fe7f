/**
 * The client side of Token Exchange (RFC 8693 §2.1): the parameters of the grant request.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'

/** What `OAuth2Flow.tokenExchange` sends (token types default to access tokens). */
export interface TokenExchangeOptions {
  readonly subjectToken: string
  readonly subjectTokenType?: string
  readonly actorToken?: string
  readonly actorTokenType?: string
  readonly audience?: readonly string[]
  readonly resource?: readonly string[]
  readonly scopes?: readonly string[]
  readonly requestedTokenType?: string
}

const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'

/**
 * The form of a token exchange request.
 *
 * @example
 * ```ts
 * const form = tokenExchangeParams({ subjectToken, audience: ['https://billing.example'] })
 * ```
 */
export function tokenExchangeParams(options: TokenExchangeOptions): URLSearchParams {
  if (typeof options.subjectToken !== 'string' || options.subjectToken === '')
    throw new AuthkestraError('config_invalid', '"subjectToken" is required')
  const grant = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: options.subjectToken,
    subject_token_type: options.subjectTokenType ?? ACCESS_TOKEN,
  })
  if (options.actorToken !== undefined) {
    grant.set('actor_token', options.actorToken)
    grant.set('actor_token_type', options.actorTokenType ?? ACCESS_TOKEN)
  }
  for (const a of options.audience ?? []) grant.append('audience', a)
  for (const r of options.resource ?? []) grant.append('resource', r)
  if (options.scopes?.length) grant.set('scope', options.scopes.join(' '))
  if (options.requestedTokenType) grant.set('requested_token_type', options.requestedTokenType)
  return grant
}
