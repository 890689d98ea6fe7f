/**
 * URL policy for endpoints the client talks to: `https:` always, `http:` only on loopback hosts
 * (a dev identity provider on this machine) unless `allowInsecureHttp` is set.
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
 * Parses `value` as an absolute URL the client may call. Throws `config_invalid` for a value that
 * is not an absolute URL or carries a fragment, `insecure_url` for plain HTTP off loopback.
 */
export function checkEndpointUrl(value: unknown, name: string, allowInsecureHttp = false): URL {
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
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname))) return url
  throw new AuthkestraError(
    'insecure_url',
    `"${name}" must use https: (plain http is allowed only on loopback, or with allowInsecureHttp)`,
  )
}
