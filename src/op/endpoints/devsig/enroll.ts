/**
 * `POST {issuer}/devsig/enroll` (docs/devsig.md §Enrolment): the device proves it holds the key
 * (a JWS over the OP's challenge, carrying the public key) and, when the account has an
 * authenticator app, a current TOTP code; the OP answers an attestation of that key, signed with
 * its current signing key (published in its JWKS).
 *
 * Checks, in order:
 * 1. `checkPost`: POST only (405).
 * 2. `authenticate`: an access token of this OP (RFC 6750 §2.1; DPoP-bound: RFC 9449 §7.1).
 * 3. `readForm`: a form body (RFC 6749 §3.2 style) with one `proof` and at most one `otp`.
 * 4. `checkProof`: the proof is well formed, typed, signed by the key in its `jwk`, for this
 *    issuer, fresh (`verifyEnrollmentProof`): else `invalid_request`.
 * 5. `consumeChallenge`: its challenge was issued to this user and client, is alive and was never
 *    used (consumed now, whatever follows): else `invalid_grant`.
 * 6. `checkSecondFactor`: an account with a TOTP factor (or every account, with `'always'`)
 *    sends a valid code (attempt-limited by the mfa module): else `invalid_grant` (429 when
 *    limited).
 *
 * @module
 */
import { randomToken } from '../../../core/random.ts'
import {
  EnrollmentProofRejected,
  type VerifiedEnrollmentProof,
  verifyEnrollmentProof,
} from '../../../dpop/devsig-enrollment.ts'
import { DEVSIG_TYP } from '../../../dpop/devsig-wire.ts'
import type { ResolvedDevsig } from '../../devsig.ts'
import { hashedId } from '../../dpop.ts'
import { invalidRequest, OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { json, oauthError } from '../../http/responses.ts'
import type { AccessTokenClaims } from '../../tokens/jwt.ts'
import { authenticate, challengeId, challengeOwner, checkPost, type DevsigDeps } from './access.ts'

const invalidGrant = (description: string, status = 400) =>
  new OAuthProblem('invalid_grant', description, status)

/** Rule: a form body with exactly one `proof` and at most one `otp` (`invalid_request`). */
async function readForm(request: OpRequest): Promise<{ proof: string; otp: string | undefined }> {
  const params: Params = await readParams(request, ['POST'])
  const proof = params.get('proof')
  if (proof === undefined || proof === '') throw invalidRequest('"proof" is required')
  const otp = params.get('otp')
  return { proof, otp: otp === '' ? undefined : otp }
}

/** Rule: the enrolment proof verifies (shape, `typ`, key, signature, `aud`, `iat`). */
async function checkProof(
  proof: string,
  devsig: ResolvedDevsig,
  deps: DevsigDeps,
): Promise<VerifiedEnrollmentProof> {
  try {
    return await verifyEnrollmentProof(proof, {
      issuer: deps.settings.issuer,
      algorithms: devsig.algorithms,
      maxAgeSeconds: devsig.challengeTtlSeconds,
      clock: deps.clock,
    })
  } catch (err) {
    if (err instanceof EnrollmentProofRejected) throw invalidRequest(err.message)
    throw err
  }
}

/** Rule: the challenge is this user's and client's, alive, and used once (now). */
async function consumeChallenge(challenge: string, claims: AccessTokenClaims, deps: DevsigDeps) {
  const spent = await deps.store.consume('csrf', challengeId(await hashedId(challenge)))
  if (!spent || spent.alreadyConsumed || spent.value.uid !== challengeOwner(claims))
    throw invalidGrant('the challenge is unknown, expired or already used')
}

/**
 * Rule (NIST SP 800-63B §5.1.4.2, §5.2.2): where the account has an authenticator app (or
 * `'always'`), a current TOTP code; its `amr` then records `otp` (RFC 8176 §2).
 */
async function checkSecondFactor(
  otp: string | undefined,
  claims: AccessTokenClaims,
  devsig: ResolvedDevsig,
  deps: DevsigDeps,
): Promise<boolean> {
  const factors = deps.mfa ? await deps.mfa.factors(claims.sub) : undefined
  const hasTotp = (factors?.totp.length ?? 0) > 0
  if (!hasTotp && devsig.secondFactor === 'when-enrolled') return false
  if (!deps.mfa || !hasTotp) throw invalidGrant('this account cannot prove a second factor')
  if (otp === undefined) throw invalidRequest('"otp" is required for this account')
  if (!/^\d{6,8}$/.test(otp)) throw invalidGrant('the code is not right')
  const result = await deps.mfa.verifyTotp(claims.sub, otp)
  if (result.ok) return true
  if (result.reason === 'rate_limited') throw invalidGrant('too many codes tried; wait', 429)
  throw invalidGrant('the code is not right')
}

/** The attestation of the key (docs/devsig.md §Attestation). */
async function attest(
  proven: VerifiedEnrollmentProof,
  claims: AccessTokenClaims,
  otp: boolean,
  devsig: ResolvedDevsig,
  deps: DevsigDeps,
): Promise<string> {
  const { signer } = await deps.keys.signingKey()
  const iat = Math.floor(deps.clock.now() / 1000)
  const amr = [
    ...new Set([
      ...(Array.isArray(claims.amr) ? (claims.amr as string[]) : []),
      ...(otp ? ['otp'] : []),
    ]),
  ]
  return signer.sign(DEVSIG_TYP.attestation, {
    iss: deps.settings.issuer,
    sub: claims.sub,
    aud: claims.client_id,
    client_id: claims.client_id,
    cnf: { jkt: proven.thumbprint },
    ...(amr.length > 0 ? { amr } : {}),
    jti: randomToken(16),
    iat,
    exp: iat + devsig.attestationTtlSeconds,
  })
}

/**
 * Enrols a device key: `{ attestation, token_type, expires_in, jkt }`, `no-store`.
 *
 * @example
 * ```ts
 * const response = await devsigEnrollEndpoint(request, runtime)
 * ```
 */
export async function devsigEnrollEndpoint(
  request: OpRequest,
  deps: DevsigDeps,
): Promise<OpResponse> {
  const devsig = deps.settings.devsig
  if (!devsig) return json({ error: 'not_found' }, 404)
  try {
    checkPost(request)
    const claims = await authenticate(request, deps.settings.urls.devsigEnroll, deps)
    const form = await readForm(request)
    const proven = await checkProof(form.proof, devsig, deps)
    await consumeChallenge(proven.challenge, claims, deps)
    const otp = await checkSecondFactor(form.otp, claims, devsig, deps)
    const attestation = await attest(proven, claims, otp, devsig, deps)
    return json({
      attestation,
      token_type: DEVSIG_TYP.attestation,
      expires_in: devsig.attestationTtlSeconds,
      jkt: proven.thumbprint,
    })
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}
