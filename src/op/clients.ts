/**
 * Client registration: checks each configured client (messages name the field), hashes its
 * secret, and matches redirect URIs exactly (RFC 9700 §2.1), with the RFC 8252 §7.3 loopback
 * port rule for native clients only.
 *
 * @module
 */
import { checkClientKeys } from './client-keys.ts'
import type { OpClientConfig } from './config.ts'
import { configError } from './config.ts'
import { type ClientRecord, DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT } from './store/types.ts'
import { secretId } from './tokens/secrets.ts'

/** RFC 6749 §3.3 scope token. */
export const isScopeToken = (value: string): boolean => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value)

/** The grant types the OP implements itself. */
export const BUILTIN_GRANTS = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  DEVICE_CODE_GRANT,
  TOKEN_EXCHANGE_GRANT,
] as const
const METHODS = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'] as const

function checkRedirectUri(value: unknown, field: string, native: boolean): string {
  if (typeof value !== 'string') throw configError(`"${field}" must be a string`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw configError(`"${field}" must be an absolute URL`)
  }
  if (url.hash !== '') throw configError(`"${field}" must not contain a fragment`)
  const loopback =
    url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
  const custom = native && !['http:', 'https:'].includes(url.protocol) && url.protocol.includes('.')
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback) && !custom) {
    throw configError(
      `"${field}" must use https (http only on loopback; private-use schemes only for native clients)`,
    )
  }
  return value
}

/**
 * An absolute https URL (http on loopback) without a fragment: Back-Channel Logout 1.0 §2.2,
 * Front-Channel Logout 1.0 §2, and a client's `jwks_uri` (RFC 7591 §2).
 */
export function checkHttpsUrl(value: unknown, field: string): string {
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (!url) throw configError(`"${field}" must be an absolute URL`)
  if (url.hash !== '') throw configError(`"${field}" must not contain a fragment`)
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw configError(`"${field}" must use https (http only on loopback)`)
  return url.href
}

