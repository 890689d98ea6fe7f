// An engine wired to a real OP on loopback (our dev IdP's server with the embedded OP), and a
// browser that talks to the engine through its Web handler and to the OP over HTTP.
import type { Server } from 'node:http'
import { serve } from '../../../src/dev-idp/serve.ts'
import type { JwtModeOptions, SessionModeOptions } from '../../../src/engine/config.ts'
import {
  createAuthkestra,
  createMemoryRevocationStore,
  type SessionAuthkestra,
  type StatelessAuthkestra,
} from '../../../src/index.ts'
import { createOp } from '../../../src/op/create-op.ts'
import { oidc } from '../../../src/providers/oidc.ts'

export const APP = 'http://localhost:3000'
export const SECRET = 'engine-test-secret-that-is-long-enough-0123'

export interface RunningIdp {
  issuer: string
  close(): Promise<void>
}

/** Starts an OP (auto-login as alice unless `form`) on an ephemeral port. */
export async function startIdp(options: { form?: boolean } = {}): Promise<RunningIdp> {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const op = await createOp({
    issuer,
    logger: { warn: () => {}, error: () => {} },
    clients: [
      {
        client_id: 'app',
        client_secret: 'app-secret-0123456789abcdef',
        redirect_uris: [`${APP}/auth/callback/idp`],
        skip_consent: true,
      },
    ],
    accounts: [
      {
        username: 'alice',
        password: 'wonderland',
        claims: { name: 'Alice', email: 'alice@example.com', email_verified: true },
      },
    ],
    ...(options.form ? {} : { dangerouslyAutoLogin: 'alice' }),
  })
  handler = op.handler
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function idpProvider(issuer: string) {
  return oidc({
    id: 'idp',
    issuer,
    clientId: 'app',
    clientSecret: 'app-secret-0123456789abcdef',
    redirectUri: `${APP}/auth/callback/idp`,
  })
}

export function sessionEngine(
  issuer: string,
  session: SessionModeOptions = {},
  extra: Record<string, unknown> = {},
): SessionAuthkestra<unknown> {
  return createAuthkestra<unknown>({
    providers: [idpProvider(issuer)],
    secret: SECRET,
    session,
    ...extra,
  })
}

export function jwtEngine(
  issuer: string,
  jwt: Partial<JwtModeOptions> = {},
  extra: Record<string, unknown> = {},
): StatelessAuthkestra<unknown> {
  return createAuthkestra<unknown>({
    providers: [idpProvider(issuer)],
    secret: SECRET,
    jwt: { revocations: createMemoryRevocationStore(), ...jwt },
    ...extra,
  })
}

/** Cookies of the app origin, kept like a browser would (one host, Path-aware). */
export class AppBrowser {
  readonly cookies = new Map<string, { value: string; path: string }>()
  constructor(readonly handler: (r: Request) => Promise<Response>) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, APP)
    const headers = new Headers(init.headers)
    const jar = [...this.cookies]
      .filter(([, c]) => target.pathname.startsWith(c.path))
      .map(([n, c]) => `${n}=${c.value}`)
    if (jar.length > 0) headers.set('cookie', jar.join('; '))
    const response = await this.handler(new Request(target, { ...init, headers }))
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const path = attrs.find((a) => a.startsWith('Path='))?.slice(5) ?? '/'
      if (value === '' || attrs.includes('Max-Age=0')) this.cookies.delete(name)
      else this.cookies.set(name, { value, path })
    }
    return response
  }

  /** GET /auth/login/idp, let the (auto-login) OP answer, return the callback URL. */
  async startLogin(query = ''): Promise<{ authorizationUrl: URL; callback: URL }> {
    const login = await this.request(`/auth/login/idp${query}`)
    if (login.status !== 302) throw new Error(`login answered ${login.status}`)
    const authorizationUrl = new URL(login.headers.get('location') ?? '')
    const atOp = await fetch(authorizationUrl, { redirect: 'manual' })
    return { authorizationUrl, callback: new URL(atOp.headers.get('location') ?? '') }
  }
}
