/**
 * Making the device's JWSs (docs/devsig.md): the request signature (`typ: devsig+jwt`) over one
 * request's method, path, query hash, body hash and audience, and the enrolment proof
 * (`typ: devsig-enroll+jwt`) over the OP's challenge. Both carry the device's public key in
 * `jwk`, like a DPoP proof (RFC 9449 §4.2), and are signed with a key of `generateDpopKey`.
 *
 * @module
 */
import { SignJWT } from 'jose'
import { type Clock, systemClock } from '../core/clock.ts'
import { randomToken } from '../core/random.ts'
import {
  type BodyBytes,
  bodyHash,
  DEVSIG_MAX_LIFETIME_SECONDS,
  DEVSIG_TYP,
  pathOf,
  queryHash,
} from './devsig-wire.ts'
import type { DpopKey } from './key.ts'

/** What one request signature is for. */
export interface DevsigTarget {
  /** The HTTP method (`GET`, `POST`, …). */
  readonly method: string
  /** The absolute URL the request goes to: its path becomes `htp`, its query `hqh`. */
  readonly url: string | URL
  /** The body bytes exactly as sent (a string is UTF-8); none for a request without a body. */
  readonly body?: BodyBytes | undefined
  /** The API the request is for (`aud`): what its `devsig()` guard names as `audience`. */
  readonly audience: string
  /** Seconds the signature lives, 1 to 60 (default 60). */
  readonly lifetimeSeconds?: number
}

const sign = (key: DpopKey, typ: string, claims: Record<string, unknown>, iat: number) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ, jwk: { ...key.publicJwk } })
    .setJti(randomToken(16))
    .setIssuedAt(iat)
    .sign(key.privateKey)

/**
 * The request signature of one request, for the `Device-Signature` header.
 *
 * @example
 * ```ts
 * const signature = await createDevsigSignature(key, {
 *   method: 'POST', url: 'https://api.example/transfers', body, audience: 'https://api.example',
 * })
 * ```
 */
export async function createDevsigSignature(
  key: DpopKey,
  target: DevsigTarget,
  clock: Clock = systemClock,
): Promise<string> {
  const lifetime = target.lifetimeSeconds ?? DEVSIG_MAX_LIFETIME_SECONDS
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > DEVSIG_MAX_LIFETIME_SECONDS)
    throw new RangeError(`"lifetimeSeconds" must be an integer from 1 to 60`)
  const iat = Math.floor(clock.now() / 1000)
  return sign(
    key,
    DEVSIG_TYP.signature,
    {
      htm: target.method.toUpperCase(),
      htp: pathOf(target.url),
      hqh: await queryHash(target.url),
      hbh: await bodyHash(target.body),
      aud: target.audience,
      exp: iat + lifetime,
    },
    iat,
  )
}

/**
 * The enrolment proof over the OP's `challenge`, for `POST {issuer}/devsig/enroll`.
 *
 * @example
 * ```ts
 * const proof = await createEnrollmentProof(key, { challenge, issuer: 'https://id.example' })
 * ```
 */
export function createEnrollmentProof(
  key: DpopKey,
  target: { readonly challenge: string; readonly issuer: string },
  clock: Clock = systemClock,
): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  return sign(key, DEVSIG_TYP.enrollment, { challenge: target.challenge, aud: target.issuer }, iat)
}
