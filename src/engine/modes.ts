/**
 * The two modes built from their configuration: session mode's {@link SessionManager} over its
 * store, and stateless mode's {@link StatelessSessions} (token issuer plus the revocation store,
 * which must be given, or explicitly declined).
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import type { Keyring } from '../core/keyring.ts'
import {
  configError,
  type JwtModeOptions,
  positiveInteger,
  type SessionModeOptions,
} from './config.ts'
import type { RevocationStore } from './revocations/types.ts'
import { SessionManager } from './sessions/manager.ts'
import { createMemorySessionStore } from './sessions/memory.ts'
import { StatelessTokens } from './stateless.ts'
import { StatelessSessions } from './stateless-sessions.ts'

/** Session mode: sessions in the configured store (in memory by default). */
export function sessionManager(session: SessionModeOptions, clock: Clock): SessionManager {
  return new SessionManager(
    session.store ?? createMemorySessionStore({ clock }),
    {
      idleSeconds: positiveInteger(
        session.idleTimeoutSeconds,
        1800,
        'session.idleTimeoutSeconds',
        configError,
      ),
      absoluteSeconds: positiveInteger(
        session.absoluteTimeoutSeconds,
        7 * 86_400,
        'session.absoluteTimeoutSeconds',
        configError,
      ),
    },
    clock,
  )
}

const NO_REVOCATION = 'none-logout-keeps-tokens-valid-until-exp'

/** Stateless mode: the token issuer and where its logouts are remembered. */
export function statelessSessions(
  jwt: JwtModeOptions,
  keys: Keyring,
  clock: Clock,
): StatelessSessions {
  const revocations = jwt.revocations as RevocationStore | string | undefined
  if (revocations === undefined) {
    throw configError(
      `stateless mode needs "jwt.revocations": a store (createMemoryRevocationStore() for one process, a database store's "revocations" for several), so that logout ends the token; or "${NO_REVOCATION}" to accept that a logged-out token stays valid until it expires`,
    )
  }
  if (
    revocations !== NO_REVOCATION &&
    (typeof revocations !== 'object' ||
      revocations === null ||
      typeof revocations.revoke !== 'function' ||
      typeof revocations.revokedAt !== 'function')
  ) {
    throw configError(`"jwt.revocations" must be a RevocationStore or "${NO_REVOCATION}"`)
  }
  if (jwt.delivery !== undefined && jwt.delivery !== 'cookie' && jwt.delivery !== 'json') {
    throw configError('"jwt.delivery" must be "cookie" or "json"')
  }
  // Without a store nothing can end a login early, so nothing renews it either: a refresh would
  // let a logged-out or stolen token live on to the login's absolute end. The login is its token.
  if (revocations === NO_REVOCATION && jwt.absoluteTimeoutSeconds !== undefined) {
    throw configError(
      `"jwt.absoluteTimeoutSeconds" needs a revocation store: with "${NO_REVOCATION}" tokens are never renewed (a login lasts "jwt.ttlSeconds")`,
    )
  }
  const ttlSeconds = positiveInteger(jwt.ttlSeconds, 900, 'jwt.ttlSeconds', configError)
  const tokens = new StatelessTokens(
    keys,
    {
      ttlSeconds,
      absoluteSeconds:
        revocations === NO_REVOCATION
          ? ttlSeconds
          : positiveInteger(
              jwt.absoluteTimeoutSeconds,
              7 * 86_400,
              'jwt.absoluteTimeoutSeconds',
              configError,
            ),
      issuer: jwt.issuer ?? 'authkestra',
      audience: jwt.audience ?? 'authkestra',
    },
    clock,
  )
  return new StatelessSessions(
    tokens,
    revocations === NO_REVOCATION ? undefined : (revocations as RevocationStore),
    clock,
  )
}
