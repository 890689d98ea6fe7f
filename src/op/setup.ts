/**
 * From `OpConfig` to what the endpoints use: the issuer's URLs, TTLs, the store with clients and
 * accounts registered, the keys, and the account source (built-in or the app's hooks).
 *
 * @module
 */

import { encodeBase64url } from '../core/base64url.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import type { KeyResolver } from '../core/jwt-types.ts'
import { hashPassword, verifyPassword } from '../core/password.ts'
import type { Mfa } from '../mfa/create-mfa.ts'
import { type ClientKeySource, createClientKeySource } from './client-jwks.ts'
import { type ResolvedClientAssertion, resolveClientAssertion } from './client-keys.ts'
import { isScopeToken, registerClient } from './clients.ts'
import {
  configError,
  type OpAccount,
  type OpConfig,
  type OpLogger,
  type ResolvedTtl,
  resolveTtl,
  STANDARD_SCOPES,
  type TokenExchangeOptions,
} from './config.ts'
import { type ResolvedDevsig, resolveDevsig } from './devsig.ts'
import { type ResolvedDpop, resolveDpop } from './dpop.ts'
import { type ResolvedCaptcha, resolveCaptcha } from './endpoints/interaction/captcha.ts'
import { type ResolvedPar, resolvePar } from './endpoints/par/pushed.ts'
import { type ResolvedCustomGrant, resolveCustomGrants } from './endpoints/token/grants/custom.ts'
import { applyProfile, type OpProfile } from './fapi2.ts'
import type { OpRequest } from './http/message.ts'
import { createKeyManager, type KeyManager } from './keys.ts'
import { clientAddressResolver, type OpLimits, resolveLimits } from './limits.ts'
import { type Backchannel, createBackchannel } from './logout/backchannel.ts'
import { createLogoutNotifier, type LogoutNotifier } from './logout/notifier.ts'
import { clientRefreshPolicy, resolveRefreshDefaults } from './refresh-policy.ts'
import { checkAllowedResources, type ResolvedResources, resolveResources } from './resources.ts'
import { createSealKeys, type SealKeys } from './seal-keys.ts'
import { checkIdTokenAlg, type ResolvedSigningAlgs, resolveSigningAlgs } from './signing-algs.ts'
import { createMemoryOpStore } from './store/memory.ts'
import type { OpStore } from './store/types.ts'
import { resolveTokenExchange } from './token-exchange-settings.ts'

/** The OP's own URLs. */
export interface OpUrls {
  readonly authorization: string
  readonly token: string
  readonly userinfo: string
  readonly jwks: string
  readonly revocation: string
  readonly introspection: string
  readonly interaction: string
  /** RP-Initiated Logout 1.0 `end_session_endpoint`. */
  readonly endSession: string
  /** RFC 8628 §3.1 `device_authorization_endpoint`. */
  readonly deviceAuthorization: string
  /** RFC 8628 §3.2 `verification_uri`: where a person enters the user code. */
  readonly deviceVerification: string
  /** RFC 9126 §5 `pushed_authorization_request_endpoint`. */
  readonly par: string
  /** The account page: second factors and passkeys (with `mfa`). */
  readonly account: string
  /** Device-bound request signatures: the enrolment challenge (docs/devsig.md). */
  readonly devsigChallenge: string
  /** Device-bound request signatures: the enrolment (docs/devsig.md). */
  readonly devsigEnroll: string
}

/** Finds and authenticates accounts. */
export interface AccountSource {
  /** The subject, or null: unknown user and wrong password are indistinguishable. */
  authenticate(username: string, password: string): Promise<string | null>
  find(sub: string): Promise<OpAccount | undefined>
}

