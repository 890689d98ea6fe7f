/**
 * The engine's configuration: providers and secret, plus exactly one of `session` (server-side
 * sessions) or `jwt` (stateless). The types make the two modes exclusive; the rest is checked at
 * start with messages that name the field.
 *
 * @module
 */

import type { Identity } from '../client/identity.ts'
import type { OAuth2FlowOptions } from '../client/oauth2-flow.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import type { TokenSet } from '../client/tokens.ts'
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { Secret } from '../core/keyring.ts'
import type { Logger } from '../core/logger.ts'
import type { EngineRateLimitOptions } from './limits.ts'
import type { PagesOptions } from './pages.ts'
import type { RevocationStore } from './revocations/types.ts'
import type { SessionStore } from './sessions/types.ts'
import type { UserKeyOf } from './user-key.ts'

/** What `onLogin` learns besides the identity. */
export interface LoginContext {
  readonly provider: string
  /** The provider's tokens; keep them only if the app calls the provider's API later. */
  readonly tokens: TokenSet
  readonly request: Request
}

/**
 * Maps a provider identity to the app's user (find or create it). Return `null` to refuse the
 * login. Never link accounts by an email the provider did not verify (`identity.emailVerified`).
 */
export type OnLogin<User> = (
  identity: Identity,
  context: LoginContext,
) => Promise<User | null> | User | null

/** Server-side sessions. */
export interface SessionModeOptions {
  /** Default: an in-memory store (sessions die with the process). */
  readonly store?: SessionStore
  /** Idle timeout in seconds (default 1 800). */
  readonly idleTimeoutSeconds?: number
  /** Absolute timeout in seconds (default 7 days). */
  readonly absoluteTimeoutSeconds?: number
  /** Cookie name (default `ak_session`, `__Host-ak_session` when Secure). */
  readonly cookieName?: string
}

/**
 * The opt-out of server-side revocation in stateless mode: logout then only clears the cookie,
 * and a token copied before (or sent as `Authorization: Bearer`) stays valid until its `exp`.
 * Nothing renews a token either (`POST /auth/refresh` is not served): a login lasts
 * `ttlSeconds`, so that is exactly how long a logged-out or stolen token lives.
 */
export type NoRevocation = 'none-logout-keeps-tokens-valid-until-exp'

/** Stateless JWTs. */
export interface JwtModeOptions {
  /**
   * Where logouts are remembered until the tokens they end would have expired: a
   * `RevocationStore` (`createMemoryRevocationStore()` for one process, or the `revocations`
   * of a database store, shared by every instance). Every verification looks the token up there.
   * Without a store, say so: `'none-logout-keeps-tokens-valid-until-exp'`.
   */
  readonly revocations: RevocationStore | NoRevocation
  /** Token lifetime in seconds (default 900); `POST /auth/refresh` gives a new one. */
  readonly ttlSeconds?: number
  /**
   * Longest a login lasts through refreshes, in seconds (default 7 days). Needs a revocation
   * store: without one, tokens are not renewed.
   */
  readonly absoluteTimeoutSeconds?: number
  /** `'cookie'` (default: an HttpOnly cookie, then redirect) or `'json'` (the callback answers the token as JSON). */
  readonly delivery?: 'cookie' | 'json'
  /** `iss` of the tokens (default `authkestra`). */
  readonly issuer?: string
  /** `aud` of the tokens (default `authkestra`). */
  readonly audience?: string
  /** Cookie name (default `ak_token`, `__Host-ak_token` when Secure). */
  readonly cookieName?: string
}

