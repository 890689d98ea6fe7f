/**
 * The OP's rate limits: where guessing and floods happen, each a GCRA rule (`authkestra/core`
 * `RateLimitStore`) on the store that every instance shares (the OP store's `rateLimits`; a
 * per-process memory limiter when the store has none). Limits that count failures are checked
 * with a peek first (a refused attempt costs no password hash) and spent on the failure, so a
 * user who signs in successfully is never counted, and a limited key is free again one emission
 * interval after its sender pauses: an attacker cannot lock a victim out for long.
 *
 * | limit | counts | default |
 * |---|---|---|
 * | `passwordPerIp` | failed password attempts per client address (IPv6 per /64) | 20 per 600 s |
 * | `passwordPerUsername` | failed password attempts per username, from browsers not known for it | 10 per 900 s |
 * | `tokenFailuresPerClient` | refused token and PAR requests per authenticated client (a public client: per client and address) | 600 per 60 s |
 * | `deviceEntryPerIp` | wrong user codes per client address | `deviceFlow.maxFailedEntries` per 600 s |
 * | `interactionsPerIp` | authorization requests that had to store their interaction | 60 per 60 s |
 *
 * Over a limit: 429 with `Retry-After`, logged (the limit and, for addresses, the address; never
 * a username).
 *
 * @module
 */
import { addressBucket, createClientIpResolver } from '../core/client-ip.ts'
import type { Clock } from '../core/clock.ts'
import {
  createMemoryRateLimitStore,
  type RateLimitDecision,
  type RateLimitRule,
  type RateLimitStore,
  resolveRateLimitSetting,
} from '../core/rate-limit.ts'
import type { OpLogger } from './config.ts'
import { OAuthProblem } from './errors.ts'
import type { OpRequest } from './http/message.ts'
import type { OpStore } from './store/types.ts'
import { secretId } from './tokens/secrets.ts'

/** The OP's named limits. */
export type OpLimitName =
  | 'passwordPerIp'
  | 'passwordPerUsername'
  | 'tokenFailuresPerClient'
  | 'deviceEntryPerIp'
  | 'interactionsPerIp'

/** A limit's rule, or `'off-unsafe'` to switch it off. */
export type OpLimitSetting = RateLimitRule | 'off-unsafe'

/** `createOp({ rateLimits })`: where limiter state lives and each limit's rule. */
export type OpRateLimitOptions = {
  /** Default: the OP store's `rateLimits` (shared by its instances), else per process. */
  readonly store?: RateLimitStore
} & { readonly [N in OpLimitName]?: OpLimitSetting }

const DEFAULTS: Readonly<Record<Exclude<OpLimitName, 'deviceEntryPerIp'>, RateLimitRule>> = {
  passwordPerIp: { limit: 20, windowSeconds: 600 },
  passwordPerUsername: { limit: 10, windowSeconds: 900 },
  tokenFailuresPerClient: { limit: 600, windowSeconds: 60 },
  interactionsPerIp: { limit: 60, windowSeconds: 60 },
}

/** A refusal: seconds until the next attempt may pass. */
export interface Limited {
  readonly retryAfterSeconds: number
}

/** The OP's limiter, with the rules resolved. */
export interface OpLimits {
  /** Whether `subject` is under `name` now (nothing spent); undefined when it is. */
  check(name: OpLimitName, subject: string | undefined): Promise<Limited | undefined>
  /** Spends one hit of `subject` under `name`; a refusal when there was no room. */
  spend(name: OpLimitName, subject: string | undefined): Promise<Limited | undefined>
  /** Forgets what `subject` spent under `name` (a successful sign-in). */
  reset(name: OpLimitName, subject: string | undefined): Promise<void>
  /** How many hits `subject` has counted under `name` now (0 when off or unknown). */
  spent(name: OpLimitName, subject: string | undefined): Promise<number>
}

/** The address part a per-IP limit counts under, or undefined when the address is unknown. */
function subjectOf(name: OpLimitName, subject: string): string {
  return name.endsWith('PerIp') ? addressBucket(subject) : subject
}

/**
 * Resolves `createOp({ rateLimits })` and `deviceFlow.maxFailedEntries` against the store.
 *
 * @example
 * ```ts
 * const limits = resolveLimits(config.rateLimits, store, 20, { clock, logger })
 * const refused = await limits.check('passwordPerIp', address)
 * ```
 */
