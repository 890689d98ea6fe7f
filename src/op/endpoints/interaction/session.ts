/**
 * The OP's login session: a random id in the `ak_op_session` cookie, stored under its hash, with
 * the subject and the time of authentication. A login always makes a new id (no fixation).
 *
 * @module
 */
import { readCookie, serializeCookie } from '../../../core/cookies.ts'
import { randomToken } from '../../../core/random.ts'
import type { OpRequest } from '../../http/message.ts'
import type { LogoutNotifier } from '../../logout/notifier.ts'
import type { OpRuntime } from '../../setup.ts'
import type { SessionRecord } from '../../store/types.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'

export const SESSION_COOKIE = 'ak_op_session'
export const INTERACTION_COOKIE = 'ak_op_interaction'

type Deps = Pick<OpRuntime, 'settings' | 'store'>

/** A live OP session: its record (with its public `sid`) and its storage id. */
export type LiveSession = SessionRecord & { readonly sid: string; readonly storageId: string }

/** The session of this browser, if it has a live one. */
export async function currentSession(
  request: OpRequest,
  deps: Deps,
): Promise<LiveSession | undefined> {
  const value = readCookie(request, SESSION_COOKIE)
  if (value === undefined || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined
  const storageId = await secretId(value)
  const record = await deps.store.get('session', storageId)
  // A session from before `sid` existed cannot be logged out by id: not live (sign in again).
  if (record?.sid === undefined) return undefined
  return { ...record, sid: record.sid, storageId }
}

/**
 * Starts a new session with a new `sid`; returns the `Set-Cookie` value and the `sid`. A
 * previous session of this browser is ended (its clients are told, see `endSession`).
 */
export async function startSession(
  request: OpRequest,
  record: Omit<SessionRecord, 'sid'>,
  deps: Deps & { logout: LogoutNotifier },
): Promise<{ cookie: string; sid: string }> {
  const previous = await currentSession(request, deps)
  if (previous) await deps.logout.ended(previous, 'new_login')
  else {
    const stale = readCookie(request, SESSION_COOKIE)
    if (stale !== undefined) await deps.store.delete('session', await secretId(stale))
  }
  const id = newSecret()
  const sid = randomToken(16)
  await deps.store.set(
    'session',
    await secretId(id),
    { ...record, sid },
    { ttlSeconds: deps.settings.ttl.session, family: userFamily(record.accountId) },
  )
  return {
    cookie: serializeCookie(SESSION_COOKIE, id, cookieScope(deps), deps.settings.ttl.session),
    sid,
  }
}

/**
 * A step-up in this browser's live session `sid`: the same session (same `sid`, its clients stay
 * signed in) now records the newer authentication, under a new cookie secret (a cookie copied
 * while the session was weaker does not become the stronger one). Answers the new `Set-Cookie`,
 * or undefined when the browser's session is no longer that one (logged out, another login).
 */
export async function upgradeSession(
  request: OpRequest,
  sid: string,
  record: Pick<SessionRecord, 'authTime' | 'amr'>,
  deps: Deps,
): Promise<string | undefined> {
  const live = await currentSession(request, deps)
  if (live?.sid !== sid) return undefined
  const { storageId, ...kept } = live
  const id = newSecret()
  await deps.store.set(
    'session',
    await secretId(id),
    { ...kept, ...record },
    { ttlSeconds: deps.settings.ttl.session, family: userFamily(live.accountId) },
  )
  await deps.store.delete('session', storageId)
  return serializeCookie(SESSION_COOKIE, id, cookieScope(deps), deps.settings.ttl.session)
}

/** The `Set-Cookie` that ends this browser's OP session cookie. */
export function clearSessionCookie(deps: Pick<OpRuntime, 'settings'>): string {
  return serializeCookie(SESSION_COOKIE, '', cookieScope(deps), 0)
}

/**
 * Records that `clientId` got a code in OP session `sid`, for as long as the session can live:
 * logging the session out must reach that client.
 */
export async function rememberSessionClient(
  sid: string,
  clientId: string,
  sub: string,
  deps: Deps,
): Promise<void> {
  const options = { ttlSeconds: deps.settings.ttl.session, family: userFamily(sub) }
  await deps.store.set('sessionClient', `${sid} ${clientId}`, { sub }, options)
  await deps.store.set('userClient', `${sub} ${clientId}`, { sub }, options)
}

/**
 * The family of every OP session of a user and of its client records: one `revokeFamily` ends
 * them all (an admin logout). Grant ids never contain `:`, so the two kinds of family never meet.
 */
export function userFamily(sub: string): string {
  return `user:${sub}`
}

/** Cookie path and `Secure` flag for this OP. */
export function cookieScope(deps: Pick<OpRuntime, 'settings'>): { path: string; secure: boolean } {
  return {
    path: deps.settings.basePath === '' ? '/' : deps.settings.basePath,
    secure: deps.settings.secureCookies,
  }
}
