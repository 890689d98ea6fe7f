// What every app mounts, whatever the framework: one session-mode engine whose provider is the
// OP, with a clock the tests can move, the session guard for the protected routes, and a bearer
// guard for the API route; and a stateless engine under /jwt (Secure cookies forced, so its
// cookies carry the __Host- prefix even on http://127.0.0.1) with its own guarded route.
import {
  type BearerPrincipal,
  bearer,
  createAuthkestra,
  createMemoryRevocationStore,
  type Guard,
  type Session,
  type SessionAuthkestra,
  type SessionConfig,
  type SessionJwt,
  type StatelessAuthkestra,
  session,
} from '../../../../src/index.ts'
import { oidc } from '../../../../src/providers/oidc.ts'
import { CLIENT, type RunningIdp } from './idp.ts'
import { TOKEN } from './tokens.ts'

export const SECRET = 'adapters-e2e-secret-that-is-long-enough-0123'

/** A clock that reads the real time plus an offset the test sets. */
export class MovableClock {
  offsetMs = 0
  now(): number {
    return Date.now() + this.offsetMs
  }
}

export interface Wiring {
  readonly auth: SessionAuthkestra<unknown>
  readonly signedIn: Guard<Session<unknown>>
  readonly clock: MovableClock
  /** `bearer()` over HS256 tokens of {@link TOKEN}'s issuer, for `/api/token`. */
  readonly apiToken: Guard<BearerPrincipal>
  /** The stateless engine under `/jwt`, and its session guard for `/api/jwt-me`. */
  readonly jwtAuth: StatelessAuthkestra<unknown>
  readonly jwtSignedIn: Guard<SessionJwt<unknown>>
  /** What `onLogin` saw of each callback request, newest last. */
  readonly logins: { url: string; isRequest: boolean; method: string; host: string | null }[]
}

/**
 * The engine for an app served at `origin`, logging in with the OP of `idp`; and two providers on
 * its extra-audience OP: `aud` (refused, an untrusted audience) and `aud-trusted` (which lists it).
 */
export function wire(
  idp: Pick<RunningIdp, 'issuer' | 'audienceIssuer'>,
  origin: string,
  /** More options of the session-mode engine (rate limits, trusted proxies). */
  extra: Pick<SessionConfig<unknown>, 'rateLimits' | 'trustedProxies'> = {},
): Wiring {
  const { issuer } = idp
  const audience = (id: string, trustedAudiences: string[]) =>
    oidc({
      id,
      issuer: idp.audienceIssuer,
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      redirectUri: `${origin}/auth/callback/${id}`,
      trustedAudiences,
    })
  const clock = new MovableClock()
  const logins: Wiring['logins'] = []
  const auth = createAuthkestra<unknown>({
    providers: [
      oidc({
        id: 'idp',
        issuer,
        clientId: CLIENT.id,
        clientSecret: CLIENT.secret,
        redirectUri: `${origin}/auth/callback/idp`,
      }),
      audience('aud', []),
      audience('aud-trusted', ['https://api.example']),
    ],
    secret: SECRET,
    session: {},
    clock,
    ...extra,
    onLogin: (identity, { request }) => {
      const { url, method } = request
      logins.push({
        url,
        method,
        isRequest: request instanceof Request,
        host: request.headers.get('host'),
      })
      return identity
    },
  })
  const apiToken = bearer({ secret: TOKEN.secret, issuer: TOKEN.issuer, audience: TOKEN.audience })
  const jwtAuth = createAuthkestra<unknown>({
    basePath: '/jwt',
    providers: [
      oidc({
        id: 'idp',
        issuer,
        clientId: CLIENT.id,
        clientSecret: CLIENT.secret,
        redirectUri: `${origin}/jwt/callback/idp`,
      }),
    ],
    secret: SECRET,
    jwt: { revocations: createMemoryRevocationStore() },
    secureCookies: true,
    clock,
  })
  return {
    auth,
    signedIn: session(auth),
    clock,
    apiToken,
    jwtAuth,
    jwtSignedIn: session(jwtAuth),
    logins,
  }
}
