/**
 * Resource Indicators (RFC 8707): the protected resources (APIs) this OP issues access tokens
 * for, checked once at `createOp`, and the rules every endpoint shares: what a `resource` value
 * may look like (§2: an absolute URI without fragment), which a client may name (its
 * `allowed_resources`), and what a token for one resource carries (`aud` = the resource, only
 * the scopes it accepts, its own lifetime).
 *
 * @module
 */
import { isAbsoluteUriWithoutFragment } from '../core/uri.ts'
import { isScopeToken } from './clients.ts'
import { configError, OIDC_SCOPES } from './config.ts'
import { OAuthProblem } from './errors.ts'
import type { Params } from './http/params.ts'
import type { ClientRecord } from './store/types.ts'

/** A protected resource the OP issues access tokens for (`createOp({ resources })`). */
export interface OpResource {
  /** Its identifier (RFC 8707 §2): an absolute URI without fragment, e.g. `https://api.example.com`. */
  readonly resource: string
  /** The scopes it accepts; a token for it carries no other. Default: every non-OpenID scope. */
  readonly scopes?: readonly string[] | undefined
  /** Lifetime of its access tokens in seconds; at most the OP's `ttl.accessToken` (the default). */
  readonly accessTokenTtl?: number | undefined
}

/** A configured resource, checked. */
export interface ResolvedResource {
  readonly resource: string
  /** Undefined: every scope but the OpenID Connect ones. */
  readonly scopes: ReadonlySet<string> | undefined
  readonly accessTokenTtl: number
}

/** The configured resources by identifier. */
export type ResolvedResources = ReadonlyMap<string, ResolvedResource>

/** Longest resource identifier accepted. */
export const MAX_RESOURCE_LENGTH = 2048
/** Most `resource` parameters one request may carry. */
export const MAX_RESOURCES_PER_REQUEST = 10

/**
 * True when `value` is a resource indicator RFC 8707 §2 allows: an absolute URI (it has a
 * scheme), without a fragment, of bounded length.
 *
 * @example
 * ```ts
 * isResourceIndicator('https://api.example.com') // true
 * isResourceIndicator('/api') // false: relative
 * ```
 */
export function isResourceIndicator(value: string): boolean {
  return value.length <= MAX_RESOURCE_LENGTH && isAbsoluteUriWithoutFragment(value)
}

/**
 * Checks `createOp({ resources })`: each an absolute URI without fragment, none twice, none equal
 * to the OP's own access-token audience (userinfo tokens and API tokens must not be confused),
 * scopes that are scope tokens, a lifetime no longer than the OP's. Throws naming what is wrong.
 *
 * @example
 * ```ts
 * const resources = resolveResources([{ resource: 'https://api.example.com' }], 600, issuer)
 * ```
 */
export function resolveResources(
  list: readonly OpResource[] | undefined,
  maxTtl: number,
  opAudience: string,
): ResolvedResources {
  const out = new Map<string, ResolvedResource>()
  if (list === undefined) return out
  if (!Array.isArray(list)) throw configError('"resources" must be an array')
  for (const [i, entry] of list.entries()) {
    const at = `resources[${i}]`
    const resource = (entry as Partial<OpResource> | undefined)?.resource
    if (typeof resource !== 'string' || !isResourceIndicator(resource))
      throw configError(`"${at}.resource" must be an absolute URI without fragment`)
    if (out.has(resource)) throw configError(`"${at}.resource" is a duplicate`)
    if (resource === opAudience)
      throw configError(`"${at}.resource" is the OP's own access-token audience`)
    const scopes = entry.scopes
    if (scopes !== undefined && (!Array.isArray(scopes) || !scopes.every(isScopeToken)))
      throw configError(`"${at}.scopes" must be an array of scope tokens`)
    const ttl = entry.accessTokenTtl ?? maxTtl
    if (!Number.isInteger(ttl) || ttl <= 0 || ttl > maxTtl)
      throw configError(
        `"${at}.accessTokenTtl" must be a positive integer of at most "ttl.accessToken" (${maxTtl})`,
      )
    out.set(resource, {
      resource,
      scopes: scopes === undefined ? undefined : new Set(scopes),
      accessTokenTtl: ttl,
    })
  }
  return out
}

/**
 * Checks a client's `allowed_resources`: each one of the configured resources. Absent: the
 * client may name none.
 *
 * @example
 * ```ts
 * const allowed = checkAllowedResources(client.allowed_resources, 'clients[0]', resources)
 * ```
 */
export function checkAllowedResources(
  value: unknown,
  at: string,
  resources: ResolvedResources,
): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw configError(`"${at}.allowed_resources" must be an array of resource URIs`)
  for (const [i, resource] of value.entries()) {
    if (!resources.has(resource))
      throw configError(`"${at}.allowed_resources[${i}]" is not one of the OP's "resources"`)
  }
  return [...new Set(value as string[])]
}

/** `invalid_target` (RFC 8707 §2); the description never repeats the presented value. */
export const invalidTarget = (description: string): OAuthProblem =>
  new OAuthProblem('invalid_target', description)

/**
 * The `resource` parameters of a request (RFC 8707 §2: it may repeat), deduplicated, each
 * checked: an absolute URI without fragment, configured, and allowed for `client`. An empty
 * list when there is none; `invalid_target` otherwise.
 *
 * @example
 * ```ts
 * const resources = requestedResources(params, client, deps.settings.resources)
 * ```
 */
export function requestedResources(
  params: Params,
  client: Pick<ClientRecord, 'allowedResources'>,
  resources: ResolvedResources,
): string[] {
  const values = params.raw.getAll('resource')
  if (values.length > MAX_RESOURCES_PER_REQUEST) throw invalidTarget('too many "resource" values')
  for (const value of values) {
    if (!isResourceIndicator(value))
      throw invalidTarget('"resource" must be an absolute URI without fragment')
    if (!resources.has(value)) throw invalidTarget('"resource" is not a resource of this OP')
    if (!client.allowedResources?.includes(value))
      throw invalidTarget('"resource" is not allowed for this client')
  }
  return [...new Set(values)]
}

/**
 * The scopes of a token for `resource`: those of `scopes` it accepts. OpenID Connect scopes are
 * the OP's own (userinfo), so a token for a resource never carries them.
 *
 * @example
 * ```ts
 * scopesForResource(['openid', 'read', 'write'], resource) // ['read'] if it accepts only read
 * ```
 */
export function scopesForResource(
  scopes: readonly string[],
  resource: ResolvedResource,
): readonly string[] {
  return scopes.filter(
    (s) => !OIDC_SCOPES.has(s) && (resource.scopes === undefined || resource.scopes.has(s)),
  )
}
