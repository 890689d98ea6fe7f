/**
 * A real, independent OpenID Provider for end-to-end tests: `oidc-provider` (panva) mounted on a
 * plain `node:http` server on 127.0.0.1 with an ephemeral port. Its interactions (login and
 * consent) are finished automatically by a route of ours, so a login needs no form: follow the
 * redirects with {@link followToCallback} until the relying party's redirect URI.
 *
 * Defaults: PKCE required for every client, authorization_code + refresh_token, revocation on,
 * refresh tokens issued whenever the client may use them, ES256 and RS256 signing keys generated
 * per server, one test account.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
// @ts-expect-error oidc-provider ships no type declarations; the shapes used are typed below.
import ProviderClass from 'oidc-provider'
import { CookieJar } from '../../helpers/cookie-jar.ts'

export { CookieJar }

/** A user of the test provider, as OIDC standard claims. */
export interface TestAccount {
  readonly sub: string
  readonly email: string
  readonly email_verified: boolean
  readonly name: string
  readonly preferred_username: string
}

/** Client metadata as oidc-provider takes it (RFC 7591 names). */
export interface TestClientMetadata {
  readonly client_id: string
  readonly client_secret?: string
  readonly token_endpoint_auth_method:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'none'
    | 'private_key_jwt'
  readonly redirect_uris: readonly string[]
  readonly grant_types?: readonly string[]
  readonly response_types?: readonly string[]
  readonly id_token_signed_response_alg?: string
  readonly [key: string]: unknown
}

/** What the automatic interaction route does; mutable while the server runs. */
export interface InteractionBehaviour {
  /** Which account logs in (default: the first one). */
  accountId: string
  /** Finish the interaction with `access_denied` instead of logging in. */
  deny: boolean
  /** The `acr` and `amr` the login reports (oidc-provider puts them in the ID token). */
  acr?: string
  amr?: string[]
}

/** Options of {@link startOidcProvider}. */
export interface StartOidcProviderOptions {
  readonly clients: readonly TestClientMetadata[]
  /** Accounts that can log in (default: one test user). */
  readonly accounts?: readonly TestAccount[]
  /** Issue a refresh token whenever the client may use the grant (default true). */
  readonly issueRefreshToken?: boolean
  /** Override oidc-provider's rotation policy (default: its own, which rotates for public clients). */
  readonly rotateRefreshToken?: boolean
  /** Extra oidc-provider configuration, merged over ours at the top level. */
  readonly configuration?: Readonly<Record<string, unknown>>
}

/** The part of an oidc-provider `Interaction` the route reads. */
interface InteractionDetails {
  readonly uid: string
  readonly grantId?: string
  readonly session?: { readonly accountId?: string }
  readonly params: Readonly<Record<string, unknown>>
  readonly prompt: {
    readonly name: string
    readonly details: {
      readonly missingOIDCScope?: readonly string[]
      readonly missingOIDCClaims?: readonly string[]
      readonly missingResourceScopes?: Readonly<Record<string, readonly string[]>>
    }
  }
}

/** The part of an oidc-provider `Grant` the route uses. */
interface GrantInstance {
  addOIDCScope(scope: string): void
  addOIDCClaims(claims: readonly string[]): void
  addResourceScope(resource: string, scope: string): void
  save(): Promise<string>
}

/** The part of an oidc-provider `Provider` tests use; everything else is reachable as unknown. */
export interface OidcProviderInstance {
  readonly issuer: string
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>
  readonly Grant: {
    new (init: { accountId: string; clientId: string }): GrantInstance
    find(id: string): Promise<GrantInstance | undefined>
  }
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

type ProviderConstructor = new (
  issuer: string,
  configuration: Record<string, unknown>,
) => OidcProviderInstance
const Provider = ProviderClass as ProviderConstructor

/** A running test provider. */
export interface RunningOidcProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly issuer: string
  readonly port: number
  readonly provider: OidcProviderInstance
  readonly accounts: readonly TestAccount[]
  /** The public signing keys (ES256, RS256). */
  readonly publicJwks: readonly JWK[]
  readonly interactions: InteractionBehaviour
  /** Errors oidc-provider reported as `server_error` (a test expects none). */
  readonly serverErrors: unknown[]
  close(): Promise<void>
}

/** The default test user. */
export const DEFAULT_ACCOUNT: TestAccount = {
  sub: 'user-7c1f',
  email: 'ada@example.test',
  email_verified: true,
  name: 'Ada Lovelace',
  preferred_username: 'ada',
}

