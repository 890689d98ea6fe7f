/**
 * What the token grants share: the token response, issuing the access/ID/refresh tokens of a
 * grant, looking up the grant's account, and revoking a whole grant when a code or refresh token
 * is replayed.
 *
 * @module
 */
import { isScopeToken } from '../../clients.ts'
import type { OpAccount } from '../../config.ts'
import type { SenderBinding } from '../../dpop.ts'
import { OAuthProblem } from '../../errors.ts'
import { type ResolvedResource, scopesForResource } from '../../resources.ts'
import type { OpRuntime } from '../../setup.ts'
import type { SigningAlg } from '../../signing-algs.ts'
import type { GrantBinding } from '../../store/types.ts'
import { claimsForScopes } from '../../tokens/claims.ts'
import {
  type IssuedAccessToken,
  issueAccessToken,
  issueIdToken,
  type SignDeps,
} from '../../tokens/jwt.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'

/** What issuing tokens needs; `sender` when the request proved a DPoP key (RFC 9449 §5). */
export type IssueDeps = Pick<
  OpRuntime,
  'settings' | 'store' | 'keys' | 'accounts' | 'clock' | 'logger'
> & { readonly sender?: SenderBinding | undefined }

/** A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface TokenResponseBody {
  readonly access_token: string
  /** `DPoP` for an access token bound to the request's DPoP key (RFC 9449 §5). */
  readonly token_type: 'Bearer' | 'DPoP'
  readonly expires_in: number
  readonly scope: string
  readonly id_token?: string
  readonly refresh_token?: string
  /** RFC 8693 §2.2.1: what a token exchange issued. */
  readonly issued_token_type?: string
}

/** The current time in seconds since the epoch. */
export const nowSeconds = (deps: Pick<OpRuntime, 'clock'>): number =>
  Math.floor(deps.clock.now() / 1000)

/** The revocation-record id marking a refresh token (by its hash) as rotated. */
export const rotatedMarker = (id: string): string => `refresh:${id}`

/** `invalid_grant` with a description that never carries the presented value. */
export const invalidGrant = (description: string): OAuthProblem =>
  new OAuthProblem('invalid_grant', description)

/**
 * The scopes of a `scope` parameter (RFC 6749 §3.3): space-separated scope tokens, duplicates
 * dropped; `invalid_scope` when one is not a scope token. Undefined when the parameter is absent.
 */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const scopes = value.split(' ').filter((s) => s !== '')
  if (scopes.length === 0 || !scopes.every(isScopeToken))
    throw new OAuthProblem('invalid_scope', '"scope" is malformed')
  return [...new Set(scopes)]
}

/** The signing capabilities of the runtime. */
export function signDeps(deps: Pick<OpRuntime, 'settings' | 'keys' | 'clock'>): SignDeps {
  return { keys: deps.keys, issuer: deps.settings.issuer, clock: deps.clock }
}

/**
 * Revokes everything a grant issued: its code and refresh tokens (the store family) and, through
 * a `grant:<id>` revocation record kept as long as an access token can live, its access tokens.
 * The record is written first: a concurrent exchange that stores a refresh token after the family
 * was deleted then sees it (see `checkNotRevoked`) and deletes the family again.
 *
 * @example
 * ```ts
 * await revokeGrant(record.grantId, 'code replay', deps)
 * ```
 */
export async function revokeGrant(
  grantId: string,
  reason: string,
  deps: Pick<OpRuntime, 'settings' | 'store'>,
): Promise<void> {
  await deps.store.set(
    'revocation',
    `grant:${grantId}`,
    { reason },
    { ttlSeconds: deps.settings.ttl.accessToken },
  )
  await deps.store.revokeFamily(grantId)
}

/**
 * The account a user grant was issued for; `invalid_grant` when it no longer exists, so a deleted
 * user's codes and refresh tokens stop yielding tokens.
 */
export async function findAccount(
  sub: string,
  deps: Pick<OpRuntime, 'accounts'>,
): Promise<OpAccount> {
  const account = await deps.accounts.find(sub)
  if (!account) throw invalidGrant('the account of this grant no longer exists')
  return account
}

/**
 * The access token of a grant, bound to the request's DPoP key when it proved one (RFC 9449
 * §6.1: `cnf.jkt`, `token_type: DPoP`), else a bearer token.
 *
 * @example
 * ```ts
 * const { access, tokenType } = await grantAccessToken(grant, deps.settings.audience, deps)
 * ```
 */
export async function grantAccessToken(
  grant: Parameters<typeof issueAccessToken>[0],
  audience: string | readonly string[],
  deps: IssueDeps,
  extra: Readonly<Record<string, unknown>> = {},
  ttlSeconds: number = deps.settings.ttl.accessToken,
): Promise<{ access: IssuedAccessToken; tokenType: 'Bearer' | 'DPoP' }> {
  const cnf = deps.sender ? { cnf: { jkt: deps.sender.jkt } } : {}
  const access = await issueAccessToken(grant, audience, ttlSeconds, signDeps(deps), {
    ...extra,
    ...cnf,
  })
  return { access, tokenType: deps.sender ? 'DPoP' : 'Bearer' }
}

