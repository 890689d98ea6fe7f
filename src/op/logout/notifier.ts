/**
 * Ending an OP session: the session record goes, and the clients that got a code in it are
 * collected (from the `sessionClient` records, found by listing the clients) and told: a
 * back-channel logout token to each that registered a `backchannel_logout_uri`, in the background.
 * Every way a session ends goes through here: the end-session endpoint, a new login over it.
 *
 * @module
 */
import { type LiveSession, userFamily } from '../endpoints/interaction/session.ts'
import type { ClientRecord, OpStore } from '../store/types.ts'
import type { Backchannel } from './backchannel.ts'

/** Why an OP session ended. */
export type LogoutReason = 'end_session' | 'new_login'

/** A client that signed in through an ended session, and the subject it knows. */
export interface SessionClient {
  readonly client: ClientRecord
  readonly sub: string
}

/** Ends OP sessions. */
export interface LogoutNotifier {
  /** Ends `session`; returns the clients that used it (each told once). */
  ended(session: LiveSession, reason: LogoutReason): Promise<readonly SessionClient[]>
  /**
   * Ends every OP session of `sub` (an admin logout); each client the user signed in to in a
   * live session gets a logout token naming the user (`sub`, no `sid`).
   */
  endUser(sub: string): Promise<readonly SessionClient[]>
}

/**
 * The notifier of one OP.
 *
 * @example
 * ```ts
 * const clients = await runtime.logout.ended(session, 'end_session')
 * ```
 */
export function createLogoutNotifier(deps: {
  store: OpStore
  backchannel: Backchannel
}): LogoutNotifier {
  /** The clients that have a record of `kind` under `id(client)`, looked up together. */
  async function clientsWith(
    kind: 'sessionClient' | 'userClient',
    id: (client: ClientRecord) => string,
  ): Promise<SessionClient[]> {
    const clients = await deps.store.list('client')
    const records = await Promise.all(clients.map((client) => deps.store.get(kind, id(client))))
    return clients.flatMap((client, i) => {
      const record = records[i]
      return record ? [{ client, sub: record.sub }] : []
    })
  }

  return {
    async ended(session) {
      await deps.store.delete('session', session.storageId)
      const key = (client: ClientRecord) => `${session.sid} ${client.clientId}`
      const used = await clientsWith('sessionClient', key)
      await Promise.all(used.map(({ client }) => deps.store.delete('sessionClient', key(client))))
      deps.backchannel.notify(used.map((u) => ({ ...u, sid: session.sid })))
      return used
    },
    async endUser(sub) {
      const used = await clientsWith('userClient', (client) => `${sub} ${client.clientId}`)
      await deps.store.revokeFamily(userFamily(sub))
      deps.backchannel.notify(used)
      return used
    },
  }
}