async function signingKeys(): Promise<{ privateJwks: JWK[]; publicJwks: JWK[] }> {
  const privateJwks: JWK[] = []
  const publicJwks: JWK[] = []
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
    const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`
    privateJwks.push({ ...(await exportJWK(privateKey)), kid, alg, use: 'sig' })
    publicJwks.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' })
  }
  return { privateJwks, publicJwks }
}

/** Finishes login and consent without a form, as {@link InteractionBehaviour} says. */
async function interact(
  provider: OidcProviderInstance,
  behaviour: InteractionBehaviour,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res)
  if (behaviour.deny) {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the test user said no' },
      { mergeWithLastSubmission: false },
    )
    return
  }
  const { prompt, params } = details
  if (prompt.name === 'login') {
    await provider.interactionFinished(req, res, {
      login: {
        accountId: behaviour.accountId,
        ...(behaviour.acr === undefined ? {} : { acr: behaviour.acr }),
        ...(behaviour.amr === undefined ? {} : { amr: behaviour.amr }),
      },
    })
    return
  }
  if (prompt.name === 'consent') {
    const accountId = details.session?.accountId
    const clientId = params.client_id
    if (typeof accountId !== 'string' || typeof clientId !== 'string') {
      throw new Error('consent interaction without a session account or client_id')
    }
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined
    const grant = existing ?? new provider.Grant({ accountId, clientId })
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '))
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims)
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '))
    }
    const grantId = await grant.save()
    await provider.interactionFinished(req, res, { consent: { grantId } })
    return
  }
  throw new Error(`unexpected interaction prompt "${prompt.name}"`)
}

/**
 * Starts oidc-provider on 127.0.0.1 with an ephemeral port.
 *
 * @example
 * ```ts
 * const op = await startOidcProvider({ clients: [{ client_id: 'app', client_secret: 's',
 *   token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://app.test/cb'] }] })
 * // … op.issuer is the issuer identifier; await op.close() in after()
 * ```
 */
export async function startOidcProvider(
  options: StartOidcProviderOptions,
): Promise<RunningOidcProvider> {
  const accounts = options.accounts ?? [DEFAULT_ACCOUNT]
  const first = accounts[0]
  if (!first) throw new Error('startOidcProvider needs at least one account')
  const interactions: InteractionBehaviour = { accountId: first.sub, deny: false }
  const serverErrors: unknown[] = []
  const { privateJwks, publicJwks } = await signingKeys()

  // The port is only known once listening, and the issuer must be known to build the provider:
  // listen first with a handler that dispatches to the provider created just after.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => handle(req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`

  const issueRefreshToken = options.issueRefreshToken ?? true
  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...client,
    })),
    jwks: { keys: privateJwks },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
          token.clientId === client.clientId,
      },
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Session: 86_400,
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.find((a) => a.sub === sub)
      if (!account) return undefined
      return {
        accountId: account.sub,
        claims: async () => ({ ...account }),
      }
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      issueRefreshToken && client.grantTypeAllowed('refresh_token'),
    ...(options.rotateRefreshToken === undefined
      ? {}
      : { rotateRefreshToken: () => options.rotateRefreshToken }),
    ...options.configuration,
  })
  provider.on('server_error', (_ctx, err) => {
    serverErrors.push(err)
  })

  const callback = provider.callback()
  handle = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname
    if (req.method === 'GET' && path.startsWith('/interaction/')) {
      interact(provider, interactions, req, res).catch((err: unknown) => {
        serverErrors.push(err)
        if (!res.headersSent) res.statusCode = 500
        res.end()
      })
      return
    }
    callback(req, res)
  }

  return {
    issuer,
    port,
    provider,
    accounts,
    publicJwks,
    interactions,
    serverErrors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}

/**
 * Plays the browser: GETs `start`, follows redirects by hand (`redirect: 'manual'`) with a cookie
 * jar, and returns the first `Location` that is `redirectUri` (plus a query), without requesting it.
 */
export async function followToCallback(
  start: URL | string,
  redirectUri: string,
  options: { jar?: CookieJar; maxHops?: number } = {},
): Promise<URL> {
  const jar = options.jar ?? new CookieJar()
  const maxHops = options.maxHops ?? 10
  const target = new URL(redirectUri)
  const targetBase = `${target.origin}${target.pathname}`
  let url = new URL(start)
  for (let hop = 0; hop < maxHops; hop++) {
    const cookie = jar.header()
    const response = await fetch(url, {
      redirect: 'manual',
      ...(cookie === undefined ? {} : { headers: { cookie } }),
    })
    jar.store(response)
    const location = response.headers.get('location')
    if (response.status < 300 || response.status >= 400 || location === null) {
      const body = await response.text()
      throw new Error(
        `expected a redirect from ${url.pathname}, got ${response.status}: ${body.slice(0, 500)}`,
      )
    }
    await response.body?.cancel()
    const next = new URL(location, url)
    if (`${next.origin}${next.pathname}` === targetBase) return next
    url = next
  }
  throw new Error(`no redirect to ${redirectUri} after ${maxHops} hops`)
}
