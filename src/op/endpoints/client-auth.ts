/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
 * HTTP Basic (`client_secret_basic`), credentials in the form body (`client_secret_post`), or a
 * bare `client_id` for public clients (`none`), or a JWT signed with the client's private key
 * (`private_key_jwt`, RFC 7523 §2.2, checked in `client-assertion.ts`). The method used must be
 * the client's registered one; every failure is the same `invalid_client`, so a caller cannot tell an unknown client from
 * a wrong secret or a wrong method.
 *
 * @module
 */
import { invalidRequest, OAuthProblem } from '../errors.ts'
import type { OpRequest } from '../http/message.ts'
import type { Params } from '../http/params.ts'
import type { OpRuntime } from '../setup.ts'
import type { ClientRecord } from '../store/types.ts'
import { matchesHash, secretId } from '../tokens/secrets.ts'
import { AssertionRefused, presentsAssertion, verifyClientAssertion } from './client-assertion.ts'

/** What client authentication reads. */
export type ClientAuthDeps = Pick<
  OpRuntime,
  'settings' | 'store' | 'clock' | 'logger' | 'clientKeys'
>

/** The credentials a request presented, before they are checked. */
interface Presented {
  readonly method: ClientRecord['tokenEndpointAuthMethod']
  readonly clientId: string
  readonly secret?: string
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Compared against when the client is unknown, so both paths hash the presented secret. */
const dummyHash = secretId('authkestra-no-such-client')

/** The one answer to every failed authentication; Basic callers get a challenge (§5.2). */
function clientFailure(deps: ClientAuthDeps, triedBasic: boolean): OAuthProblem {
  return new OAuthProblem(
    'invalid_client',
    'client authentication failed',
    401,
    triedBasic ? { 'www-authenticate': `Basic realm="${deps.settings.issuer}"` } : {},
  )
}

/** One half of a Basic pair: form-urlencoded before base64 (§2.3.1), so `+` is a space. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/**
 * Rule: a `Basic` Authorization header carries base64(urlencode(id) ":" urlencode(secret)).
 * Anything that does not decode to a non-empty id and a secret is `invalid_client`. Other
 * schemes are not client authentication and are ignored here.
 */
function readBasic(request: OpRequest, deps: ClientAuthDeps): Presented | undefined {
  const header = request.headers.get('authorization')
  if (header === null || !/^basic(?:\s|$)/i.test(header)) return undefined
  const encoded = header.slice(5).trim()
  if (encoded === '' || !BASE64.test(encoded)) throw clientFailure(deps, true)
  let decoded: string
  try {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0))
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw clientFailure(deps, true)
  }
  const colon = decoded.indexOf(':')
  if (colon <= 0) throw clientFailure(deps, true)
  const clientId = formDecode(decoded.slice(0, colon))
  const secret = formDecode(decoded.slice(colon + 1))
  if (!clientId || secret === undefined) throw clientFailure(deps, true)
  return { method: 'client_secret_basic', clientId, secret }
}

/**
 * Rule: a client uses exactly one method (§2.3). Basic plus a body secret is `invalid_request`;
 * a body `client_id` next to Basic is tolerated only when it names the same client.
 */
function choosePresented(basic: Presented | undefined, params: Params): Presented | undefined {
  const bodyId = params.get('client_id')
  const bodySecret = params.get('client_secret')
  if (basic) {
    if (bodySecret !== undefined)
      throw invalidRequest('only one client authentication method may be used')
    if (bodyId !== undefined && bodyId !== basic.clientId)
      throw invalidRequest('"client_id" does not match the Authorization header')
    return basic
  }
  if (bodySecret !== undefined) {
    if (bodyId === undefined) throw invalidRequest('"client_id" is required with "client_secret"')
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret }
  }
  return bodyId === undefined ? undefined : { method: 'none', clientId: bodyId }
}

/**
 * Rule: the client exists, the method is its registered `token_endpoint_auth_method`, and for
 * secret methods the secret matches its stored hash in constant time. The secret is hashed even
 * for an unknown client, so timing does not reveal which clients exist.
 */
async function checkCredentials(
  presented: Presented,
  deps: ClientAuthDeps,
): Promise<ClientRecord | undefined> {
  const client = await deps.store.get('client', presented.clientId)
  if (presented.secret === undefined) {
    return client?.tokenEndpointAuthMethod === 'none' ? client : undefined
  }
  const secretOk = await matchesHash(presented.secret, client?.secretHash ?? (await dummyHash))
  const methodOk = client?.tokenEndpointAuthMethod === presented.method
  return secretOk && methodOk && client?.secretHash !== undefined ? client : undefined
}

/**
 * Rule (RFC 7523 §3.1): a refused assertion is `invalid_client`, the same answer whatever the
 * reason; the reason goes to the log (never the assertion).
 */
async function assertedClient(
  request: OpRequest,
  params: Params,
  deps: ClientAuthDeps,
): Promise<ClientRecord> {
  try {
    return await verifyClientAssertion(request, params, deps)
  } catch (err) {
    if (!(err instanceof AssertionRefused)) throw err
    deps.logger.warn(`client assertion refused: ${err.message}`)
    throw clientFailure(deps, false)
  }
}

/**
 * Authenticates the client of a token, revocation, introspection or device authorization
 * request.
 *
 * Throws an {@link OAuthProblem}: `invalid_client` (401, with `WWW-Authenticate: Basic` when
 * the client tried Basic) for missing or wrong credentials, `invalid_request` (400) for two
 * methods at once or a body `client_id` that contradicts the header.
 *
 * @example
 * ```ts
 * const params = await readParams(request, ['POST'])
 * const client = await authenticateClient(request, params, { settings, store })
 * ```
 */
export async function authenticateClient(
  request: OpRequest,
  params: Params,
  deps: ClientAuthDeps,
): Promise<ClientRecord> {
  if (presentsAssertion(params)) return assertedClient(request, params, deps)
  const basic = readBasic(request, deps)
  const presented = choosePresented(basic, params)
  if (!presented) throw clientFailure(deps, false)
  const client = await checkCredentials(presented, deps)
  if (!client) throw clientFailure(deps, basic !== undefined)
  return client
}
