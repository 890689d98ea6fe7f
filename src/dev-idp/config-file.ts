/**
 * The dev IdP's config file: JSON with `clients` and `users`, or a JavaScript module (`.mjs`,
 * `.js`) whose default export also has what only code can say: `grants` (custom grant
 * handlers), `tokenExchange` (its policy) and `deviceFlow`, as `createOp` takes them. A user may
 * carry `totp_secret`: a TOTP factor enrolled at start (so the login asks for its code); `dpop`
 * configures DPoP (RFC 9449) and `par` Pushed Authorization Requests (RFC 9126) as `createOp`
 * takes them; `signingAlgs` and `refreshTokens` are the OP's signing algorithms and OP-wide
 * refresh-token policy, and `profile: "fapi2"` the FAPI 2.0 Security Profile, as `createOp`
 * takes them; `resources` the protected resources (RFC 8707) clients may name with `resource`,
 * each client's `allowed_resources` those it may name; `rateLimits` and `trustedProxies` the
 * OP's rate limits and the proxies whose `X-Forwarded-For` it believes; `captcha` a bot check on
 * the login page (`captcha.ts`: provider, site key, secret or the variable holding it, when);
 * `devsig` device enrolment for device-bound request signatures (docs/devsig.md). Errors
 * name the field, e.g. `"users[1].password" must be a non-empty string`.
 *
 * @module
 */

import type {
  OpAccountConfig,
  OpClientConfig,
  OpConfig,
  OpDpopOptions,
  OpParOptions,
} from '../op/config.ts'
import type { OpDevsigOptions } from '../op/devsig.ts'
import { checkCaptchaSection, type DevIdpCaptcha } from './captcha.ts'

/** The parts of `createOp`'s config a module config file may add. */
export type DevIdpCode = Pick<OpConfig, 'grants' | 'tokenExchange' | 'deviceFlow'>

/** A user of the file: an account, and a TOTP secret enrolled for it (base32), if any. */
export type DevIdpUser = OpAccountConfig & { readonly totp_secret?: string }

/** The file's shape. */
export interface DevIdpFile {
  /** `"fapi2"`: the FAPI 2.0 Security Profile (`createOp`'s `profile`, see docs/fapi2.md). */
  readonly profile?: OpConfig['profile']
  readonly clients: readonly OpClientConfig[]
  readonly users: readonly DevIdpUser[]
  /** DPoP at the token and userinfo endpoints (`createOp`'s `dpop`: nonces, algorithms). */
  readonly dpop?: OpDpopOptions
  /** Pushed Authorization Requests (`createOp`'s `par`: required of all, `request_uri` lifetime). */
  readonly par?: OpParOptions
  /** Device enrolment for request signatures (`createOp`'s `devsig`, docs/devsig.md). */
  readonly devsig?: OpDevsigOptions
  /** The OP's signing algorithms, the default first (`createOp`'s `signingAlgs`). */
  readonly signingAlgs?: OpConfig['signingAlgs']
  /** The OP-wide refresh-token policy (`createOp`'s `refreshTokens`). */
  readonly refreshTokens?: OpConfig['refreshTokens']
  /** Protected resources (RFC 8707, `createOp`'s `resources`): `{ resource, scopes, accessTokenTtl }`. */
  readonly resources?: OpConfig['resources']
  /** Rate limits (`createOp`'s `rateLimits`: each `{ limit, windowSeconds }` or `"off-unsafe"`). */
  readonly rateLimits?: OpConfig['rateLimits']
  /** The proxies whose `X-Forwarded-For` is believed (`createOp`'s `trustedProxies`). */
  readonly trustedProxies?: OpConfig['trustedProxies']
  /** A bot check on the login page (Turnstile, hCaptcha, reCAPTCHA v3; see `captcha.ts`). */
  readonly captcha?: DevIdpCaptcha
  /** From a module config file only. */
  readonly code?: DevIdpCode
}

/** A config file problem, with the field it is about. */
export class DevIdpConfigError extends Error {
  override name = 'DevIdpConfigError'
}

/** The demo client and user when no config is given. */
export const DEMO: DevIdpFile = {
  clients: [
    {
      client_id: 'demo-app',
      redirect_uris: ['http://localhost:3000/auth/callback/authkestra'],
      token_endpoint_auth_method: 'none',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      client_name: 'Authkestra demo app',
    },
  ],
  users: [
    {
      username: 'alice',
      password: 'wonderland',
      claims: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
    },
  ],
}

