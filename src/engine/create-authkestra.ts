/**
 * `createAuthkestra`: providers and a secret in, one Web handler out. It serves, under a base path
 * (default `/auth`): `GET /login/:provider`, `GET /callback/:provider`, `POST /logout`,
 * `GET /session` and `GET /providers`, and gives the app `getSession` (session mode) or
 * `verifyRequest` (stateless mode).
 *
 * @module
 */

import type { Identity } from '../client/identity.ts'
import { OAuth2Flow } from '../client/oauth2-flow.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { isSafeReturnTo } from '../client/return-to.ts'
import { systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { type MessageResponse, toWebResponse } from '../core/http-message.ts'
import { createKeyring } from '../core/keyring.ts'
import { consoleLogger } from '../core/logger.ts'
import { backchannelLogoutRoute } from './backchannel-logout.ts'
import { checkOptionKeys, configError, type JwtConfig, type SessionConfig } from './config.ts'
import { frontchannelLogoutRoute } from './frontchannel-logout.ts'
import type { GuardRequest } from './guards/types.ts'
import { resolveEngineLimits } from './limits.ts'
import { checkProviderLogouts } from './logout-config.ts'
import {
  logoutEverywhereRoute,
  logoutPageRoute,
  logoutRoute,
  refreshRoute,
  signedOutPageRoute,
} from './logout-routes.ts'
import { type EngineRequest, engineRequestOf } from './message.ts'
import { sessionManager, statelessSessions } from './modes.ts'
import { checkPages } from './pages.ts'
import { logoutCallbackRoute } from './provider-logout.ts'
import { failure, logFailure, themed } from './respond.ts'
import { createMemoryRevocationStore } from './revocations/memory.ts'
import {
  callbackRoute,
  type EngineDeps,
  loginRoute,
  providersRoute,
  readSession,
  readToken,
  sessionRoute,
  signInPageRoute,
} from './routes.ts'
import type { Session } from './sessions/manager.ts'
import type { SessionJwt } from './stateless.ts'
import { defaultUserKey, type LoginSubject, userKeyHash } from './user-key.ts'

/**
 * What a fetch runtime knows of a request beyond the `Request`: the peer's address (Deno's
 * `info.remoteAddr.hostname`, Bun's `server.requestIP(request)`), for per-address limits.
 */
export interface EngineRequestInfo {
  readonly remoteAddress?: string | undefined
}

/** What both modes offer. */
export interface AuthkestraBase {
  readonly mode: 'session' | 'jwt'
  /** Where the routes live, e.g. `/auth`. */
  readonly basePath: string
  /** Serves the auth routes; answers 404 for anything else under or outside the base path. */
  handler(request: Request, info?: EngineRequestInfo): Promise<Response>
  /**
   * The same routes on the engine's own request and response shapes: what the Node adapters
   * (and `authkestra/node`) call, feeding it straight from `node:http` without Web objects.
   */
  handleMessage(request: EngineRequest): Promise<MessageResponse>
  /** The configured providers. */
  providers(): readonly { id: string; name: string }[]
  /** The flow of one provider, for custom use (refresh, revoke). */
  flow(providerId: string): OAuth2Flow | undefined
  /**
   * Ends every session (session mode) or every login's tokens (stateless mode) of the user with
   * this key, on every instance sharing the store: the key `userKey` gives for the user, by
   * default `<provider>:<subject>`. Logins that start afterwards are not affected. Stateless
   * mode without a revocation store cannot do this: `unsupported_operation`.
   */
  logoutEverywhere(userKey: string): Promise<void>
}

/** Session mode: sessions live in a store; `getSession` reads them. */
export interface SessionAuthkestra<User> extends AuthkestraBase {
  readonly mode: 'session'
  /** The session of a request, or null. Resets its idle timer. */
  getSession(request: GuardRequest): Promise<Session<User> | null>
}

/** Stateless mode: the user holds a signed JWT; `verifyRequest` checks it. */
export interface StatelessAuthkestra<User> extends AuthkestraBase {
  readonly mode: 'jwt'
  /** The verified token of a request (cookie, or `Authorization: Bearer`), or null. */
  verifyRequest(request: GuardRequest): Promise<SessionJwt<User> | null>
}

function checkBasePath(value: string | undefined): string {
  const base = value ?? '/auth'
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(base))
    throw configError('"basePath" must look like "/auth" (no trailing slash)')
  return base
}

/**
 * Creates the engine. The mode is chosen by the key present: `session: {…}` or `jwt: {…}`.
 * Misconfiguration TypeScript can express does not compile; the rest throws `config_invalid`.
 *
 * @example
 * ```ts
 * import { createAuthkestra } from 'authkestra'
 * import { github } from 'authkestra/providers'
 *
 * const auth = createAuthkestra({
 *   providers: [github({ clientId, clientSecret, redirectUri: 'https://app.example/auth/callback/github' })],
 *   secret: process.env.AUTH_SECRET!,
 *   session: {},
 *   onLogin: async (identity) => users.findOrCreate(identity),
 * })
 * const session = await auth.getSession(request)
 * ```
 */
