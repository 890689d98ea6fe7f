/**
 * The OP's login session: a random id in the `ak_op_session` cookie, stored under its hash, with
 * the subject and the time of authentication. A login always makes a new id (no fixation).
 *
 * @module
 */
import { readCookie, serializeCookie } from '../../../core/cookies.ts'
import type { OpRequest } from '../../http/message.ts'
import type { OpRuntime } from '../../setup.ts'
import type { SessionRecord } from '../../store/types.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'

export const SESSION_COOKIE = 'ak_op_session'
export const INTERACTION_COOKIE = 'ak_op_interaction'

type Deps = Pick<OpRuntime, 'settings' | 'store'>

/** The session of this browser, if it has a live one. */
export async function currentSession(
  request: OpRequest,
  deps: Deps,
): Promise<SessionRecord | undefined> {
  const value = readCookie(request, SESSION_COOKIE)
  if (value === undefined || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined
  return deps.store.get('session', await secretId(value))
}

/** Starts a new session; returns the `Set-Cookie` value. Any previous session id is dropped. */
export async function startSession(
  request: OpRequest,
  record: SessionRecord,
  deps: Deps,
): Promise<string> {
  const previous = readCookie(request, SESSION_COOKIE)
  if (previous !== undefined) await deps.store.delete('session', await secretId(previous))
  const id = newSecret()
  await deps.store.set('session', await secretId(id), record, {
    ttlSeconds: deps.settings.ttl.session,
  })
  return serializeCookie(SESSION_COOKIE, id, cookieScope(deps), deps.settings.ttl.session)
}

/** Cookie path and `Secure` flag for this OP. */
export function cookieScope(deps: Pick<OpRuntime, 'settings'>): { path: string; secure: boolean } {
  return {
    path: deps.settings.basePath === '' ? '/' : deps.settings.basePath,
    secure: deps.settings.secureCookies,
  }
}
