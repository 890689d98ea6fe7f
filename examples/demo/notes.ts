/**
 * "Notes": the demo's second app, in the same server under `/notes`, with its engine at
 * `/notes/auth`. It is its own client of Authkestra ID (`demo-notes`), keeps its own sessions
 * (cookie `notes_session`, its own store) and hears Authkestra ID's back-channel logout, so a
 * sign-out at Authkestra ID from the demo app ends its session too, and the other way round.
 *
 * @module
 */
import { createAuthkestra } from '../../src/engine/create-authkestra.ts'
import type { SessionStore } from '../../src/engine/sessions/types.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { NOTES, OP_PATH } from './identity-provider.ts'
import { type DemoUser, toDemoUser } from './user.ts'

/** The Notes app's engine, for the demo served at `origin`. */
export function createNotesAuth(origin: string, secret: string, store?: SessionStore) {
  const base = `${origin}${NOTES.basePath}`
  return createAuthkestra<DemoUser>({
    basePath: NOTES.basePath,
    providers: [
      oidc({
        id: 'authkestra',
        name: 'Authkestra ID',
        issuer: `${origin}${OP_PATH}`,
        clientId: NOTES.clientId,
        redirectUri: `${base}/callback/authkestra`,
        postLogoutRedirectUri: `${base}/logout-callback/authkestra`,
        backchannelLogout: true,
      }),
    ],
    secret,
    session: { cookieName: 'notes_session', ...(store ? { store } : {}) },
    onLogin: (identity) => toDemoUser(identity, undefined),
  })
}
