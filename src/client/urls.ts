/**
 * URL policy for endpoints the client talks to: `https:` always; `http:` on loopback hosts (a dev
 * identity provider on this machine) only for URLs the app configured, or that a loopback issuer
 * published, so a remote discovery document cannot point calls at the app's own host; `http:`
 * anywhere only with `allowInsecureHttp`.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'

/** True for `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  )
}

/**
 * Which `http:` URLs are acceptable: none (`'https-only'`), loopback ones (`'loopback'`), or any
 * (`'any'`, from `allowInsecureHttp`).
 */
export type HttpPolicy = 'https-only' | 'loopback' | 'any'

/**
 * Parses `value` as an absolute URL the client may call. Throws `config_invalid` for a value that
 * is not an absolute URL or carries a fragment, `insecure_url` for plain HTTP the policy refuses.
 */
export function checkEndpointUrl(
  value: unknown,
  name: string,
  policy: HttpPolicy = 'loopback',
): URL {
  if (typeof value !== 'string' || value === '') {
    throw new AuthkestraError('config_invalid', `"${name}" must be an absolute URL`)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new AuthkestraError('config_invalid', `"${name}" must be an absolute URL`)
  }
  if (url.hash !== '') {
    throw new AuthkestraError('config_invalid', `"${name}" must not contain a fragment`)
  }
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:') {
    if (policy === 'any') return url
    if (policy === 'loopback' && isLoopbackHost(url.hostname)) return url
  }
  throw new AuthkestraError(
    'insecure_url',
    policy === 'https-only'
      ? `"${name}" must use https: (a remote issuer cannot publish plain-http endpoints)`
      : `"${name}" must use https: (plain http is allowed only on loopback, or with allowInsecureHttp)`,
  )
}

/** The policy for URLs published by `issuer`'s discovery document. */
export function discoveredUrlPolicy(issuer: string, allowInsecureHttp: boolean): HttpPolicy {
  if (allowInsecureHttp) return 'any'
  return isLoopbackHost(new URL(issuer).hostname) ? 'loopback' : 'https-only'
}
