/**
 * Discovery (OpenID Connect Discovery 1.0 §4, RFC 8414 §3): fetches the metadata document,
 * checks that its `issuer` is exactly the one asked for, and caches it as long as its
 * `Cache-Control` says, bounded to [1 minute, 24 hours] (1 hour when it says nothing).
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { httpRequest, parseJsonObject, type ResolvedHttpOptions } from './http.ts'
import type { AuthorizationServerMetadata } from './metadata.ts'
import type { ProviderConfig } from './provider-config.ts'
import { type BackoffPolicy, type Fetched, RemoteCache } from './remote-cache.ts'
import { checkEndpointUrl, discoveredUrlPolicy } from './urls.ts'

/** Which well-known document to read. */
export type DiscoveryKind = 'openid-configuration' | 'oauth-authorization-server'

const MIN_TTL_MS = 60_000
const MAX_TTL_MS = 86_400_000
const DEFAULT_TTL_MS = 3_600_000

/**
 * The well-known URL for an issuer (suffix for OIDC, path-inserted for RFC 8414).
 *
 * @example
 * ```ts
 * wellKnownUrl('https://id.example/tenant', 'openid-configuration').href
 * // 'https://id.example/tenant/.well-known/openid-configuration'
 * wellKnownUrl('https://id.example/tenant', 'oauth-authorization-server').href
 * // 'https://id.example/.well-known/oauth-authorization-server/tenant'
 * ```
 */
export function wellKnownUrl(issuer: string, kind: DiscoveryKind): URL {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/$/, '')
  if (kind === 'openid-configuration') {
    url.pathname = `${path}/.well-known/openid-configuration`
  } else {
    url.pathname = `/.well-known/oauth-authorization-server${path}`
  }
  return url
}

/** Time to cache a response, from its `Cache-Control`, within the bounds above. */
export function cacheTtlMs(cacheControl: string | null): number {
  if (!cacheControl) return DEFAULT_TTL_MS
  const directives = cacheControl.toLowerCase()
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(directives)) return MIN_TTL_MS
  const match = /(?:^|[\s,])max-age\s*=\s*"?(\d+)"?/.exec(directives)
  if (!match) return DEFAULT_TTL_MS
  const ms = Number(match[1]) * 1000
  return Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, ms))
}

const URL_FIELDS = [
  'authorization_endpoint',
  'token_endpoint',
  'userinfo_endpoint',
  'revocation_endpoint',
  'end_session_endpoint',
  'device_authorization_endpoint',
  'pushed_authorization_request_endpoint',
  'jwks_uri',
] as const

function validate(
  doc: Record<string, unknown>,
  issuer: string,
  kind: DiscoveryKind,
  allowInsecureHttp: boolean,
): AuthorizationServerMetadata {
  if (doc.issuer !== issuer) {
    throw new AuthkestraError(
      'discovery_issuer_mismatch',
      `discovery "issuer" must equal "${issuer}" exactly`,
    )
  }
  for (const field of URL_FIELDS) {
    const required =
      field === 'authorization_endpoint' ||
      field === 'token_endpoint' ||
      (field === 'jwks_uri' && kind === 'openid-configuration')
    if (doc[field] === undefined && !required) continue
    try {
      checkEndpointUrl(doc[field], field, discoveredUrlPolicy(issuer, allowInsecureHttp))
    } catch (err) {
      throw new AuthkestraError('discovery_invalid', `discovery ${(err as Error).message}`, {
        cause: err,
      })
    }
  }
  for (const field of [
    'scopes_supported',
    'code_challenge_methods_supported',
    'token_endpoint_auth_methods_supported',
    'id_token_signing_alg_values_supported',
  ]) {
    const value = doc[field]
    if (
      value !== undefined &&
      (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    ) {
      throw new AuthkestraError(
        'discovery_invalid',
        `discovery "${field}" must be an array of strings`,
      )
    }
  }
  const issParam = doc.authorization_response_iss_parameter_supported
  if (issParam !== undefined && typeof issParam !== 'boolean') {
    throw new AuthkestraError(
      'discovery_invalid',
      'discovery "authorization_response_iss_parameter_supported" must be a boolean',
    )
  }
  return doc as AuthorizationServerMetadata
}

/**
 * Caches one issuer's metadata, refreshing it when its time is up. Concurrent callers share one
 * fetch; after a failed fetch, callers get that failure without another request until a backoff
 * has passed (1 s, doubling per failure, at most 60 s), so a failing provider is not hammered.
 * `OAuth2Flow` keeps one per provider configured by issuer.
 *
 * @example
 * ```ts
 * const discovery = new DiscoveryCache('https://id.example', 'openid-configuration', {
 *   http: resolveHttpOptions(),
 *   clock: systemClock,
 *   allowInsecureHttp: false,
 * })
 * const { token_endpoint } = await discovery.get()
 * ```
 */
export class DiscoveryCache {
  readonly #cache: RemoteCache<AuthorizationServerMetadata>

  constructor(
    private readonly issuer: string,
    private readonly kind: DiscoveryKind,
    private readonly deps: {
      http: ResolvedHttpOptions
      clock: Clock
      allowInsecureHttp: boolean
      backoff?: BackoffPolicy
    },
  ) {
    this.#cache = new RemoteCache(() => this.#load(), { ...deps.backoff, clock: deps.clock })
  }

  /** The metadata, from cache while fresh. */
  get(): Promise<AuthorizationServerMetadata> {
    return this.#cache.get()
  }

  async #load(): Promise<Fetched<AuthorizationServerMetadata>> {
    const url = wellKnownUrl(this.issuer, this.kind)
    const response = await httpRequest(
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      this.deps.http,
      'discovery',
    )
    if (response.status !== 200) {
      throw new AuthkestraError(
        'discovery_invalid',
        `discovery document answered ${response.status}, expected 200`,
        { status: response.status },
      )
    }
    const metadata = validate(
      parseJsonObject(response, 'discovery'),
      this.issuer,
      this.kind,
      this.deps.allowInsecureHttp,
    )
    return { value: metadata, ttlMs: cacheTtlMs(response.headers.get('cache-control')) }
  }
}

/**
 * The discovery cache of a provider config: none without an issuer or with `discovery: 'none'`,
 * else the document it names (`openid-configuration` by default).
 */
export function discoveryOf(
  config: ProviderConfig,
  deps: { http: ResolvedHttpOptions; clock: Clock; backoff?: BackoffPolicy },
): DiscoveryCache | undefined {
  const kind = config.discovery ?? (config.issuer === undefined ? 'none' : 'openid-configuration')
  if (kind === 'none' || config.issuer === undefined) return undefined
  return new DiscoveryCache(config.issuer, kind, {
    ...deps,
    allowInsecureHttp: config.allowInsecureHttp === true,
  })
}