/** What endpoints read (data, not capabilities: each endpoint also gets its narrow deps). */
export interface OpSettings {
  readonly issuer: string
  /** The security profile the OP runs under (`createOp({ profile })`), if any. */
  readonly profile: OpProfile | undefined
  /** Path prefix the OP is mounted at (issuer path, no trailing slash). */
  readonly basePath: string
  readonly urls: OpUrls
  readonly ttl: ResolvedTtl
  readonly scopes: ReadonlySet<string>
  readonly audience: string
  /** RFC 8707: the configured resources (APIs) by identifier. */
  readonly resources: ResolvedResources
  /** The default signing algorithm (deprecated: read `signingAlgs.default`). */
  readonly signingAlg: ResolvedSigningAlgs['default']
  /** Every signing algorithm the OP holds a key for, the default first. */
  readonly signingAlgs: ResolvedSigningAlgs
  /** Cookies get `Secure` unless the issuer is http on loopback. */
  readonly secureCookies: boolean
  readonly interactionUrl: string | undefined
  readonly autoLogin: string | undefined
  /** The Device Authorization Grant's polling interval (s) and user-code entry limit. */
  readonly device: { readonly interval: number; readonly maxFailedEntries: number }
  /** Token Exchange: the policy (none: every exchange refused) and the trusted JWT issuers. */
  readonly tokenExchange: {
    readonly policy: TokenExchangeOptions['policy']
    readonly trusted: ReadonlyMap<string, { keys: KeyResolver; audience: string }>
  }
  /** Custom grants (RFC 6749 §4.5) by `grant_type`. */
  readonly customGrants: ReadonlyMap<string, ResolvedCustomGrant>
  /** DPoP (RFC 9449): accepted algorithms, nonces, proof age. */
  readonly dpop: ResolvedDpop
  /** Pushed Authorization Requests (RFC 9126): required of every client, `request_uri` lifetime. */
  readonly par: ResolvedPar
  /** `private_key_jwt` assertions: algorithms, lifetime, clock tolerance, `jwks_uri` fetching. */
  readonly clientAssertion: ResolvedClientAssertion
  /** Device-bound request signatures (`createOp({ devsig })`); undefined when off. */
  readonly devsig: ResolvedDevsig | undefined
}

/** The running pieces of an OP. */
export interface OpRuntime {
  readonly settings: OpSettings
  readonly store: OpStore
  readonly keys: KeyManager
  readonly accounts: AccountSource
  readonly clock: Clock
  readonly logger: OpLogger
  readonly logout: LogoutNotifier
  readonly backchannel: Backchannel
  /** Second factors and passkeys, when configured (`createOp({ mfa })`). */
  readonly mfa: Mfa | undefined
  /** The public keys of `private_key_jwt` clients (`jwks`, or fetched from `jwks_uri`). */
  readonly clientKeys: ClientKeySource
  /** The rate limits (`createOp({ rateLimits })`, see `limits.ts`). */
  readonly limits: OpLimits
  /** The client's address behind the trusted proxies (`createOp({ trustedProxies })`). */
  readonly clientAddress: (request: OpRequest) => string | undefined
  /** A bot check on the login page, when configured (`createOp({ captcha })`). */
  readonly captcha: ResolvedCaptcha | undefined
  /** The keys interaction cookies are sealed and CSRF tokens MACed with (`seal-keys.ts`). */
  readonly seal: SealKeys
}

const defaultLogger: OpLogger = {
  // biome-ignore lint/suspicious/noConsole: the default logger is the console; pass `logger` to change it
  warn: (message) => console.warn(`[authkestra op] ${message}`),
  // biome-ignore lint/suspicious/noConsole: as above; only the message, never request data
  error: (message) => console.error(`[authkestra op] ${message}`),
  // biome-ignore lint/suspicious/noConsole: audited decisions (token exchanges allowed)
  info: (message) => console.info(`[authkestra op] ${message}`),
}

function resolveIssuer(value: unknown): URL {
  if (typeof value !== 'string') throw configError('"issuer" must be a URL string')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw configError('"issuer" must be an absolute URL')
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw configError('"issuer" must use https (http only on loopback)')
  }
  if (url.search !== '' || url.hash !== '' || value.endsWith('/')) {
    throw configError('"issuer" must have no query, fragment or trailing slash')
  }
  return url
}

/** A sub derived from the username, stable across restarts. */
async function defaultSub(username: string): Promise<string> {
  return encodeBase64url(
    (await defaultCrypto.sha256(`authkestra-account:${username}`)).subarray(0, 12),
  )
}

/** A dummy hash, so that an unknown username costs the same time as a wrong password. */
let dummyHash: Promise<string> | undefined