const CLIENT_KEYS = [
  'client_id',
  'client_secret',
  'redirect_uris',
  'post_logout_redirect_uris',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'frontchannel_logout_uri',
  'frontchannel_logout_session_required',
  'token_endpoint_auth_method',
  'grant_types',
  'skip_consent',
  'client_name',
  'resource_server',
  'scope',
  'application_type',
  'dpop_bound_access_tokens',
  'require_pushed_authorization_requests',
  'allowed_resources',
  'id_token_signed_response_alg',
  'refresh_token_rotation',
  'refresh_token_grace_seconds',
  // private_key_jwt (OIDC Core §9, RFC 7591 §2): createOp checks the keys themselves.
  'jwks',
  'jwks_uri',
  'token_endpoint_auth_signing_alg',
]
const USER_KEYS = ['username', 'password', 'claims', 'sub', 'totp_secret']

function fail(message: string): never {
  throw new DevIdpConfigError(message)
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`"${field}" must be an object`)
  return value as Record<string, unknown>
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      fail(`"${field}.${key}" is not a known field (allowed: ${allowed.join(', ')})`)
  }
}

/** Parses and checks the text of a JSON config file. */
export function parseDevIdpFile(text: string): DevIdpFile {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    fail(`config file is not valid JSON (${(err as Error).message})`)
  }
  return checkDevIdpConfig(raw, false)
}

const CODE_KEYS = ['grants', 'tokenExchange', 'deviceFlow'] as const
const DPOP_KEYS = [
  'nonce',
  'nonceSecret',
  'algorithms',
  'proofMaxAgeSeconds',
  'clockToleranceSeconds',
]
const PAR_KEYS = ['required', 'requestUriTtlSeconds']
const DEVSIG_KEYS = ['attestationTtlSeconds', 'challengeTtlSeconds', 'algorithms', 'secondFactor']
const TOP_KEYS = [
  'profile',
  'clients',
  'users',
  'dpop',
  'par',
  'devsig',
  'signingAlgs',
  'refreshTokens',
  'resources',
  'rateLimits',
  'trustedProxies',
  'captcha',
]
const RATE_LIMIT_KEYS = [
  'passwordPerIp',
  'passwordPerUsername',
  'tokenFailuresPerClient',
  'deviceEntryPerIp',
  'interactionsPerIp',
]
const RESOURCE_KEYS = ['resource', 'scopes', 'accessTokenTtl']
const REFRESH_KEYS = ['rotation', 'graceSeconds']

/**
 * Checks a config: the JSON file's parsed value, or a module's default export (`module`), which
 * may also carry {@link DevIdpCode}; `createOp` checks those parts when it starts.
 */
