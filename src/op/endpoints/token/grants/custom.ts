/**
 * Custom grants (RFC 6749 §4.5): an app-defined `grant_type` URI whose handler decides, for an
 * already authenticated client, who the tokens are about and with which scopes. What is issued
 * goes through the same code as the built-in grants (TTLs, `typ`, signing, refresh storage), and
 * the OP, not the handler, enforces the ceilings: the client's registered scopes, OpenID Connect
 * scopes only for accounts, refresh tokens only for clients registered for them.
 *
 * @module
 */
import { randomToken } from '../../../../core/random.ts'
import { BUILTIN_GRANTS, isScopeToken } from '../../../clients.ts'
import {
  type CustomGrantHandler,
  type CustomGrantResult,
  configError,
  OIDC_SCOPES,
  type OpAccount,
  type OpConfig,
} from '../../../config.ts'
import { OAuthProblem } from '../../../errors.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord } from '../../../store/types.ts'
import {
  findAccount,
  type IssueDeps,
  issueTokens,
  nowSeconds,
  parseScope,
  type TokenResponseBody,
} from '../issue.ts'

const handlerFailed = (): OAuthProblem =>
  new OAuthProblem('server_error', 'the grant could not be processed', 500)

/**
 * Rule (RFC 6749 §2.1, §4.5): a public client may use a custom grant only when the grant says
 * so; the client has been authenticated (or, public, identified) before this runs.
 */
function checkClientMayUse(grant: ResolvedCustomGrant, client: ClientRecord): void {
  if (client.tokenEndpointAuthMethod === 'none' && !grant.publicClients)
    throw new OAuthProblem('unauthorized_client', 'public clients cannot use this grant type')
}

/**
 * Rule: the handler's own refusals (`GrantError`) and malformed parameters go to the client as
 * they are; anything else it throws is a failure of the app: logged, answered 500
 * `server_error`, and nothing is issued.
 */
async function runHandler(
  grantType: string,
  grant: ResolvedCustomGrant,
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<unknown> {
  const requestedScopes = parseScope(params.get('scope'))
  try {
    return await grant.handler({
      grantType,
      client: {
        clientId: client.clientId,
        confidential: client.tokenEndpointAuthMethod !== 'none',
        scopes: client.scopes,
      },
      requestedScopes,
      param: (name) => params.get(name),
    })
  } catch (err) {
    if (err instanceof OAuthProblem && err.status === 400) throw err
    deps.logger.error(`custom grant "${grantType}" threw`, err)
    throw handlerFailed()
  }
}

/**
 * Rule: the handler returned a result of the documented shape (`sub` 1 to 255 printable
 * characters, scope tokens, an `authTime` not in the future); otherwise 500, logged.
 */
function checkResult(grantType: string, value: unknown, deps: IssueDeps): CustomGrantResult {
  const result = value as CustomGrantResult
  const ok =
    typeof value === 'object' &&
    value !== null &&
    typeof result.sub === 'string' &&
    /^[\x21-\x7e]{1,255}$/.test(result.sub) &&
    Array.isArray(result.scopes) &&
    result.scopes.every((s) => typeof s === 'string' && isScopeToken(s)) &&
    (result.account === undefined || typeof result.account === 'boolean') &&
    (result.authTime === undefined ||
      (Number.isInteger(result.authTime) && result.authTime <= nowSeconds(deps)))
  if (ok) return result
  deps.logger.error(`custom grant "${grantType}" returned a malformed result`)
  throw handlerFailed()
}

/**
 * Rule (RFC 6749 §3.3): every scope is one the OP knows and the client may have; OpenID
 * Connect scopes describe a user, so they need an account (`invalid_scope`).
 */
function checkScopes(result: CustomGrantResult, client: ClientRecord, deps: IssueDeps): string[] {
  const scopes = [...new Set(result.scopes)]
  const allowed = (s: string): boolean =>
    deps.settings.scopes.has(s) &&
    (OIDC_SCOPES.has(s) ? result.account === true : client.scopes.includes(s))
  if (!scopes.every(allowed))
    throw new OAuthProblem('invalid_scope', 'a granted scope is not allowed for this client')
  return scopes
}

/**
 * Runs the custom grant `grantType` and issues what its handler decided: an access token, plus
 * for an account an ID token (`openid`) and a refresh token (`offline_access`, for a client
 * registered for `refresh_token`), all under a fresh grant id.
 *
 * @example
 * ```ts
 * const body = await customGrant('urn:example:grant', grant, params, client, deps)
 * return json(body)
 * ```
 */
export async function customGrant(
  grantType: string,
  grant: ResolvedCustomGrant,
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  checkClientMayUse(grant, client)
  const result = checkResult(
    grantType,
    await runHandler(grantType, grant, params, client, deps),
    deps,
  )
  const scopes = checkScopes(result, client, deps)
  const account: OpAccount | undefined =
    result.account === true ? await findAccount(result.sub, deps) : undefined
  const now = nowSeconds(deps)
  const refresh =
    account !== undefined &&
    scopes.includes('offline_access') &&
    client.grantTypes.includes('refresh_token')
  return issueTokens(
    {
      grantId: randomToken(16),
      clientId: client.clientId,
      sub: result.sub,
      scopes,
      authTime: result.authTime ?? now,
    },
    {
      scopes,
      account,
      idTokenAlg: client.idTokenSignedResponseAlg,
      refreshUntil: refresh ? now + deps.settings.ttl.refreshToken : undefined,
    },
    deps,
  )
}

/** A custom grant, checked. */
export interface ResolvedCustomGrant {
  readonly handler: CustomGrantHandler
  readonly publicClients: boolean
}

/**
 * Checks the custom grants: each `grant_type` an absolute URI (RFC 6749 §4.5) that is not a
 * built-in grant, each with a handler function.
 */
export function resolveCustomGrants(
  grants: OpConfig['grants'],
): ReadonlyMap<string, ResolvedCustomGrant> {
  const out = new Map<string, ResolvedCustomGrant>()
  if (grants === undefined) return out
  if (typeof grants !== 'object' || grants === null)
    throw configError('"grants" must be an object of grant type URIs to handlers')
  for (const [name, grant] of Object.entries(grants)) {
    if (!/^[a-z][a-z0-9+.-]*:[\x21-\x7e]+$/i.test(name) || !URL.canParse(name))
      throw configError(`"grants" key "${name}" must be an absolute URI (RFC 6749 §4.5)`)
    if ((BUILTIN_GRANTS as readonly string[]).includes(name))
      throw configError(`"grants" key "${name}" is a built-in grant`)
    const handler = typeof grant === 'function' ? grant : grant?.handler
    if (typeof handler !== 'function')
      throw configError(`"grants['${name}']" must be a function or { handler, publicClients }`)
    const publicClients = typeof grant === 'function' ? false : grant.publicClients === true
    out.set(name, { handler, publicClients })
  }
  return out
}
