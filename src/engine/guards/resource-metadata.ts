/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the `bearer` guard: the JSON document
 * describing this API (its resource identifier, the authorization servers that issue its tokens,
 * the scopes it understands, how tokens are sent), the well-known path it is served at (§3.1),
 * and the URL the guard's `WWW-Authenticate` challenges point clients to (§5.1).
 *
 * @module
 */
import { isScopeToken } from '../../client/resolve-provider.ts'
import { checkEndpointUrl } from '../../client/urls.ts'
import { AuthkestraError } from '../../core/errors.ts'

/** What `bearer({ resourceMetadata })` publishes about the API (RFC 9728 §2). */
export interface ResourceMetadataOptions {
  /**
   * The resource identifier (§2 `resource`): an https URL (http only on loopback) without query
   * or fragment, e.g. `https://api.example.com`. Tokens must have it as `aud` unless the guard's
   * `audience` says otherwise; clients send it as the RFC 8707 `resource` parameter.
   */
  readonly resource: string
  /** Issuer identifiers of the authorization servers whose tokens this API accepts. */
  readonly authorizationServers: readonly string[]
  /** The scopes this API understands (`scopes_supported`). */
  readonly scopesSupported?: readonly string[]
  /** A name for people (`resource_name`). */
  readonly resourceName?: string
  /** A page for developers (`resource_documentation`). */
  readonly resourceDocumentation?: string
  /** Further members of the document (e.g. `resource_policy_uri`); never overriding the above. */
  readonly extra?: Readonly<Record<string, unknown>>
}

/** The metadata endpoint of a guard: where it lives, what it serves, and a handler serving it. */
export interface ResourceMetadataEndpoint {
  /** The well-known path (§3.1): `/.well-known/oauth-protected-resource` + the resource's path. */
  readonly path: string
  /** The absolute URL of the document, as the challenges' `resource_metadata` carry it. */
  readonly url: string
  /** The document (§2). */
  readonly document: Readonly<Record<string, unknown>>
  /** Answers GET/HEAD at `path` with the document (§3.2); 404 elsewhere, 405 for other methods. */
  handler(request: Request): Response
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource'

function configError(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

function checkStrings(value: unknown, name: string, each: (s: string) => boolean): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && each(s)))
    throw configError(`"resourceMetadata.${name}" is malformed`)
  return [...(value as string[])]
}

/**
 * The well-known URL of a resource's metadata (RFC 9728 §3.1): the suffix goes between the host
 * and the path, a path of `/` alone counting as none.
 *
 * @example
 * ```ts
 * resourceMetadataUrl('https://api.example.com/v1').href
 * // 'https://api.example.com/.well-known/oauth-protected-resource/v1'
 * ```
 */
export function resourceMetadataUrl(resource: string): URL {
  const url = new URL(resource)
  const path = url.pathname === '/' ? '' : url.pathname
  return new URL(`${WELL_KNOWN}${path}`, url.origin)
}

/**
 * Checks the options and builds the endpoint. Throws `config_invalid` (or `insecure_url`)
 * naming the option. `dpop` adds what the guard's DPoP settings say (§2
 * `dpop_signing_alg_values_supported`, `dpop_bound_access_tokens_required`).
 *
 * @example
 * ```ts
 * const endpoint = resourceMetadataEndpoint({
 *   resource: 'https://api.example.com',
 *   authorizationServers: ['https://id.example.com'],
 * })
 * endpoint.path // '/.well-known/oauth-protected-resource'
 * ```
 */
export function resourceMetadataEndpoint(
  options: ResourceMetadataOptions,
  dpop?: { readonly algorithms: readonly string[]; readonly required: boolean },
): ResourceMetadataEndpoint {
  if (typeof options !== 'object' || options === null)
    throw configError('"resourceMetadata" must be an object')
  const resource = checkEndpointUrl(options.resource, 'resourceMetadata.resource')
  if (resource.search !== '' || options.resource.includes('?'))
    throw configError('"resourceMetadata.resource" must not contain a query')
  const servers = checkStrings(options.authorizationServers, 'authorizationServers', (s) => {
    checkEndpointUrl(s, 'resourceMetadata.authorizationServers[]')
    return true
  })
  const scopes =
    options.scopesSupported === undefined
      ? undefined
      : checkStrings(options.scopesSupported, 'scopesSupported', isScopeToken)
  if (options.resourceDocumentation !== undefined)
    checkEndpointUrl(options.resourceDocumentation, 'resourceMetadata.resourceDocumentation')
  if (options.resourceName !== undefined && typeof options.resourceName !== 'string')
    throw configError('"resourceMetadata.resourceName" must be a string')
  const document: Record<string, unknown> = {
    ...(options.extra ?? {}),
    // §2: exactly the identifier configured (clients compare it, §3.3).
    resource: options.resource,
    authorization_servers: servers,
    // The guard reads the Authorization header only (RFC 6750 §2.1).
    bearer_methods_supported: ['header'],
    ...(scopes === undefined ? {} : { scopes_supported: scopes }),
    ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
    ...(options.resourceDocumentation === undefined
      ? {}
      : { resource_documentation: options.resourceDocumentation }),
    ...(dpop
      ? {
          dpop_signing_alg_values_supported: [...dpop.algorithms],
          dpop_bound_access_tokens_required: dpop.required,
        }
      : {}),
  }
  const url = resourceMetadataUrl(options.resource)
  const body = JSON.stringify(document)
  return {
    path: url.pathname,
    url: url.href,
    document,
    handler(request) {
      if (new URL(request.url).pathname !== url.pathname)
        return new Response('not found', { status: 404 })
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } })
      return new Response(request.method === 'HEAD' ? null : body, {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'cache-control': 'public, max-age=300',
          'access-control-allow-origin': '*',
        },
      })
    },
  }
}