/** Turns configured clients into stored records. */
export async function registerClient(
  config: OpClientConfig,
  index: number,
  knownScopes: ReadonlySet<string>,
  customGrants: ReadonlySet<string> = new Set(),
): Promise<ClientRecord> {
  const at = `clients[${index}]`
  if (typeof config !== 'object' || config === null) throw configError(`"${at}" must be an object`)
  if (typeof config.client_id !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(config.client_id)) {
    throw configError(`"${at}.client_id" must be 1 to 255 printable ASCII characters`)
  }
  const secret = config.client_secret
  if (
    secret !== undefined &&
    (typeof secret !== 'string' || secret === '' || !/^[\x20-\x7e]+$/.test(secret))
  ) {
    throw configError(`"${at}.client_secret" must be a non-empty printable ASCII string`)
  }
  const method =
    config.token_endpoint_auth_method ?? (secret === undefined ? 'none' : 'client_secret_basic')
  if (!METHODS.includes(method))
    throw configError(`"${at}.token_endpoint_auth_method" must be one of ${METHODS.join(', ')}`)
  const keys = checkClientKeys(config, at, method)
  if (method !== 'private_key_jwt' && (method === 'none') !== (secret === undefined)) {
    throw configError(
      `"${at}.client_secret" is required with "${method}" and forbidden with "none"`,
    )
  }
  const grantTypes = config.grant_types ?? ['authorization_code', 'refresh_token']
  const known: readonly string[] = [...BUILTIN_GRANTS, ...customGrants]
  if (!Array.isArray(grantTypes) || grantTypes.some((g) => !known.includes(g))) {
    throw configError(
      `"${at}.grant_types" may only list ${known.join(', ')} (a custom grant needs its handler in "grants")`,
    )
  }
  if (grantTypes.includes('client_credentials') && method === 'none') {
    throw configError(`"${at}.grant_types" cannot include client_credentials for a public client`)
  }
  const applicationType = config.application_type ?? 'web'
  if (applicationType !== 'web' && applicationType !== 'native') {
    throw configError(`"${at}.application_type" must be "web" or "native"`)
  }
  const redirects = config.redirect_uris ?? []
  if (
    !Array.isArray(redirects) ||
    (grantTypes.includes('authorization_code') && redirects.length === 0)
  ) {
    throw configError(`"${at}.redirect_uris" must list at least one URI`)
  }
  const redirectUris = redirects.map((u, i) =>
    checkRedirectUri(u, `${at}.redirect_uris[${i}]`, applicationType === 'native'),
  )
  const postLogout = config.post_logout_redirect_uris ?? []
  if (!Array.isArray(postLogout))
    throw configError(`"${at}.post_logout_redirect_uris" must be an array of URIs`)
  const postLogoutRedirectUris = postLogout.map((u, i) =>
    checkRedirectUri(u, `${at}.post_logout_redirect_uris[${i}]`, applicationType === 'native'),
  )
  const backchannel = config.backchannel_logout_uri
  if (backchannel !== undefined) checkHttpsUrl(backchannel, `${at}.backchannel_logout_uri`)
  const sessionRequired = config.backchannel_logout_session_required
  if (sessionRequired !== undefined && typeof sessionRequired !== 'boolean')
    throw configError(`"${at}.backchannel_logout_session_required" must be true or false`)
  const frontchannel = config.frontchannel_logout_uri
  if (frontchannel !== undefined) {
    const url = new URL(checkHttpsUrl(frontchannel, `${at}.frontchannel_logout_uri`))
    if (!redirectUris.some((r) => new URL(r).origin === url.origin))
      throw configError(
        `"${at}.frontchannel_logout_uri" must have the scheme, host and port of one of its redirect_uris`,
      )
  }
  const frontSession = config.frontchannel_logout_session_required
  if (frontSession !== undefined && typeof frontSession !== 'boolean')
    throw configError(`"${at}.frontchannel_logout_session_required" must be true or false`)
  const scopes = config.scope === undefined ? [] : String(config.scope).split(' ').filter(Boolean)
  for (const scope of scopes) {
    if (!isScopeToken(scope) || !knownScopes.has(scope)) {
      throw configError(
        `"${at}.scope" lists "${scope}", which is not a scope of this OP (add it to "scopes")`,
      )
    }
  }
  const dpopBound = config.dpop_bound_access_tokens
  if (dpopBound !== undefined && typeof dpopBound !== 'boolean')
    throw configError(`"${at}.dpop_bound_access_tokens" must be true or false`)
  const requirePar = config.require_pushed_authorization_requests
  if (requirePar !== undefined && typeof requirePar !== 'boolean')
    throw configError(`"${at}.require_pushed_authorization_requests" must be true or false`)
  if (config.pkce_plain !== undefined && config.pkce_plain !== 'allow-unsafe') {
    throw configError(`"${at}.pkce_plain" can only be "allow-unsafe"`)
  }
  return {
    clientId: config.client_id,
    ...(secret === undefined ? {} : { secretHash: await secretId(secret) }),
    tokenEndpointAuthMethod: method,
    ...keys,
    redirectUris,
    postLogoutRedirectUris,
    ...(backchannel === undefined ? {} : { backchannelLogoutUri: backchannel }),
    ...(sessionRequired === true ? { backchannelLogoutSessionRequired: true } : {}),
    ...(frontchannel === undefined ? {} : { frontchannelLogoutUri: frontchannel }),
    ...(frontSession === true ? { frontchannelLogoutSessionRequired: true } : {}),
    grantTypes: [...grantTypes],
    scopes,
    applicationType,
    skipConsent: config.skip_consent === true,
    allowPlainPkce: config.pkce_plain === 'allow-unsafe',
    resourceServer: config.resource_server === true,
    ...(dpopBound === true ? { dpopBoundAccessTokens: true } : {}),
    ...(requirePar === true ? { requirePushedAuthorizationRequests: true } : {}),
    name:
      typeof config.client_name === 'string' && config.client_name !== ''
        ? config.client_name
        : config.client_id,
  }
}

/**
 * Exact redirect URI match. For native clients, a loopback `http` URI matches any port
 * (RFC 8252 §7.3), everything else still exact.
 */
export function redirectUriAllowed(client: ClientRecord, requested: string): boolean {
  if (client.redirectUris.includes(requested)) return true
  if (client.applicationType !== 'native') return false
  let url: URL
  try {
    url = new URL(requested)
  } catch {
    return false
  }
  // Only the port may vary (RFC 8252 §7.3): the URI must already be in canonical form.
  if (url.href !== requested) return false
  if (url.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))
    return false
  return client.redirectUris.some((registered) => {
    const r = new URL(registered)
    if (r.protocol !== 'http:' || r.hostname !== url.hostname) return false
    r.port = url.port
    return r.href === url.href
  })
}
