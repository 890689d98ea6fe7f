/**
 * Resource Indicators (RFC 8707) on the client: the `resource` values a login, a refresh or a
 * client-credentials request names (absolute URIs without fragment, §2), how they go on the
 * wire (the parameter repeats), and what a login for an API changes (its access token is for the
 * API, so userinfo is not called with it unless asked).
 *
 * @module
 */

import { AuthkestraError } from '../core/errors.ts'
import { isAbsoluteUriWithoutFragment } from '../core/uri.ts'

/** Most resources one request names. */
const MAX_RESOURCES = 10

/**
 * Checks `resource` (one URI or a list): each an absolute URI without fragment (RFC 8707 §2),
 * at most 10; `config_invalid` naming `name` otherwise. Undefined when none is given.
 *
 * @example
 * ```ts
 * checkResources('https://api.example.com', 'resource') // ['https://api.example.com']
 * ```
 */
export function checkResources(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_RESOURCES)
    throw new AuthkestraError('config_invalid', `"${name}" must be a URI or a list of 1 to 10`)
  for (const item of list) {
    if (!isAbsoluteUriWithoutFragment(item))
      throw new AuthkestraError(
        'config_invalid',
        `"${name}" must be absolute URIs without fragment (RFC 8707 §2)`,
      )
  }
  return [...new Set(list as string[])]
}

/**
 * Adds one `resource` parameter per value (RFC 8707 §2: the parameter repeats).
 *
 * @example
 * ```ts
 * appendResources(url.searchParams, ['https://api.example.com'])
 * ```
 */
export function appendResources(
  params: URLSearchParams,
  resources: readonly string[] | undefined,
): void {
  for (const resource of resources ?? []) params.append('resource', resource)
}

/**
 * The `resource` of a token request as a grant field: RFC 8707 §2.2 lets a token request name
 * one resource for its access token; a login or refresh naming several asks for the first.
 *
 * @example
 * ```ts
 * const grant = { grant_type: 'refresh_token', ...resourceField(['https://api.example.com']) }
 * ```
 */
export function resourceField(
  resources: readonly string[] | undefined,
): { resource: string } | Record<string, never> {
  const first = resources?.[0]
  return first === undefined ? {} : { resource: first }
}

/**
 * Whether a login reads userinfo: `fetchUserinfo` decides when set; by default yes, except after
 * a login for a resource (its access token is the API's, which the provider's userinfo may
 * refuse — ours does).
 *
 * @example
 * ```ts
 * wantsUserinfo(config.fetchUserinfo, flowState.resources !== undefined)
 * ```
 */
export function wantsUserinfo(fetchUserinfo: boolean | undefined, forResource: boolean): boolean {
  return fetchUserinfo ?? !forResource
}
