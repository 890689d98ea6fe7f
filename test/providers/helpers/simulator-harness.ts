/**
 * What the provider tests share around their simulators:
 *
 * - {@link ProviderSimulator}: the base of a simulated provider, with the authorize step's common
 *   part (state echoed on the redirect back, `access_denied` on demand, PKCE-bound codes) and the
 *   redemption of those codes at the token endpoint.
 * - {@link useLocalProvider}: runs a simulator on a local server for one `describe` block (started
 *   before it, reset before each test, closed after it) with a flow of the provider under test, and
 *   plays a login up to the callback.
 * - Assertions on what every OAuth 2.0 + PKCE provider here gets from the flow.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach } from 'node:test'
import { type LoginResult, type LoginStart, OAuth2Flow } from '../../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../../src/client/provider-config.ts'
import { Pkce } from '../../../src/core/pkce.ts'
import {
  AuthorizationCodes,
  followAuthorization,
  type Handler,
  type LocalProviderServer,
  opaqueToken,
  parseBasicAuth,
  type RecordedRequest,
  type Reply,
  startLocalProviderServer,
} from './local-provider-server.ts'

/** The app's registration at a simulated provider. */
export interface ClientRegistration {
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
}

/** One grant a simulated provider issued. */
export interface SimulatedGrant {
  readonly accessToken: string
  readonly refreshToken: string
  readonly scopes: readonly string[]
  revoked: boolean
}

/** The grants a simulated provider issued, for its token, refresh, revocation and API endpoints. */
export class SimulatedGrants {
  readonly list: SimulatedGrant[] = []
  /** Issue every grant already revoked (a token that dies before its first use). */
  revokeOnIssue = false

  /** A new grant for `scopes`, its tokens starting with `prefix`. */
  issue(scopes: readonly string[], prefix = ''): SimulatedGrant {
    const grant = {
      accessToken: opaqueToken(prefix),
      refreshToken: opaqueToken(prefix),
      scopes,
      revoked: this.revokeOnIssue,
    }
    this.list.push(grant)
    return grant
  }

  /** The live grant of this access token. */
  byAccessToken(token: string | null | undefined): SimulatedGrant | undefined {
    return this.list.find((g) => g.accessToken === token && !g.revoked)
  }

  /** The live grant of this refresh token. */
  byRefreshToken(token: string | null | undefined): SimulatedGrant | undefined {
    return this.list.find((g) => g.refreshToken === token && !g.revoked)
  }

  /** Ends the grant holding `token` (access or refresh); whether there was one. */
  revoke(token: string | null): boolean {
    const grant = this.list.find((g) => g.accessToken === token || g.refreshToken === token)
    if (grant) grant.revoked = true
    return grant !== undefined
  }
}

/** A simulated provider: the codes it issued and whether the user denies the next authorization. */
export abstract class ProviderSimulator {
  readonly client: ClientRegistration
  codes = new AuthorizationCodes()
  issued = new SimulatedGrants()
  denyAuthorization = false

  /** Answers every request the local server receives. */
  abstract readonly handle: Handler

  constructor(client: ClientRegistration) {
    this.client = client
  }

  /** Back to a fresh provider (run before each test); subclasses reset their own state too. */
  reset(): void {
    this.codes = new AuthorizationCodes()
    this.issued = new SimulatedGrants()
    this.denyAuthorization = false
  }

  /** The request authenticates the client with HTTP Basic, and only that way. */
  protected basicAuthenticated(req: RecordedRequest): boolean {
    const basic = parseBasicAuth(req.headers.authorization)
    return (
      basic?.clientId === this.client.clientId &&
      basic.clientSecret === this.client.clientSecret &&
      !req.form.has('client_secret')
    )
  }

  /** The request authenticates the client in the form body, and only that way. */
  protected postAuthenticated(req: RecordedRequest): boolean {
    return (
      req.headers.authorization === undefined &&
      req.form.get('client_id') === this.client.clientId &&
      req.form.get('client_secret') === this.client.clientSecret
    )
  }

  /** The 302 back to the registered redirect URI, echoing the request's `state`, with `params`. */
  protected redirectBack(req: RecordedRequest, params: Readonly<Record<string, string>>): Reply {
    const back = new URL(this.client.redirectUri)
    const state = req.query.get('state')
    if (state !== null) back.searchParams.set('state', state)
    for (const [name, value] of Object.entries(params)) back.searchParams.set(name, value)
    return { status: 302, headers: { location: back.href } }
  }

  /**
   * Ends an authorization request the provider has checked: `access_denied` (with `denial` as the
   * description) when {@link denyAuthorization} is set, else a code bound to the client, the
   * redirect URI, the scopes (split on `scopeSeparator`) and the PKCE challenge.
   */
  protected approve(req: RecordedRequest, denial: string, scopeSeparator: string | RegExp): Reply {
    if (this.denyAuthorization) {
      return this.redirectBack(req, { error: 'access_denied', error_description: denial })
    }
    const q = req.query
    const code = this.codes.issue({
      clientId: this.client.clientId,
      redirectUri: this.client.redirectUri,
      scopes: (q.get('scope') ?? '').split(scopeSeparator).filter(Boolean),
      codeChallenge: q.get('code_challenge') ?? undefined,
      codeChallengeMethod: q.get('code_challenge_method') ?? undefined,
    })
    return this.redirectBack(req, { code })
  }

