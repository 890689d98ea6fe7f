/**
 * Which cookies the engine sets and how: `Secure` except on plain-http localhost (or as
 * configured), `__Host-` names for Secure cookies (all on `Path=/`), and one flow cookie per
 * login, named after a hash of its `state`, so two logins in two tabs never overwrite each other.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import type { GuardRequest } from './guards/types.ts'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Whether cookies for this request get `Secure`. */
export function secureFor(request: GuardRequest, setting: 'auto' | boolean): boolean {
  if (setting !== 'auto') return setting
  const url = new URL(request.url)
  return !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))
}

/** The name of a site-wide cookie: `__Host-` prefixed when Secure. */
export function siteCookieName(
  base: string,
  secure: boolean,
  configured: string | undefined,
): string {
  if (configured !== undefined) return configured
  return secure ? `__Host-${base}` : base
}

/** The prefix of flow cookie names: `__Host-ak_flow_` when Secure, else `ak_flow_`. */
export function flowCookiePrefix(secure: boolean): string {
  return secure ? '__Host-ak_flow_' : 'ak_flow_'
}

/**
 * The flow cookie name for a login's `state`. When Secure it has the `__Host-` prefix (RFC 6265bis
 * §4.1.3.2): the browser then only takes it from this very host over https, with `Path=/` and no
 * `Domain`, so neither a sibling subdomain nor a plain-http network attacker can plant a flow
 * cookie of their own login in a victim's browser (login CSRF, RFC 9700 §4.7).
 */
export async function flowCookieName(state: string, secure: boolean): Promise<string> {
  const hash = encodeBase64url(await defaultCrypto.sha256(state)).slice(0, 16)
  return `${flowCookiePrefix(secure)}${hash}`
}