export function resolveLimits(
  options: OpRateLimitOptions | undefined,
  store: OpStore,
  maxFailedEntries: number,
  deps: { readonly clock: Clock; readonly logger: OpLogger },
): OpLimits {
  const rules = new Map<OpLimitName, RateLimitRule>()
  const names: OpLimitName[] = [
    'passwordPerIp',
    'passwordPerUsername',
    'tokenFailuresPerClient',
    'deviceEntryPerIp',
    'interactionsPerIp',
  ]
  for (const name of names) {
    const fallback =
      name === 'deviceEntryPerIp'
        ? { limit: maxFailedEntries, windowSeconds: 600 }
        : DEFAULTS[name as Exclude<OpLimitName, 'deviceEntryPerIp'>]
    const rule = resolveRateLimitSetting(options?.[name], fallback, `rateLimits.${name}`)
    if (rule) rules.set(name, rule)
  }
  const backend = options?.store ?? store.rateLimits ?? createMemoryRateLimitStore()
  const keyOf = async (name: OpLimitName, subject: string) =>
    `op:${name}:${await secretId(`rate:${name}:${subjectOf(name, subject)}`)}`
  const refused = (name: OpLimitName, subject: string, decision: RateLimitDecision) => {
    const who = name.endsWith('PerIp') ? ` for ${addressBucket(subject)}` : ''
    deps.logger.warn(
      `rate limit ${name} reached${who}; retry after ${decision.retryAfterSeconds} s`,
    )
    return { retryAfterSeconds: decision.retryAfterSeconds }
  }
  const run = async (
    name: OpLimitName,
    subject: string | undefined,
    op: 'hit' | 'peek',
  ): Promise<Limited | undefined> => {
    const rule = rules.get(name)
    if (rule === undefined || subject === undefined) return undefined
    const decision = await backend[op](await keyOf(name, subject), rule, deps.clock.now())
    return decision.allowed ? undefined : refused(name, subject, decision)
  }
  return {
    check: (name, subject) => run(name, subject, 'peek'),
    spend: (name, subject) => run(name, subject, 'hit'),
    async reset(name, subject) {
      if (rules.has(name) && subject !== undefined) await backend.reset(await keyOf(name, subject))
    },
    async spent(name, subject) {
      const rule = rules.get(name)
      if (rule === undefined || subject === undefined) return 0
      const decision = await backend.peek(await keyOf(name, subject), rule, deps.clock.now())
      // A peek reports what would remain after one more hit.
      return decision.allowed ? rule.limit - decision.remaining - 1 : rule.limit
    },
  }
}

/**
 * What `tokenFailuresPerClient` counts a request under: a confidential client by its id (only
 * the holder of its credentials can spend its budget), a public client by its id and the
 * client's address (anyone may name it, and must not exhaust it for everyone).
 *
 * @example
 * ```ts
 * const budget = clientBudget(client, request, deps)
 * ```
 */
export function clientBudget(
  client: { readonly clientId: string; readonly tokenEndpointAuthMethod: string },
  request: OpRequest,
  deps: { readonly clientAddress: (request: OpRequest) => string | undefined },
): string {
  if (client.tokenEndpointAuthMethod !== 'none') return client.clientId
  const address = deps.clientAddress(request)
  return `${client.clientId} ${address === undefined ? 'unknown' : addressBucket(address)}`
}

/**
 * Rule (RFC 6585 §4): a client whose token or PAR requests failed too often lately gets 429 with
 * `Retry-After`, as `temporarily_unavailable` (RFC 6749 defines no rate-limit error; the status
 * says it), before its grant is looked at. Only failures count (an OAuth error after client
 * authentication: a wrong code, verifier or refresh token), so a busy client is never slowed for
 * succeeding; {@link spendClientFailure} counts them.
 *
 * @example
 * ```ts
 * await checkClientBudget(clientBudget(client, request, deps), deps.limits)
 * ```
 */
export async function checkClientBudget(budget: string, limits: OpLimits): Promise<void> {
  const limited = await limits.check('tokenFailuresPerClient', budget)
  if (limited) throw tooManyRequests(limited)
}

/**
 * Counts a refused token or PAR request (an {@link OAuthProblem} after client authentication)
 * against the client's budget, then rethrows it.
 *
 * @example
 * ```ts
 * try { return await grant() } catch (err) { return spendClientFailure(err, budget, deps.limits) }
 * ```
 */
export async function spendClientFailure(
  err: unknown,
  budget: string,
  limits: OpLimits,
): Promise<never> {
  if (err instanceof OAuthProblem && GUESSES.has(err.error))
    await limits.spend('tokenFailuresPerClient', budget)
  throw err
}

/**
 * The refusals that count: what a wrong guess or a broken client gets. Not the protocol's own
 * states (`authorization_pending`, `slow_down` while a device polls; `use_dpop_nonce`, the DPoP
 * nonce handshake; `expired_token`, `access_denied`: a device authorization's end).
 */
const GUESSES: ReadonlySet<string> = new Set([
  'invalid_grant',
  'invalid_request',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'unauthorized_client',
  'unsupported_grant_type',
])

/**
 * The OAuth JSON refusal of a request over a limit: 429, `temporarily_unavailable`, `Retry-After`.
 *
 * @example
 * ```ts
 * if (limited) throw tooManyRequests(limited)
 * ```
 */
export function tooManyRequests(limited: Limited): OAuthProblem {
  return new OAuthProblem(
    'temporarily_unavailable',
    `too many requests; retry after ${limited.retryAfterSeconds} seconds`,
    429,
    { 'retry-after': String(limited.retryAfterSeconds) },
  )
}

/**
 * The client's address: the peer's, or behind `trustedProxies` the one they forwarded.
 *
 * @example
 * ```ts
 * const clientAddress = clientAddressResolver(['loopback'])
 * const address = clientAddress(request)
 * ```
 */
export function clientAddressResolver(
  trusted: readonly string[] | undefined,
): (request: OpRequest) => string | undefined {
  const resolve = createClientIpResolver(trusted)
  return (request) => resolve(request.remoteAddress, request.headers.get('x-forwarded-for'))
}
