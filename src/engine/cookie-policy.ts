/**
 * Which cookies the engine sets and how: `Secure` except on plain-http localhost (or as
 * configured), `__Host-` names for Secure cookies on `/`, and one flow cookie per login, named
 * after a hash of its `state` and scoped to its provider's callback path, so two logins in two
 * tabs never overwrite each other.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { defaultCrypto } from '../core/crypto/index.ts'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Whether cookies for this request get `Secure`. */
export function secureFor(request: Request, setting: 'auto' | boolean): boolean {
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

/** The flow cookie name for a login's `state`. */
export async function flowCookieName(state: string): Promise<string> {
  return `ak_flow_${encodeBase64url(await defaultCrypto.sha256(state)).slice(0, 16)}`
}