/** Settings shared by both modes. */
export interface BaseConfig<User> {
  /** The providers users can log in with (ids must be unique). */
  readonly providers: readonly ProviderConfig[]
  /** At least 32 bytes; a list rotates (first signs/seals, all verify/open). */
  readonly secret: Secret | readonly Secret[]
  /** Where the routes live (default `/auth`). */
  readonly basePath?: string
  /** Identity → app user (default: the identity itself). */
  readonly onLogin?: OnLogin<User>
  /**
   * The key "log out everywhere" ends a user's sessions by (default `<provider>:<subject>`, the
   * provider account). Give your own user id when one user can sign in with several providers.
   */
  readonly userKey?: UserKeyOf<User>
  /** `Secure` on cookies: `'auto'` (default: except on plain-http localhost), or forced. */
  readonly secureCookies?: 'auto' | boolean
  /** Origins allowed to POST logout besides the request's own. */
  readonly trustedOrigins?: readonly string[]
  /**
   * Where a browser lands after signing out (a path of this site): default `/`; the engine's own
   * "You are signed out" page is `{basePath}/signed-out`. API clients get 204 either way.
   */
  readonly afterLogout?: string
  /** Outbound HTTP, clock and leeway for every provider flow. */
  readonly flowOptions?: OAuth2FlowOptions
  readonly clock?: Clock
  /**
   * Where the engine says what went wrong: every failed login, callback or logout with its code
   * and precise cause (warn), unexpected errors (error), and with `debug` a line per answer.
   * Default: `consoleLogger('warn')` from `authkestra/core`; `consoleLogger('silent')` for none.
   */
  readonly logger?: Logger
  /**
   * The engine's pages (sign-in at `{basePath}/signin`, login errors, "Sign out?"): app name,
   * logo and colours, or `render` for the app's own HTML of any of them.
   */
  readonly pages?: PagesOptions
  /**
   * Called with unexpected errors (a bug in `onLogin`, a store that throws something odd); the
   * user gets a 500 page either way. Default: `logger.error`. Protocol failures are not errors
   * here: they are answered with their code (and logged as warnings).
   */
  readonly onError?: (error: unknown, context: { route: string }) => void
  /**
   * Back-channel logout (for providers with `backchannelLogout: true`): where the `jti` of each
   * logout token acted on is remembered until it expires, so a replayed token is refused. Default:
   * an in-memory store, for one process; give the `revocations` of your shared store when several
   * instances serve the route.
   */
  readonly backchannelLogout?: { readonly replayStore?: RevocationStore }
  /**
   * Rate limits: login starts per client address (default 60 per 60 s), counted in the session
   * store's `rateLimits` when it has them (shared by its instances). See docs/abuse-resistance.md.
   */
  readonly rateLimits?: EngineRateLimitOptions
  /**
   * The reverse proxies in front of the app (addresses, CIDR ranges, `loopback`, `private`):
   * `X-Forwarded-For` is read only from them. Default none: the socket's peer is the client.
   */
  readonly trustedProxies?: readonly string[]
}

/** Session-mode configuration. */
export type SessionConfig<User> = BaseConfig<User> & {
  readonly session: SessionModeOptions
  readonly jwt?: never
}
/** Stateless-mode configuration. */
export type JwtConfig<User> = BaseConfig<User> & {
  readonly jwt: JwtModeOptions
  readonly session?: never
}
/** Either mode. */
export type AuthkestraConfig<User> = SessionConfig<User> | JwtConfig<User>

/** A `config_invalid` error naming what is wrong. */
export function configError(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

/** The option names of each config object, checked against its type in both directions. */
const OPTION_KEYS = {
  config: [
    'providers',
    'secret',
    'basePath',
    'onLogin',
    'userKey',
    'secureCookies',
    'trustedOrigins',
    'afterLogout',
    'flowOptions',
    'clock',
    'onError',
    'logger',
    'pages',
    'backchannelLogout',
    'rateLimits',
    'trustedProxies',
    'session',
    'jwt',
  ],
  session: ['store', 'idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'cookieName'],
  jwt: [
    'revocations',
    'ttlSeconds',
    'absoluteTimeoutSeconds',
    'delivery',
    'issuer',
    'audience',
    'cookieName',
  ],
} as const satisfies {
  config: readonly (keyof BaseConfig<unknown> | 'session' | 'jwt')[]
  session: readonly (keyof SessionModeOptions)[]
  jwt: readonly (keyof JwtModeOptions)[]
}
// Every option of the types is listed (a new option not added above fails to compile here).
type Unlisted =
  | Exclude<keyof BaseConfig<unknown>, (typeof OPTION_KEYS.config)[number]>
  | Exclude<keyof SessionModeOptions, (typeof OPTION_KEYS.session)[number]>
  | Exclude<keyof JwtModeOptions, (typeof OPTION_KEYS.jwt)[number]>
const allListed: [Unlisted] extends [never] ? true : Unlisted = true

/**
 * Refuses an option the engine does not know (a typo such as `sesion` would otherwise be
 * ignored without a word), naming it and, where one is close, the option meant.
 */
export function checkOptionKeys(
  value: object,
  which: keyof typeof OPTION_KEYS,
  where: string,
): void {
  void allListed
  const known: readonly string[] = OPTION_KEYS[which]
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const near = known.find((k) => closeTo(k, key))
    throw configError(
      `${where}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}`,
    )
  }
}

/** Whether `a` and `b` differ by at most one edit (or only in case). */
function closeTo(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true
  if (Math.abs(a.length - b.length) > 1) return false
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return (
    a.slice(i + 1) === b.slice(i + 1) ||
    a.slice(i) === b.slice(i + 1) ||
    a.slice(i + 1) === b.slice(i)
  )
}

/** Checks a positive integer option. */
export function positiveInteger(
  value: number | undefined,
  fallback: number,
  name: string,
  fail: (m: string) => Error,
): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v <= 0) throw fail(`"${name}" must be a positive integer`)
  return v
}