export function checkDevIdpConfig(raw: unknown, module: boolean): DevIdpFile {
  const root = object(raw, module ? 'default export' : 'config')
  onlyKeys(root, [...TOP_KEYS, ...(module ? CODE_KEYS : [])], 'config')
  // createOp checks what `dpop` says; here only its shape.
  const dpop =
    root.dpop === undefined ? undefined : (object(root.dpop, 'dpop') as unknown as OpDpopOptions)
  if (dpop) onlyKeys(dpop as Record<string, unknown>, DPOP_KEYS, 'dpop')
  const par =
    root.par === undefined ? undefined : (object(root.par, 'par') as unknown as OpParOptions)
  if (par) onlyKeys(par as Record<string, unknown>, PAR_KEYS, 'par')
  const devsig =
    root.devsig === undefined
      ? undefined
      : (object(root.devsig, 'devsig') as unknown as OpDevsigOptions)
  if (devsig) onlyKeys(devsig as Record<string, unknown>, DEVSIG_KEYS, 'devsig')
  // Likewise `signingAlgs` and `refreshTokens`: their shape here, their values in createOp.
  if (root.signingAlgs !== undefined && !Array.isArray(root.signingAlgs))
    fail('"signingAlgs" must be an array, e.g. ["ES256", "RS256"]')
  const refreshTokens =
    root.refreshTokens === undefined ? undefined : object(root.refreshTokens, 'refreshTokens')
  if (refreshTokens) onlyKeys(refreshTokens, REFRESH_KEYS, 'refreshTokens')
  if (root.profile !== undefined && root.profile !== 'fapi2')
    fail('"profile" must be "fapi2" (the FAPI 2.0 Security Profile) when set')
  // `resources`: each entry's shape here; createOp checks the URIs, scopes and lifetimes.
  if (root.resources !== undefined && !Array.isArray(root.resources))
    fail('"resources" must be an array, e.g. [{ "resource": "https://api.example" }]')
  const resources = ((root.resources as unknown[] | undefined) ?? []).map((r, i) => {
    const entry = object(r, `resources[${i}]`)
    onlyKeys(entry, RESOURCE_KEYS, `resources[${i}]`)
    return entry
  })
  // `rateLimits` and `trustedProxies`: their shape here, their values in createOp.
  const rateLimits =
    root.rateLimits === undefined ? undefined : object(root.rateLimits, 'rateLimits')
  if (rateLimits) onlyKeys(rateLimits, RATE_LIMIT_KEYS, 'rateLimits')
  if (
    root.trustedProxies !== undefined &&
    (!Array.isArray(root.trustedProxies) ||
      !root.trustedProxies.every((p) => typeof p === 'string'))
  )
    fail('"trustedProxies" must be an array of addresses or CIDR ranges, e.g. ["loopback"]')
  if (!Array.isArray(root.clients) || root.clients.length === 0)
    fail('"clients" must be a non-empty array')
  if (root.users !== undefined && !Array.isArray(root.users)) fail('"users" must be an array')
  const clients = root.clients.map((c, i) => {
    const client = object(c, `clients[${i}]`)
    onlyKeys(client, CLIENT_KEYS, `clients[${i}]`)
    if (typeof client.client_id !== 'string' || client.client_id === '')
      fail(`"clients[${i}].client_id" must be a non-empty string`)
    if (
      !Array.isArray(client.redirect_uris) ||
      !client.redirect_uris.every((u) => typeof u === 'string')
    ) {
      fail(`"clients[${i}].redirect_uris" must be an array of URL strings`)
    }
    if (client.client_secret !== undefined && typeof client.client_secret !== 'string')
      fail(`"clients[${i}].client_secret" must be a string`)
    if (client.skip_consent !== undefined && typeof client.skip_consent !== 'boolean')
      fail(`"clients[${i}].skip_consent" must be true or false`)
    if (client.grant_types !== undefined && !Array.isArray(client.grant_types))
      fail(`"clients[${i}].grant_types" must be an array`)
    if (client.jwks !== undefined) object(client.jwks, `clients[${i}].jwks`)
    if (client.allowed_resources !== undefined && !Array.isArray(client.allowed_resources))
      fail(`"clients[${i}].allowed_resources" must be an array of resource URIs`)
    return client as unknown as OpClientConfig
  })
  const users = ((root.users as unknown[] | undefined) ?? []).map((u, i) => {
    const user = object(u, `users[${i}]`)
    onlyKeys(user, USER_KEYS, `users[${i}]`)
    if (typeof user.username !== 'string' || user.username === '')
      fail(`"users[${i}].username" must be a non-empty string`)
    if (typeof user.password !== 'string' || user.password === '')
      fail(`"users[${i}].password" must be a non-empty string`)
    if (user.claims !== undefined) object(user.claims, `users[${i}].claims`)
    if (
      user.totp_secret !== undefined &&
      (typeof user.totp_secret !== 'string' || !/^[A-Za-z2-7 =]{16,128}$/.test(user.totp_secret))
    )
      fail(`"users[${i}].totp_secret" must be a base32 secret of at least 10 bytes`)
    return user as unknown as DevIdpUser
  })
  const code: Record<string, unknown> = {}
  for (const key of CODE_KEYS) if (root[key] !== undefined) code[key] = object(root[key], key)
  return {
    ...(root.profile === 'fapi2' ? { profile: 'fapi2' as const } : {}),
    clients,
    users,
    ...(dpop ? { dpop } : {}),
    ...(par ? { par } : {}),
    ...(devsig ? { devsig } : {}),
    ...(root.signingAlgs === undefined
      ? {}
      : { signingAlgs: root.signingAlgs as OpConfig['signingAlgs'] }),
    ...(refreshTokens ? { refreshTokens: refreshTokens as OpConfig['refreshTokens'] } : {}),
    ...(root.resources === undefined
      ? {}
      : { resources: resources as unknown as OpConfig['resources'] }),
    ...(rateLimits ? { rateLimits: rateLimits as OpConfig['rateLimits'] } : {}),
    ...(root.trustedProxies === undefined
      ? {}
      : { trustedProxies: root.trustedProxies as readonly string[] }),
    ...(root.captcha === undefined ? {} : { captcha: checkCaptchaSection(root.captcha, fail) }),
    ...(module ? { code: code as DevIdpCode } : {}),
  }
}