function builtinAccounts(store: OpStore): AccountSource {
  return {
    async authenticate(username, password) {
      const index = await store.get('username', username)
      const account = index ? await store.get('account', index.sub) : undefined
      dummyHash ??= hashPassword('authkestra-dummy-password')
      const hash = account?.passwordHash ?? (await dummyHash)
      const ok = await verifyPassword(password, hash)
      return ok && account ? account.sub : null
    },
    async find(sub) {
      const account = await store.get('account', sub)
      return account ? { sub: account.sub, claims: account.claims } : undefined
    },
  }
}

/** A client record's `allowedResources`, from its checked `allowed_resources`. */
function allowedResourcesField(value: unknown, at: string, resources: ResolvedResources) {
  const allowed = checkAllowedResources(value, at, resources)
  return allowed === undefined ? {} : { allowedResources: allowed }
}

/** Checks the config, registers clients and accounts, and builds the runtime. */
export async function setupOp(given: OpConfig): Promise<OpRuntime> {
  if (typeof given !== 'object' || given === null) throw configError('OP config must be an object')
  const config = applyProfile(given)
  const issuerUrl = resolveIssuer(config.issuer)
  const issuer = issuerUrl.href.replace(/\/$/, '')
  const basePath = issuerUrl.pathname.replace(/\/$/, '')
  const clock = config.clock ?? systemClock
  const logger = config.logger ?? defaultLogger
  const extraScopes = config.scopes ?? []
  for (const scope of extraScopes) {
    if (!isScopeToken(scope))
      throw configError(`"scopes" lists "${scope}", which is not a scope token`)
  }
  const scopes = new Set<string>([...STANDARD_SCOPES, ...extraScopes])
  const signingAlgs = resolveSigningAlgs(config)
  const refreshDefaults = resolveRefreshDefaults(config.refreshTokens)
  if (config.interactionUrl !== undefined) {
    try {
      new URL(config.interactionUrl)
    } catch {
      throw configError('"interactionUrl" must be an absolute URL')
    }
  }
  const store = config.store ?? createMemoryOpStore({ clock })
  if (!config.store)
    logger.warn('using the in-memory store: clients, sessions and keys are lost on restart')
  const seal = await createSealKeys({ store, clock, secret: config.secret })
  if (config.dangerouslyAutoLogin !== undefined) {
    logger.warn(
      `auto-login is on: every authorization is granted to "${config.dangerouslyAutoLogin}" (tests only)`,
    )
  }
  const customGrants = resolveCustomGrants(config.grants)
  const device = resolveDeviceFlow(config.deviceFlow)
  const audience = config.accessTokenAudience ?? issuer
  const resources = resolveResources(config.resources, resolveTtl(config.ttl).accessToken, audience)
  const clientAssertion = resolveClientAssertion(config.clientAssertion)
  const seen = new Set<string>()
  for (const [i, client] of (config.clients ?? []).entries()) {
    const registered = await registerClient(client, i, scopes, new Set(customGrants.keys()))
    const idTokenAlg = checkIdTokenAlg(
      client.id_token_signed_response_alg,
      `clients[${i}]`,
      signingAlgs,
    )
    const refresh = clientRefreshPolicy(client, registered, `clients[${i}]`, refreshDefaults)
    if (refresh.fellBack)
      logger.warn(
        `client "${registered.clientId}" is neither confidential nor DPoP-bound: its refresh tokens rotate ("refreshTokens.rotation" "none" does not apply)`,
      )
    const record = {
      ...registered,
      ...(idTokenAlg === undefined ? {} : { idTokenSignedResponseAlg: idTokenAlg }),
      ...refresh.fields,
      ...allowedResourcesField(client.allowed_resources, `clients[${i}]`, resources),
    }
    if (seen.has(record.clientId)) throw configError(`"clients[${i}].client_id" is a duplicate`)
    seen.add(record.clientId)
    const secret = client.client_secret
    if (secret !== undefined && secret.length < 32) {
      logger.warn(
        `client "${record.clientId}" has a secret shorter than 32 characters; use a long random one`,
      )
    }
    await store.set('client', record.clientId, record)
  }
  for (const [i, account] of (config.accounts ?? []).entries()) {
    if (typeof account?.username !== 'string' || account.username === '') {
      throw configError(`"accounts[${i}].username" must be a non-empty string`)
    }
    if (typeof account.password !== 'string' || account.password === '') {
      throw configError(`"accounts[${i}].password" must be a non-empty string`)
    }
    const sub = account.sub ?? (await defaultSub(account.username))
    await store.set('account', sub, {
      sub,
      username: account.username,
      passwordHash: await hashPassword(account.password),
      claims: { preferred_username: account.username, ...account.claims },
    })
    await store.set('username', account.username, { sub })
  }
  const builtin = builtinAccounts(store)
  const accounts: AccountSource = {
    authenticate: config.authenticate ?? builtin.authenticate,
    find: config.findAccount ?? builtin.find,
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(issuerUrl.hostname)
  const ttl = resolveTtl(config.ttl)
  const devsig = resolveDevsig(config.devsig)
  const longest = Math.max(ttl.accessToken, ttl.idToken, devsig?.attestationTtlSeconds ?? 0)
  const keys = createKeyManager({
    store,
    algs: signingAlgs,
    clock,
    retentionMs: (longest + 60) * 1000,
  })
  await keys.signingKey()
  const backchannel = createBackchannel({
    issuer,
    keys,
    clock,
    logger,
    options: config.backchannelLogout,
  })
  return {
    settings: {
      issuer,
      profile: config.profile,
      basePath,
      urls: {
        authorization: `${issuer}/authorize`,
        token: `${issuer}/token`,
        userinfo: `${issuer}/userinfo`,
        jwks: `${issuer}/jwks`,
        revocation: `${issuer}/revoke`,
        introspection: `${issuer}/introspect`,
        interaction: `${issuer}/interaction`,
        endSession: `${issuer}/logout`,
        deviceAuthorization: `${issuer}/device_authorization`,
        deviceVerification: `${issuer}/device`,
        par: `${issuer}/par`,
        account: `${issuer}/account`,
        devsigChallenge: `${issuer}/devsig/challenge`,
        devsigEnroll: `${issuer}/devsig/enroll`,
      },
      ttl,
      scopes,
      audience,
      resources,
      signingAlg: signingAlgs.default,
      signingAlgs,
      secureCookies: !(issuerUrl.protocol === 'http:' && loopback),
      interactionUrl: config.interactionUrl,
      autoLogin: config.dangerouslyAutoLogin,
      device,
      tokenExchange: resolveTokenExchange(config.tokenExchange, issuer),
      customGrants,
      dpop: resolveDpop(config.dpop, clock, logger),
      par: resolvePar(config.par),
      clientAssertion,
      devsig,
    },
    store,
    keys,
    accounts,
    clock,
    logger,
    logout: createLogoutNotifier({ store, backchannel }),
    backchannel,
    mfa: checkMfa(config.mfa),
    clientKeys: createClientKeySource(clientAssertion, { clock, logger }),
    limits: resolveLimits(config.rateLimits, store, device.maxFailedEntries, { clock, logger }),
    clientAddress: clientAddressResolver(config.trustedProxies),
    captcha: resolveCaptcha(config.captcha, config.interactionUrl),
    seal,
  }
}

/** `mfa` must be what `createMfa` returns. */
function checkMfa(mfa: unknown): Mfa | undefined {
  if (mfa === undefined) return undefined
  if (typeof mfa !== 'object' || mfa === null || typeof (mfa as Mfa).verifyTotp !== 'function')
    throw configError('"mfa" must be made by createMfa (authkestra/mfa)')
  return mfa as Mfa
}

/** Fills the Device Authorization Grant's defaults and checks bounds. */
function resolveDeviceFlow(options: OpConfig['deviceFlow']): OpSettings['device'] {
  const interval = options?.interval ?? 5
  const maxFailedEntries = options?.maxFailedEntries ?? 20
  if (!Number.isInteger(interval) || interval < 1 || interval > 60)
    throw configError('"deviceFlow.interval" must be an integer from 1 to 60 seconds')
  if (!Number.isInteger(maxFailedEntries) || maxFailedEntries < 1)
    throw configError('"deviceFlow.maxFailedEntries" must be a positive integer')
  return { interval, maxFailedEntries }
}
