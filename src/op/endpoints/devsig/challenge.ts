/**
 * `POST {issuer}/devsig/challenge` (docs/devsig.md §Enrolment): a one-time random challenge for
 * the user and client of the access token, for the device to sign at the enrolment endpoint.
 * Stored under its hash only, with a short lifetime, as a one-time record (consumed once).
 *
 * Checks, in order:
 * 1. `checkPost`: POST only (405).
 * 2. `authenticate`: an access token of this OP (RFC 6750 §2.1; DPoP-bound: RFC 9449 §7.1).
 *
 * @module
 */
import { randomToken } from '../../../core/random.ts'
import { hashedId } from '../../dpop.ts'
import { OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { json, oauthError } from '../../http/responses.ts'
import { authenticate, challengeId, challengeOwner, checkPost, type DevsigDeps } from './access.ts'

/**
 * Issues a challenge: `{ challenge, expires_in }`, `Cache-Control: no-store`.
 *
 * @example
 * ```ts
 * const response = await devsigChallengeEndpoint(request, runtime)
 * ```
 */
export async function devsigChallengeEndpoint(
  request: OpRequest,
  deps: DevsigDeps,
): Promise<OpResponse> {
  const devsig = deps.settings.devsig
  if (!devsig) return json({ error: 'not_found' }, 404)
  try {
    checkPost(request)
    const claims = await authenticate(request, deps.settings.urls.devsigChallenge, deps)
    const challenge = randomToken(32)
    const ttlSeconds = devsig.challengeTtlSeconds
    await deps.store.set(
      'csrf',
      challengeId(await hashedId(challenge)),
      { uid: challengeOwner(claims) },
      { ttlSeconds },
    )
    return json({ challenge, expires_in: ttlSeconds })
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}
