/**
 * Records each login for the flow inspector, from the outside of the engine, with nothing but its
 * public seams:
 *
 * 1. `wrapHandler` wraps `auth.handler`: a `/login/:provider` answer is a 302 whose `Location` is
 *    the authorization URL; it is kept under its `state` parameter.
 * 2. The same wrapper sees the `/callback/:provider` request: its URL (code redacted) joins the
 *    login with the same `state`, and the rest of that request runs with the login as its
 *    async context.
 * 3. `fetch` is given to the engine as `flowOptions.fetch`: the token request it makes while
 *    handling that callback (the form body with `code_verifier`) and the token response
 *    (JWTs decoded without their signature, other tokens cut to 8 characters) join the same login.
 * 4. `finish`, called from `onLogin`, takes the login by the callback's `state` and adds the result.
 *
 * Nothing here is written to the console.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Identity } from '../../../src/client/identity.ts'
import type { TokenSet } from '../../../src/client/tokens.ts'
import {
  type AuthorizationStep,
  type CallbackStep,
  type FlowTrace,
  preview,
  redactTokenResponse,
  redactUrl,
  safeParam,
  type TokenStep,
} from './trace.ts'

/** A login between its start and `onLogin`. */
interface PendingLogin {
  provider: string
  authorization: AuthorizationStep
  callback: CallbackStep | null
  token: TokenStep | null
}

/** Logins not finished within the flow state's life (10 minutes) are dropped. */
const PENDING_TTL_MS = 10 * 60_000
/** At most this many logins in progress are remembered; the oldest go first. */
const MAX_PENDING = 500
/** Token responses larger than this are not parsed for the inspector. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024

type Handler = (request: Request) => Promise<Response>

/** Records logins in memory, keyed by `state`. */
export class FlowRecorder {
  readonly #pending = new Map<string, PendingLogin>()
  readonly #current = new AsyncLocalStorage<PendingLogin>()
  readonly #basePath: string
  readonly #now: () => number
  readonly #fetch: typeof fetch

  constructor(options: { basePath: string; fetch?: typeof fetch; now?: () => number }) {
    this.#basePath = options.basePath
    const inner = options.fetch ?? globalThis.fetch
    this.#fetch = (input, init) => inner(input, init)
    this.#now = options.now ?? Date.now
  }

  /** Wraps the engine's handler to see the authorization redirect and the callback. */
  wrapHandler(handler: Handler): Handler {
    return async (request) => {
      const url = new URL(request.url)
      const [route, provider, extra] = url.pathname.slice(this.#basePath.length + 1).split('/')
      if (provider === undefined || extra !== undefined || request.method !== 'GET')
        return handler(request)
      if (route === 'callback') {
        const login = this.#callback(url)
        return login ? this.#current.run(login, () => handler(request)) : handler(request)
      }
      const response = await handler(request)
      if (route === 'login' && response.status === 302) this.#started(provider, response)
      return response
    }
  }

  /** The `fetch` for `flowOptions.fetch`: records the token exchange of the current callback. */
  readonly fetch: typeof fetch = async (input, init) => {
    const login = this.#current.getStore()
    const body = typeof init?.body === 'string' ? new URLSearchParams(init.body) : undefined
    if (!login || init?.method !== 'POST' || body?.get('grant_type') !== 'authorization_code')
      return this.#fetch(input, init)
    const headers = new Headers(init.headers)
    const auth = headers.get('authorization')
    const step: TokenStep = {
      at: this.#now(),
      endpoint: String(input instanceof Request ? input.url : input),
      params: [...body].map(([name, value]) => [name, safeParam(name, value)] as const),
      authorization: auth === null ? null : `${auth.split(' ')[0] ?? ''} [redacted]`,
      status: null,
      response: [],
    }
    login.token = step
    const response = await this.#fetch(input, init)
    login.token = {
      ...step,
      status: response.status,
      response: await this.#readTokenResponse(response),
    }
    return response
  }

  /**
   * The login whose callback is `request` (by its `state`), finished with what it produced; the
   * recorder forgets it. Undefined when the recorder never saw the login start.
   */
  finish(
    request: Request,
    identity: Identity,
    tokens: TokenSet,
    provider: string,
  ): FlowTrace | undefined {
    const state = new URL(request.url).searchParams.get('state')
    const login = state === null ? undefined : this.#pending.get(state)
    if (state !== null) this.#pending.delete(state)
    if (!login || login.provider !== provider) return undefined
    return {
      provider,
      authorization: login.authorization,
      callback: login.callback,
      token: login.token,
      result: {
        at: this.#now(),
        identity: {
          provider: identity.provider,
          issuer: identity.issuer,
          subject: identity.subject,
          name: identity.name,
          email: identity.email,
          emailVerified: identity.emailVerified,
          username: identity.username,
        },
        tokens: {
          tokenType: tokens.tokenType,
          expiresAt: tokens.expiresAt ?? null,
          accessToken: preview(tokens.accessToken),
          idToken: tokens.idToken === undefined ? null : preview(tokens.idToken),
          refreshToken: tokens.refreshToken === undefined ? null : preview(tokens.refreshToken),
          scope: tokens.scope ?? null,
        },
      },
    }
  }

  #started(provider: string, response: Response): void {
    const location = response.headers.get('location')
    if (location === null) return
    const url = new URL(location)
    const state = url.searchParams.get('state')
    if (state === null) return
    this.#sweep()
    this.#pending.set(state, {
      provider,
      authorization: { at: this.#now(), url: url.href },
      callback: null,
      token: null,
    })
  }

  #callback(url: URL): PendingLogin | undefined {
    const states = url.searchParams.getAll('state')
    const login = states.length === 1 ? this.#pending.get(states[0] as string) : undefined
    if (login) login.callback = { at: this.#now(), url: redactUrl(url) }
    return login
  }

  async #readTokenResponse(response: Response): Promise<[string, string][]> {
    const length = Number(response.headers.get('content-length'))
    if (Number.isFinite(length) && length > MAX_TOKEN_RESPONSE_BYTES) return []
    try {
      const text = await response.clone().text()
      return text.length > MAX_TOKEN_RESPONSE_BYTES ? [] : redactTokenResponse(JSON.parse(text))
    } catch {
      return []
    }
  }

  #sweep(): void {
    const cutoff = this.#now() - PENDING_TTL_MS
    for (const [state, login] of this.#pending) {
      if (login.authorization.at > cutoff && this.#pending.size < MAX_PENDING) break
      this.#pending.delete(state)
    }
  }
}