  /** Redeems the `code` of a token request, with its `redirect_uri` and `code_verifier`. */
  protected redeem(form: URLSearchParams): ReturnType<AuthorizationCodes['redeem']> {
    return this.codes.redeem(form.get('code'), {
      clientId: this.client.clientId,
      redirectUri: form.get('redirect_uri'),
      codeVerifier: form.get('code_verifier'),
    })
  }
}

/** How {@link useLocalProvider} sets up the provider under test. */
export interface LocalProviderOptions {
  /**
   * The https origins (`https://github.com`, …) the flow's `fetch` sends to the local server.
   * Without them the provider's endpoints are the server itself and the global `fetch` is used.
   */
  readonly origins?: readonly string[]
  /** The provider under test, once the server runs. */
  readonly config: (server: LocalProviderServer) => ProviderConfig
  /** Runs once the server has started, before the flow is made. */
  readonly onStart?: (server: LocalProviderServer) => void
}

/** A login played up to the callback the provider redirected the browser to. */
export interface Login extends LoginStart {
  readonly callback: URL
  /** Finalizes this login with its callback and flow state, on the flow that started it. */
  finalize(): Promise<LoginResult>
}

/** A simulated provider on its local server, for the tests of one `describe` block. */
export interface LocalProvider {
  readonly server: LocalProviderServer
  /** A flow of the provider under test. */
  readonly flow: OAuth2Flow
  /** A flow of another configuration of the provider, with the same `fetch`. */
  flowFor(config: ProviderConfig): OAuth2Flow
  /** Starts a login (on `flow`, default {@link flow}) and plays the browser at the authorize step. */
  login(flow?: OAuth2Flow, scopes?: readonly string[]): Promise<Login>
  /** {@link login}, then finalizes it (which must succeed). */
  completeLogin(flow?: OAuth2Flow, scopes?: readonly string[]): Promise<Login & LoginResult>
}

/**
 * Registers the hooks of the enclosing `describe`: start the server for `simulator` before its
 * tests, reset the simulator and forget the recorded requests before each, close it after them.
 */
export function useLocalProvider(
  simulator: ProviderSimulator,
  options: LocalProviderOptions,
): LocalProvider {
  let server: LocalProviderServer | undefined
  let fetchImpl: typeof fetch = globalThis.fetch
  let flow: OAuth2Flow | undefined
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the local provider is used before it started')
    return value
  }
  const flowFor = (config: ProviderConfig) =>
    new OAuth2Flow(config, options.origins === undefined ? {} : { fetch: fetchImpl })

  const login = async (f = started(flow), scopes?: readonly string[]): Promise<Login> => {
    const start = await f.initiateLogin(scopes === undefined ? {} : { scopes })
    const callback = await followAuthorization(start.url, fetchImpl)
    return { ...start, callback, finalize: () => f.finalizeLogin(callback, start.flowState) }
  }

  before(async () => {
    server = await startLocalProviderServer(simulator.handle)
    if (options.origins !== undefined) fetchImpl = server.fetch(options.origins)
    options.onStart?.(server)
    flow = flowFor(options.config(server))
  })
  after(() => started(server).close())
  beforeEach(() => {
    simulator.reset()
    started(server).requests.length = 0
  })

  return {
    get server() {
      return started(server)
    },
    get flow() {
      return started(flow)
    },
    flowFor,
    login,
    async completeLogin(f, scopes) {
      const done = await login(f, scopes)
      return { ...done, ...(await done.finalize()) }
    },
  }
}

/** What the authorization URL of every code + PKCE provider here carries. */
export async function assertAuthorizationUrl(
  { url, flowState }: LoginStart,
  expected: { endpoint: string; clientId: string; redirectUri: string; scope: string },
): Promise<void> {
  assert.equal(`${url.origin}${url.pathname}`, expected.endpoint)
  const q = url.searchParams
  assert.equal(q.get('client_id'), expected.clientId)
  assert.equal(q.get('redirect_uri'), expected.redirectUri)
  assert.equal(q.get('response_type'), 'code')
  assert.equal(q.get('scope'), expected.scope)
  assert.equal(q.get('state'), flowState.state)
  assert.equal(q.get('code_challenge_method'), 'S256')
  assert.ok(flowState.codeVerifier)
  assert.equal(q.get('code_challenge'), await Pkce.challenge(flowState.codeVerifier))
}

/** That a request authenticated the client with HTTP Basic only (no secret in the body). */
export function assertBasicClientAuth(request: RecordedRequest, client: ClientRegistration): void {
  assert.deepEqual(parseBasicAuth(request.headers.authorization), {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
  })
  assert.equal(request.form.get('client_secret'), null, 'the secret is not in the body')
}

/** That a request sent the client's credentials in the form body only (no Authorization). */
export function assertPostClientAuth(request: RecordedRequest, client: ClientRegistration): void {
  assert.equal(request.headers.authorization, undefined, 'no Basic header')
  assert.equal(request.form.get('client_id'), client.clientId)
  assert.equal(request.form.get('client_secret'), client.clientSecret)
}

/** That a token request redeems the login's code with its redirect URI and PKCE verifier. */
export function assertCodeRedemption(
  tokenRequest: RecordedRequest,
  { callback, flowState }: Login,
  redirectUri: string,
): void {
  assert.equal(tokenRequest.form.get('code'), callback.searchParams.get('code'))
  assert.equal(tokenRequest.form.get('redirect_uri'), redirectUri)
  assert.equal(tokenRequest.form.get('code_verifier'), flowState.codeVerifier)
}
