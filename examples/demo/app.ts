/**
 * The demo app as one Web handler: the embedded OP ("Authkestra ID") under `/oidc`, the engine
 * under `/auth` (session mode), the pages (home, profile, the flow inspector), and a second app,
 * "Notes", under `/notes` with its own engine at `/notes/auth`, to show single logout.
 * `server.ts` puts it on `node:http`; tests can call it directly.
 *
 * In your own app, import from `authkestra`, `authkestra/op` and `authkestra/providers`; the demo
 * imports the sources so that `npm start` works without a build.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { createAuthkestra } from '../../src/engine/create-authkestra.ts'
import { session as sessionGuard } from '../../src/engine/guards/session.ts'
import type { Session } from '../../src/engine/sessions/manager.ts'
import type { SessionStore } from '../../src/engine/sessions/types.ts'
import type { OpLogger } from '../../src/op/config.ts'
import type { OpStore } from '../../src/op/store/types.ts'
import type { Html } from './html.ts'
import { createIdentityProvider, NOTES, OP_PATH } from './identity-provider.ts'
import { checkPkce } from './inspector/pkce-check.ts'
import { FlowRecorder } from './inspector/recorder.ts'
import { createNotesAuth } from './notes.ts'
import { homePage } from './pages/home.ts'
import { emptyInspectorPage, inspectorPage } from './pages/inspector.ts'
import { notFoundPage } from './pages/not-found.ts'
import { notesPage } from './pages/notes.ts'
import { profilePage } from './pages/profile.ts'
import { sensitivePage } from './pages/sensitive.ts'
import { type DemoEnv, demoProviders } from './providers.ts'
import { type DemoUser, toDemoUser } from './user.ts'

/** What the demo needs. */
export interface DemoOptions {
  /** Where it is served, e.g. `http://localhost:3000`; the OP's issuer is `<origin>/oidc`. */
  readonly origin: string
  /** The engine's secret (≥ 32 bytes). */
  readonly secret: string
  /** GITHUB_… and GOOGLE_… credentials, when set. */
  readonly env?: DemoEnv
  /** Where the OP reports (never secrets). */
  readonly logger?: OpLogger
  /**
   * Where sessions and the OP's records live (default: in memory); `notesSessions`, the second
   * app's sessions (its own store: apps do not share sessions).
   */
  readonly stores?: {
    readonly sessions: SessionStore
    readonly op: OpStore
    readonly notesSessions?: SessionStore
  }
}

/** A ready demo. */
export interface Demo {
  handler(request: Request): Promise<Response>
  /** The sign-in options, in button order. */
  readonly providers: readonly { id: string; name: string }[]
  /** Things worth telling at start (half-set credentials). */
  readonly notes: readonly string[]
}

/** No scripts at all, styles and images only from this origin, no framing. */
const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8')
const ASSETS: Record<string, { body: string; type: string }> = {
  '/assets/demo.css': { body: asset('demo.css'), type: 'text/css; charset=utf-8' },
  '/favicon.svg': { body: asset('favicon.svg'), type: 'image/svg+xml' },
}

function page(body: Html, status = 200): Response {
  return new Response(body.value, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
    },
  })
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } })
}

/**
 * Builds the demo.
 *
 * @example
 * ```ts
 * const demo = await createDemo({ origin: 'http://localhost:3000', secret })
 * const response = await demo.handler(new Request('http://localhost:3000/'))
 * ```
 */
export async function createDemo(options: DemoOptions): Promise<Demo> {
  const { origin, secret } = options
  const logger = options.logger ?? { warn: () => {}, error: () => {} }
  const op = await createIdentityProvider(origin, logger, secret, options.stores?.op)
  const { providers, notes } = demoProviders(origin, options.env ?? {})
  const recorder = new FlowRecorder({ basePath: '/auth' })
  const auth = createAuthkestra<DemoUser>({
    providers,
    secret,
    session: options.stores ? { store: options.stores.sessions } : {},
    // The recorder sees the token request (with code_verifier) and the token response.
    flowOptions: { fetch: recorder.fetch },
    onLogin: (identity, { provider, tokens, request }) =>
      toDemoUser(identity, recorder.finish(request, identity, tokens, provider)),
  })
  const authHandler = recorder.wrapHandler(auth.handler)
  const notesApp = createNotesAuth(origin, secret, options.stores?.notesSessions)
  const buttons = auth.providers()
  // The sensitive page: a second factor in the last five minutes, asked of Authkestra ID.
  const sensitive = sessionGuard(auth, {
    redirectTo: '/auth/login/authkestra',
    acr: ['mfa', 'phr'],
    maxAge: 300,
  })
  const providerName = (id: string) => buttons.find((p) => p.id === id)?.name ?? id

  async function render(
    path: string,
    session: Session<DemoUser> | null,
    request: Request,
  ): Promise<Response> {
    const user = session?.user ?? null
    const now = Date.now()
    switch (path) {
      case '/':
        return page(homePage(user, buttons))
      case NOTES.path: {
        const notesSession = await notesApp.getSession(request)
        return page(notesPage(notesSession?.user ?? null, user, notesApp.basePath))
      }
      case '/profile':
        return session
          ? page(profilePage(session, providerName(session.provider), now))
          : redirect('/')
      case '/sensitive': {
        const allowed = await sensitive(request)
        if (!allowed.ok) return allowed.response
        return page(sensitivePage(allowed.principal, now))
      }
      case '/inspector': {
        const trace = user?.lastLogin
        if (!user || !trace) return page(emptyInspectorPage(user, buttons))
        const pkce = await checkPkce(trace)
        return page(inspectorPage(user, trace, pkce, providerName(trace.provider), now))
      }
      default:
        return page(notFoundPage(user), 404)
    }
  }

  async function handler(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname
    if (
      path === OP_PATH ||
      path.startsWith(`${OP_PATH}/`) ||
      path === `/.well-known/oauth-authorization-server${OP_PATH}`
    )
      return op.handler(request)
    if (path.startsWith(`${auth.basePath}/`)) return authHandler(request)
    if (path.startsWith(`${notesApp.basePath}/`)) return notesApp.handler(request)
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } })
    const file = ASSETS[path]
    if (file) return new Response(file.body, { headers: { 'content-type': file.type } })
    try {
      return await render(path, await auth.getSession(request), request)
    } catch (err) {
      logger.error(`page ${path} failed: ${err instanceof Error ? err.name : 'unknown error'}`)
      return new Response('Something went wrong.', {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      })
    }
  }

  return { handler, providers: buttons, notes }
}
