/**
 * The end of a successful authorization: a single-use code (stored under its hash for at most
 * 60 s, bound to the client, redirect URI, PKCE challenge, nonce, scopes, subject, OP session and
 * a new grant id) and the redirect back to the client with `code`, `state` and `iss`.
 *
 * @module
 */
import { randomToken } from '../../../core/random.ts'
import { authContext } from '../../acr.ts'
import type { OpResponse } from '../../http/message.ts'
import type { OpRuntime } from '../../setup.ts'
import type { AuthorizationRequest, CodeRecord } from '../../store/types.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'
import { authorizationResponse } from '../authorize/respond.ts'
import { rememberSessionClient } from './session.ts'

/** Who signed in, when, in which OP session, and how (RFC 8176 `amr`). */
export interface SignedInUser {
  readonly accountId: string
  readonly authTime: number
  readonly sid?: string | undefined
  readonly amr?: readonly string[] | undefined
}

/** Issues the code and redirects to the client. */
export async function issueCode(
  request: AuthorizationRequest,
  user: SignedInUser,
  deps: Pick<OpRuntime, 'settings' | 'store'>,
  headers: Readonly<Record<string, string>> = {},
): Promise<OpResponse> {
  const { accountId: sub, authTime, sid } = user
  const code = newSecret()
  const grantId = randomToken(16)
  const record: CodeRecord = {
    grantId,
    clientId: request.clientId,
    sub,
    scopes: request.scopes,
    authTime,
    ...(sid === undefined ? {} : { sid }),
    ...authContext(user.amr, request.acrValues),
    redirectUri: request.redirectUri,
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
    ...(request.codeChallenge === undefined ? {} : { codeChallenge: request.codeChallenge }),
    ...(request.codeChallengeMethod === undefined
      ? {}
      : { codeChallengeMethod: request.codeChallengeMethod }),
    ...(request.dpopJkt === undefined ? {} : { dpopJkt: request.dpopJkt }),
    ...(request.resources === undefined ? {} : { resources: request.resources }),
  }
  if (sid !== undefined) await rememberSessionClient(sid, request.clientId, sub, deps)
  await deps.store.set('code', await secretId(code), record, {
    ttlSeconds: deps.settings.ttl.code,
    family: grantId,
  })
  return authorizationResponse(
    request.redirectUri,
    { code },
    request.state,
    deps.settings.issuer,
    headers,
  )
}