export function createAuthkestra<User = Identity>(
  config: SessionConfig<User>,
): SessionAuthkestra<User>
export function createAuthkestra<User = Identity>(
  config: JwtConfig<User>,
): StatelessAuthkestra<User>
export function createAuthkestra<User = Identity>(
  config: SessionConfig<User> | JwtConfig<User>,
): SessionAuthkestra<User> | StatelessAuthkestra<User> {
  if (typeof config !== 'object' || config === null) throw configError('config must be an object')
  const hasSession = config.session !== undefined
  const hasJwt = config.jwt !== undefined
  if (hasSession === hasJwt)
    throw configError('give exactly one of "session" (server-side sessions) or "jwt" (stateless)')
  checkOptionKeys(config, 'config', 'createAuthkestra')
  if (typeof config.session === 'object' && config.session !== null)
    checkOptionKeys(config.session, 'session', '"session"')
  if (typeof config.jwt === 'object' && config.jwt !== null)
    checkOptionKeys(config.jwt, 'jwt', '"jwt"')
  if (config.secret === undefined || config.secret === '')
    throw configError(
      '"secret" is not set: give 32+ random bytes, e.g. from an AUTH_SECRET environment variable made with `openssl rand -base64 32`',
    )
  const basePath = checkBasePath(config.basePath)
  const clock = config.clock ?? systemClock
  const keys = createKeyring(config.secret as string | string[])
  if (!Array.isArray(config.providers) || config.providers.length === 0)
    throw configError('"providers" must list at least one provider')
  const flows = new Map<string, OAuth2Flow>()
  for (const [i, provider] of config.providers.entries()) {
    const flow = new OAuth2Flow(cookieSealableDpop(provider), { ...config.flowOptions, clock })
    if (flows.has(flow.id)) throw configError(`"providers[${i}].id" "${flow.id}" is used twice`)
    flows.set(flow.id, flow)
  }
  const secureCookies = config.secureCookies ?? 'auto'
  if (secureCookies !== 'auto' && typeof secureCookies !== 'boolean')
    throw configError('"secureCookies" must be "auto", true or false')
  const sessions = config.session ? sessionManager(config.session, clock) : undefined
  const jwt = config.jwt
  const stateless = jwt ? statelessSessions(jwt, keys, clock) : undefined
  checkProviderLogouts(flows.values(), basePath, sessions?.store, stateless?.revokes === true)
  const userKey =
    (config.userKey as ((user: unknown, who: LoginSubject) => string) | undefined) ?? defaultUserKey
  if (typeof userKey !== 'function') throw configError('"userKey" must be a function')
  const logger = config.logger ?? consoleLogger('warn')
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function')
    throw configError('"logger" must have warn(message) and error(message, error?) methods')
  for (const secret of [config.secret].flat()) {
    const weakness = typeof secret === 'string' ? secretWeakness(secret) : undefined
    if (weakness !== undefined)
      logger.warn(
        `"secret" looks guessable (${weakness}): use 32+ random bytes, e.g. \`openssl rand -base64 32\``,
      )
  }
  const afterLogout = config.afterLogout ?? '/'
  if (!isSafeReturnTo(afterLogout))
    throw configError(
      '"afterLogout" must be a path of this site, such as "/" or "/auth/signed-out"',
    )
  const pages = checkPages(config.pages)
  const themedPages = Object.keys(pages).length > 0
  const deps: EngineDeps = {
    logger,
    pages,
    basePath,
    afterLogout,
    flows,
    keys,
    clock,
    secureCookies,
    trustedOrigins: new Set(config.trustedOrigins ?? []),
    onLogin: (config.onLogin as EngineDeps['onLogin']) ?? ((identity) => identity),
    userKeyHash: (user, who) => userKeyHash(checkUserKey(userKey(user, who))),
    sessions: sessions
      ? { manager: sessions, store: sessions.store, cookieName: config.session?.cookieName }
      : undefined,
    logoutTokens: config.backchannelLogout?.replayStore ?? createMemoryRevocationStore({ clock }),
    stateless: stateless
      ? { sessions: stateless, delivery: jwt?.delivery ?? 'cookie', cookieName: jwt?.cookieName }
      : undefined,
    limits: resolveEngineLimits(
      config.rateLimits,
      config.trustedProxies,
      sessions?.store.rateLimits,
      {
        clock,
        logger,
      },
    ),
  }

  const onError =
    config.onError ??
    ((error: unknown, context: { route: string }) =>
      logger.error(`unexpected error in ${basePath}/${context.route}`, error))

  async function answer(request: EngineRequest): Promise<MessageResponse> {
    const url = new URL(request.url)
    if (!url.pathname.startsWith(`${basePath}/`)) return failure(request, 'not_found')
    const [route, provider, extra] = url.pathname.slice(basePath.length + 1).split('/')
    try {
      if (extra === undefined) {
        if (route === 'login' && provider !== undefined && request.method === 'GET')
          return await loginRoute(request, provider, deps)
        if (route === 'callback' && provider !== undefined && request.method === 'GET')
          return await callbackRoute(request, provider, deps)
        if (route === 'logout-callback' && provider !== undefined && request.method === 'GET')
          return await logoutCallbackRoute(request, provider, deps)
        if (route === 'backchannel-logout' && provider !== undefined && request.method === 'POST')
          return await backchannelLogoutRoute(request, provider, deps)
        if (route === 'frontchannel-logout' && provider !== undefined && request.method === 'GET')
          return await frontchannelLogoutRoute(request, provider, deps)
        if (provider === undefined && request.method === 'POST') {
          if (route === 'logout') return await logoutRoute(request, deps)
          if (route === 'logout-everywhere' && (sessions || stateless?.revokes))
            return await logoutEverywhereRoute(request, deps)
          // Renewal needs revocation: otherwise a logged-out token could be renewed for ever.
          if (route === 'refresh' && stateless?.revokes) return await refreshRoute(request, deps)
        }
        if (provider === undefined && route === 'logout' && request.method === 'GET')
          return logoutPageRoute(request, deps)
        if (provider === undefined && route === 'signed-out' && request.method === 'GET')
          return signedOutPageRoute(request, deps)
        if (provider === undefined && route === 'signin' && request.method === 'GET')
          return signInPageRoute(request, deps)
        if (provider === undefined && route === 'session' && request.method === 'GET')
          return await sessionRoute(request, deps)
        if (provider === undefined && route === 'providers' && request.method === 'GET')
          return providersRoute(deps)
      }
      return failure(request, 'not_found')
    } catch (err) {
      if (err instanceof AuthkestraError) {
        logFailure(logger, request, err)
        return failure(request, err.code)
      }
      onError(err, { route: route ?? '' })
      return failure(request, 'internal_error')
    }
  }

  // With a debug logger, a line per answer (method, path, status: never the query or a cookie).
  const debug = logger.debug?.bind(logger)
  const handleMessage =
    debug || themedPages
      ? async (request: EngineRequest): Promise<MessageResponse> => {
          const response = themed(await answer(request), pages)
          debug?.(`${request.method} ${new URL(request.url).pathname} → ${response.status}`)
          return response
        }
      : answer

  const base: AuthkestraBase = {
    mode: sessions ? 'session' : 'jwt',
    basePath,
    handler: async (request, info) =>
      toWebResponse(await handleMessage(engineRequestOf(request, info?.remoteAddress))),
    handleMessage,
    providers: () => [...flows.values()].map((f) => ({ id: f.id, name: f.name })),
    flow: (id) => flows.get(id),
    async logoutEverywhere(key) {
      const hash = await userKeyHash(checkUserKey(key))
      if (sessions) await sessions.destroyAll(hash)
      else await stateless?.endUser(hash)
    },
  }
  if (sessions) {
    return {
      ...base,
      mode: 'session',
      getSession: (request) => readSession<User>(request, deps),
    }
  }
  return {
    ...base,
    mode: 'jwt',
    verifyRequest: (request) => readToken<User>(request, deps),
  }
}

