/**
 * Client authentication at the token, revocation and similar endpoints (RFC 6749 §2.3.1).
 * Basic encodes id and secret with `application/x-www-form-urlencoded` before base64, as §2.3.1
 * requires (most hand-rolled clients forget, and break on secrets with `:` or `%`).
 *
 * @module
 */
import type { ClientAuthMethod } from './provider-config.ts'

/** The client's credentials and how to present them. */
export interface ClientCredentials {
  readonly clientId: string
  readonly clientSecret?: string
  readonly method: ClientAuthMethod
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

/** Adds the client's authentication to a form body and headers, per its method. */
export function applyClientAuth(
  client: ClientCredentials,
  body: URLSearchParams,
  headers: Record<string, string>,
): void {
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
  }
}
