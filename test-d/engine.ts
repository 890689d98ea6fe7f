// Compile-only assertions: the engine's mode decides which helpers exist.
import type { Identity } from '../src/client/index.ts'
import {
  createAuthkestra,
  createMemoryRevocationStore,
  type Session,
  type SessionAuthkestra,
  type SessionJwt,
  type StatelessAuthkestra,
  session,
} from '../src/index.ts'
import { oidc } from '../src/providers/index.ts'

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(): T => true as T

const providers = [
  oidc({ issuer: 'https://id.example', clientId: 'c', redirectUri: 'https://a/cb' }),
]
const secret = 'x'.repeat(32)

// session mode: getSession exists, verifyRequest does not; the user type comes from onLogin
const withSessions = createAuthkestra({
  providers,
  secret,
  session: {},
  onLogin: (identity) => ({ id: identity.subject, admin: false }),
})
assertType<Equals<typeof withSessions, SessionAuthkestra<{ id: string; admin: boolean }>>>()
declare const request: Request
type SessionUser = NonNullable<Awaited<ReturnType<typeof withSessions.getSession>>>['user']
assertType<Equals<SessionUser, { id: string; admin: boolean }>>()
// @ts-expect-error stateless helper absent in session mode
void withSessions.verifyRequest(request)

// stateless mode: verifyRequest exists, getSession does not; default user is the Identity
const stateless = createAuthkestra({
  providers,
  secret,
  jwt: { delivery: 'json', revocations: createMemoryRevocationStore() },
})
assertType<Equals<typeof stateless, StatelessAuthkestra<Identity>>>()
// @ts-expect-error session helper absent in stateless mode
void stateless.getSession(request)

// stateless mode needs a revocation store, or the opt-out spelled out
// @ts-expect-error no revocations
createAuthkestra({ providers, secret, jwt: {} })
// @ts-expect-error a bare false does not opt out
createAuthkestra({ providers, secret, jwt: { revocations: false } })
createAuthkestra({
  providers,
  secret,
  jwt: { revocations: 'none-logout-keeps-tokens-valid-until-exp' },
})

// userKey sees the app's user type; logoutEverywhere takes the key it returns
const linked = createAuthkestra({
  providers,
  secret,
  session: {},
  onLogin: (identity) => ({ id: identity.subject }),
  userKey: (user) => user.id,
})
void linked.logoutEverywhere('42')

// exactly one mode
// @ts-expect-error both modes at once
createAuthkestra({
  providers,
  secret,
  session: {},
  jwt: { revocations: createMemoryRevocationStore() },
})
// @ts-expect-error no mode
createAuthkestra({ providers, secret })

// the session guard's principal follows the mode
const g1 = session(withSessions)
const g2 = session(stateless)
type P1 = Extract<Awaited<ReturnType<typeof g1>>, { ok: true }>['principal']
type P2 = Extract<Awaited<ReturnType<typeof g2>>, { ok: true }>['principal']
assertType<Equals<P1, Session<{ id: string; admin: boolean }>>>()
assertType<Equals<P2, SessionJwt<Identity>>>()