function checkUserKey(key: unknown): string {
  // A bug of the app's `userKey` (or of a caller), not of the request: a 500 through onError.
  if (typeof key !== 'string' || key === '')
    throw new TypeError('a user key must be a non-empty string (see "userKey")')
  return key
}

/**
 * Why a secret string looks made by hand rather than drawn at random, or undefined: few distinct
 * characters (random base64 or hex of 32 bytes has 16 or more; `'a'.repeat(40)` or a short
 * word repeated passes the length check but not this one).
 */
function secretWeakness(secret: string): string | undefined {
  const distinct = new Set(secret).size
  return distinct < 12 ? `only ${distinct} distinct characters` : undefined
}

/**
 * The engine keeps a login's flow state in a sealed cookie, and a request pushed with DPoP
 * (RFC 9449 §10.1) binds the code to a key that must be in that state: so the engine's DPoP keys
 * are extractable unless the provider says `extractable: false` (then a pushing login fails
 * with `config_invalid`). The key lives in the encrypted cookie for the login only; the engine
 * keeps no DPoP key after it.
 */
function cookieSealableDpop(provider: ProviderConfig): ProviderConfig {
  const { dpop, securityProfile } = provider ?? {}
  // FAPI 2.0 turns DPoP on when it is not set.
  if (dpop === false || (dpop === undefined && securityProfile !== 'fapi2')) return provider
  if (typeof dpop === 'object' && dpop !== null && dpop.extractable !== undefined) return provider
  return { ...provider, dpop: { ...(typeof dpop === 'object' ? dpop : {}), extractable: true } }
}
