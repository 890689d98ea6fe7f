/**
 * Client authentication at the token, revocation and similar endpoints (RFC 6749 §2.3.1), and
 * `private_key_jwt` (RFC 7523 §2.2): a fresh signed assertion on every request.
 * Basic encodes id and secret with `application/x-www-form-urlencoded` before base64, as §2.3.1
 * requires (most hand-rolled clients forget, and break on secrets with `:` or `%`).
 *
 * @module
 */
import type { AssertionFor, ClientAssertionKey } from './client-assertion.ts'
import { signClientAssertion } from './client-assertion.ts'
import type { ClientAuthMethod } from './provider-config.ts'

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The client's credentials and how to present them. */
export interface ClientCredentials {
  readonly clientId: string
  readonly clientSecret?: string
  readonly method: ClientAuthMethod
  /** `private_key_jwt`: the signing key, the `aud` and the clock of its assertions. */
  readonly assertion?: {
    readonly key: ClientAssertionKey
    readonly audience: AssertionFor['audience']
    readonly clock: AssertionFor['clock']
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/**
 * Adds the client's authentication to a form body and headers, per its method; for
 * `private_key_jwt`, a newly signed assertion (call it again for a retried request).
 *
 * @example
 * ```ts
 * const body = new URLSearchParams({ grant_type: 'client_credentials' })
 * const headers: Record<string, string> = {}
 * await applyClientAuth({ clientId: 'c', clientSecret: 's', method: 'client_secret_basic' }, body, headers)
 * ```
 */
export async function applyClientAuth(
  client: ClientCredentials,
  body: URLSearchParams,
  headers: Record<string, string>,
): Promise<void> {
  switch (client.method) {
    case 'client_secret_basic': {
      const pair = `${formEncode(client.clientId)}:${formEncode(client.clientSecret ?? '')}`
      headers.authorization = `Basic ${base64(pair)}`
      return
    }
    case 'client_secret_post':
      body.set('client_id', client.clientId)
      body.set('client_secret', client.clientSecret ?? '')
      return
    case 'none':
      body.set('client_id', client.clientId)
      return
    case 'private_key_jwt': {
      const { assertion } = client
      if (!assertion) throw new Error('private_key_jwt without a client key')
      body.set('client_id', client.clientId)
      body.set('client_assertion_type', JWT_BEARER_ASSERTION)
      body.set(
        'client_assertion',
        await signClientAssertion(assertion.key, { clientId: client.clientId, ...assertion }),
      )
      return
    }
  }
}