/** What {@link issueTokens} issues beyond the access token. */
export interface IssueOptions {
  /** Scopes of the access (and ID) token; may be narrower than the grant's. */
  readonly scopes: readonly string[]
  /** Present for user grants: an ID token is issued when `scopes` has `openid`. */
  readonly account?: OpAccount | undefined
  readonly nonce?: string | undefined
  /** Issue a refresh token in the grant's family, valid until this time (seconds). */
  readonly refreshUntil?: number | undefined
  /** The client's `id_token_signed_response_alg` (default: the OP's default algorithm). */
  readonly idTokenAlg?: SigningAlg | undefined
  /**
   * RFC 8707: the resource the access token is for (see `target.ts`): its `aud`, only the
   * scopes it accepts, its lifetime. Absent: the OP's own audience.
   */
  readonly target?: ResolvedResource | undefined
}

/**
 * The audience, scopes and lifetime of an access token for `target` (RFC 8707 §2.2), or for the
 * OP itself.
 *
 * @example
 * ```ts
 * const { audience, scopes, ttl } = accessTokenShape(['read'], target, deps.settings)
 * ```
 */
export function accessTokenShape(
  scopes: readonly string[],
  target: ResolvedResource | undefined,
  settings: Pick<OpRuntime['settings'], 'audience' | 'ttl'>,
): { audience: string; scopes: readonly string[]; ttl: number } {
  if (target === undefined)
    return { audience: settings.audience, scopes, ttl: settings.ttl.accessToken }
  return {
    audience: target.resource,
    scopes: scopesForResource(scopes, target),
    ttl: target.accessTokenTtl,
  }
}

/**
 * Issues an access token for `grant`, an ID token (`openid` with an account) and a refresh token
 * (`refreshUntil`), and returns the token response. The refresh token keeps the grant's own
 * scopes (RFC 6749 §6) and is stored only as its hash.
 *
 * @example
 * ```ts
 * return issueTokens(code, { scopes: code.scopes, account, nonce: code.nonce }, deps)
 * ```
 */
export async function issueTokens(
  grant: GrantBinding,
  options: IssueOptions,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  const sign = signDeps(deps)
  const { ttl } = deps.settings
  const shape = accessTokenShape(options.scopes, options.target, deps.settings)
  const { access, tokenType } = await grantAccessToken(
    { ...grant, scopes: shape.scopes },
    shape.audience,
    deps,
    {},
    shape.ttl,
  )
  const body: TokenResponseBody = {
    access_token: access.token,
    token_type: tokenType,
    expires_in: access.expiresIn,
    scope: shape.scopes.join(' '),
  }
  const account = options.account
  const idToken =
    account && options.scopes.includes('openid')
      ? await issueIdToken(
          grant,
          {
            nonce: options.nonce,
            accessToken: access.token,
            claims: claimsForScopes(account.claims, options.scopes),
            alg: options.idTokenAlg,
          },
          ttl.idToken,
          sign,
        )
      : undefined
  const refreshToken =
    options.refreshUntil === undefined
      ? undefined
      : await storeRefreshToken(grant, options.refreshUntil, deps)
  await checkNotRevoked(grant.grantId, deps)
  return {
    ...body,
    ...(idToken === undefined ? {} : { id_token: idToken }),
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
  }
}

/**
 * Rule: if the grant was revoked while this request ran (a concurrent replay of the code or
 * refresh token), nothing is handed out: the family is deleted again, since a refresh token
 * stored after the first deletion would otherwise survive, and the answer is `invalid_grant`.
 */
async function checkNotRevoked(grantId: string, deps: IssueDeps): Promise<void> {
  if (!(await deps.store.get('revocation', `grant:${grantId}`))) return
  await deps.store.revokeFamily(grantId)
  throw invalidGrant('the grant was revoked')
}

/**
 * A new refresh token of the grant's family, living until the family's absolute expiry. A public
 * client's is bound to the DPoP key of the request (RFC 9449 §5); a confidential client's is
 * already bound to the client by its authentication.
 */
async function storeRefreshToken(
  grant: GrantBinding,
  familyExpiresAt: number,
  deps: IssueDeps,
): Promise<string> {
  const token = newSecret()
  const { grantId, clientId, sub, scopes, authTime, sid, amr, acr, resources } = grant
  await deps.store.set(
    'refresh',
    await secretId(token),
    {
      grantId,
      clientId,
      sub,
      scopes,
      authTime,
      familyExpiresAt,
      ...(sid === undefined ? {} : { sid }),
      ...(amr === undefined ? {} : { amr }),
      ...(acr === undefined ? {} : { acr }),
      ...(resources === undefined ? {} : { resources }),
      ...(deps.sender?.bindsRefreshTokens ? { jkt: deps.sender.jkt } : {}),
    },
    { ttlSeconds: Math.max(1, familyExpiresAt - nowSeconds(deps)), family: grantId },
  )
  return token
}
