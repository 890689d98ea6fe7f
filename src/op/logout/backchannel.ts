/**
 * Back-Channel Logout 1.0 on the OP: when a session ends, each client that used it and
 * registered a `backchannel_logout_uri` gets a logout token (§2.4) in a form POST (§2.5). The
 * deliveries run concurrently in the background, never in the way of the user's response; each
 * attempt has a timeout, and network errors, timeouts and 5xx answers are retried a bounded
 * number of times, each attempt with a fresh token (a new `jti`, so a client whose answer was
 * lost does not see a replay). A delivery that fails for good is logged and reported through
 * `backchannelLogout.onFailure`.
 *
 * @module
 */
import { randomToken } from '../../core/random.ts'
import {
  type BackchannelFailure,
  type BackchannelLogoutOptions,
  configError,
  type OpLogger,
} from '../config.ts'
import type { KeyManager } from '../keys.ts'
import type { ClientRecord } from '../store/types.ts'

/** §2.4: the `events` member that makes a JWT a logout token. */
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
/** How long a logout token is valid: §2.4 recommends at most two minutes. */
const TOKEN_TTL_SECONDS = 120

/** Who is logged out at one client: the session (`sid`) and/or the user (`sub`). */
export interface LogoutTarget {
  readonly client: ClientRecord
  readonly sub: string
  /** Absent for "every session of this user" (an admin logout). */
  readonly sid?: string
}

/** The back-channel sender of one OP. */
export interface Backchannel {
  /** Starts the deliveries for `targets` and returns at once. */
  notify(targets: readonly LogoutTarget[]): void
  /** Resolves once every delivery started so far has finished (tests, graceful shutdown). */
  settled(): Promise<void>
}

interface Deps {
  readonly issuer: string
  readonly keys: KeyManager
  readonly clock: { now(): number }
  readonly logger: OpLogger
  readonly options: BackchannelLogoutOptions | undefined
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Deliveries in flight at once, and waiting beyond those: a hanging client cannot pile up work. */
const MAX_CONCURRENT = 32
const MAX_WAITING = 10_000

/** Runs tasks at most `max` at a time, queueing up to `waiting` more; `false` when dropped. */
function slots(max: number, waiting: number) {
  let running = 0
  const queue: (() => void)[] = []
  return async (task: () => Promise<void>): Promise<boolean> => {
    if (running >= max) {
      if (queue.length >= waiting) return false
      await new Promise<void>((resolve) => queue.push(resolve))
    }
    running++
    try {
      await task()
    } finally {
      running--
      queue.shift()?.()
    }
    return true
  }
}

/** `attempts` 1 to 10, `timeoutMs` 100 to 60,000: anything else is a configuration mistake. */
function checkOptions(options: BackchannelLogoutOptions | undefined): void {
  const { attempts, timeoutMs } = options ?? {}
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1 && attempts <= 10))
    throw configError('"backchannelLogout.attempts" must be an integer from 1 to 10')
  if (
    timeoutMs !== undefined &&
    !(Number.isInteger(timeoutMs) && timeoutMs >= 100 && timeoutMs <= 60_000)
  )
    throw configError('"backchannelLogout.timeoutMs" must be an integer from 100 to 60000')
}

/**
 * A logout token for `target` (§2.4): `iss`, `aud`, `iat`, `exp`, `jti`, `events`, `sub`, `sid`;
 * never `nonce`. Signed with the client's ID-token algorithm, which its RP already verifies.
 */
async function logoutToken(target: LogoutTarget, deps: Deps): Promise<string> {
  const { signer } = await deps.keys.signingKey(target.client.idTokenSignedResponseAlg)
  const iat = Math.floor(deps.clock.now() / 1000)
  return signer.sign('logout+jwt', {
    iss: deps.issuer,
    sub: target.sub,
    aud: target.client.clientId,
    iat,
    exp: iat + TOKEN_TTL_SECONDS,
    jti: randomToken(16),
    events: { [BACKCHANNEL_EVENT]: {} },
    ...(target.sid === undefined ? {} : { sid: target.sid }),
  })
}

/** One POST (§2.5): the answer's status, or why there was none. Redirects are not followed. */
async function post(uri: string, token: string, timeoutMs: number): Promise<number | string> {
  try {
    const response = await fetch(uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
    return response.status
  } catch (err) {
    return err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'unreachable'
  }
}

/** Delivers to one client, retrying what may pass on a second try. */
async function deliver(target: LogoutTarget, uri: string, deps: Deps): Promise<void> {
  const attempts = deps.options?.attempts ?? 3
  const timeoutMs = deps.options?.timeoutMs ?? 5000
  let last: number | string = 'not attempted'
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(250 * 4 ** (attempt - 2))
    last = await post(uri, await logoutToken(target, deps), timeoutMs)
    // §2.8: 200 (some frameworks answer 204) is success; a 4xx will not change on a retry.
    if (typeof last === 'number' && last < 500) break
  }
  if (typeof last === 'number' && last >= 200 && last < 300) return
  const failure: BackchannelFailure = {
    clientId: target.client.clientId,
    uri,
    attempts,
    ...(typeof last === 'number' ? { status: last, reason: `answered ${last}` } : { reason: last }),
  }
  deps.logger.warn(
    `back-channel logout to client "${failure.clientId}" failed after ${attempts} attempt(s): ${failure.reason}`,
  )
  deps.options?.onFailure?.(failure)
}

/**
 * The back-channel sender of one OP.
 *
 * @example
 * ```ts
 * backchannel.notify([{ client, sub, sid }]) // returns at once
 * await backchannel.settled()
 * ```
 */
export function createBackchannel(deps: Deps): Backchannel {
  checkOptions(deps.options)
  const inFlight = new Set<Promise<void>>()
  const limit = slots(MAX_CONCURRENT, MAX_WAITING)
  return {
    notify(targets) {
      for (const target of targets) {
        const uri = target.client.backchannelLogoutUri
        if (uri === undefined) continue
        if (target.sid === undefined && target.client.backchannelLogoutSessionRequired) {
          deps.logger.warn(
            `back-channel logout of a user skipped for client "${target.client.clientId}": it requires "sid"`,
          )
          continue
        }
        const task = limit(() => deliver(target, uri, deps)).then(
          (ran) => {
            if (ran) return
            const failure = {
              clientId: target.client.clientId,
              uri,
              attempts: 0,
              reason: 'too many deliveries waiting',
            }
            deps.logger.warn(
              `back-channel logout to client "${failure.clientId}" dropped: ${failure.reason}`,
            )
            deps.options?.onFailure?.(failure)
          },
          (err) => deps.logger.error('back-channel logout failed unexpectedly', err),
        )
        inFlight.add(task)
        void task.finally(() => inFlight.delete(task))
      }
    },
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}
