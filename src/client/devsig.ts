/**
 * Device-bound request signatures on the client (docs/devsig.md): {@link enrollDevice} asks the
 * OP for a challenge, signs it with the device key and gets the attestation of that key;
 * {@link createDevsigSigner} then signs each API request (method, path, query and body hashes,
 * audience) and returns the two headers to send.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { createDevsigSignature, createEnrollmentProof } from '../dpop/devsig-sign.ts'
import { type BodyBytes, DEVSIG_HEADERS } from '../dpop/devsig-wire.ts'
import type { DpopKey } from '../dpop/key.ts'
import { type DpopContext, withDpop } from './dpop.ts'
import { type HttpOptions, httpRequest, parseJsonObject, resolveHttpOptions } from './http.ts'

/** What {@link enrollDevice} needs. */
export interface EnrollDeviceOptions extends HttpOptions {
  /**
   * The OP's discovery document (its `issuer`, `devsig_challenge_endpoint` and
   * `devsig_enrollment_endpoint`), e.g. from `DiscoveryCache`.
   */
  readonly metadata: Readonly<Record<string, unknown>>
  /** An access token of this OP for the user whose device this is. */
  readonly accessToken: string
  /** The DPoP key the access token is bound to, for a DPoP-bound token. */
  readonly dpopKey?: DpopKey
  /** The device key to enrol (from `generateDpopKey`; keep it non-extractable where possible). */
  readonly key: DpopKey
  /** A current TOTP code, when the account has an authenticator app (`amr` then says `otp`). */
  readonly otp?: string
  readonly clock?: Clock
}

/** An enrolled device's attestation. */
export interface DeviceAttestation {
  /** The attestation JWT, for the `Device-Attestation` header. */
  readonly attestation: string
  /** Seconds it lives; enrol again (a new challenge) before it ends. */
  readonly expiresIn: number
}

function endpoint(metadata: Readonly<Record<string, unknown>>, name: string): URL {
  const value = metadata[name]
  if (typeof value !== 'string' || !URL.canParse(value))
    throw new AuthkestraError('config_invalid', `the OP metadata has no "${name}"`)
  return new URL(value)
}

async function post(
  url: URL,
  params: Record<string, string>,
  options: EnrollDeviceOptions,
  what: string,
): Promise<Record<string, unknown>> {
  const http = resolveHttpOptions(options)
  const dpop: DpopContext | undefined = options.dpopKey && {
    key: options.dpopKey,
    nonces: new Map(),
    clock: options.clock ?? systemClock,
  }
  const send = (extra: Record<string, string>) =>
    httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `${dpop ? 'DPoP' : 'Bearer'} ${options.accessToken}`,
          ...extra,
        },
        body: new URLSearchParams(params).toString(),
      },
      http,
      what,
    )
  const response = dpop
    ? await withDpop(dpop, 'POST', url, options.accessToken, send)
    : await send({})
  const body = parseJsonObject(response, what)
  if (response.status !== 200) {
    const error = typeof body.error === 'string' ? body.error : 'unknown'
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined
    throw new AuthkestraError(
      'provider_bad_response',
      `${what} refused: ${error}${description === undefined ? '' : ` (${description})`}`,
      {
        status: response.status,
        oauthError: error,
        ...(description === undefined ? {} : { oauthErrorDescription: description }),
      },
    )
  }
  return body
}

/**
 * Enrols `key` for the user of `accessToken`: challenge, proof, attestation. Throws
 * `provider_bad_response` (with `oauthError`) when the OP refuses, `config_invalid` when the
 * metadata has no devsig endpoints.
 *
 * @example
 * ```ts
 * const key = await generateDpopKey()
 * const { attestation } = await enrollDevice({ metadata, accessToken, key, otp: '123456' })
 * ```
 */
export async function enrollDevice(options: EnrollDeviceOptions): Promise<DeviceAttestation> {
  const { metadata, key } = options
  const issuer = metadata.issuer
  if (typeof issuer !== 'string') throw new AuthkestraError('config_invalid', 'no "issuer"')
  const challengeUrl = endpoint(metadata, 'devsig_challenge_endpoint')
  const enrollUrl = endpoint(metadata, 'devsig_enrollment_endpoint')
  const { challenge } = await post(challengeUrl, {}, options, 'devsig challenge endpoint')
  if (typeof challenge !== 'string')
    throw new AuthkestraError('provider_bad_response', 'devsig challenge answer has no challenge')
  const proof = await createEnrollmentProof(key, { challenge, issuer }, options.clock)
  const params = { proof, ...(options.otp === undefined ? {} : { otp: options.otp }) }
  const answer = await post(enrollUrl, params, options, 'devsig enrollment endpoint')
  const { attestation, expires_in } = answer
  if (typeof attestation !== 'string' || typeof expires_in !== 'number')
    throw new AuthkestraError('provider_bad_response', 'devsig enrollment answer is malformed')
  return { attestation, expiresIn: expires_in }
}

/** One request to sign. */
export interface DevsigRequest {
  readonly method: string
  readonly url: string | URL
  /** The body bytes exactly as they will be sent (a string is UTF-8). */
  readonly body?: BodyBytes | undefined
}

/** Signs requests with an enrolled device key. */
export interface DevsigSigner {
  /** The `Device-Attestation` and `Device-Signature` headers for one request. */
  sign(request: DevsigRequest): Promise<Record<string, string>>
}

/**
 * A signer for requests to the API `audience` with `key` and its `attestation`.
 *
 * @example
 * ```ts
 * const signer = createDevsigSigner({ key, attestation, audience: 'https://api.example' })
 * const body = JSON.stringify({ amount: 10 })
 * const headers = await signer.sign({ method: 'POST', url, body })
 * await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body })
 * ```
 */
export function createDevsigSigner(options: {
  readonly key: DpopKey
  readonly attestation: string
  readonly audience: string
  readonly clock?: Clock
}): DevsigSigner {
  const { key, attestation, audience } = options
  if (typeof attestation !== 'string' || attestation === '')
    throw new AuthkestraError('config_invalid', '"attestation" must be the attestation JWT')
  if (typeof audience !== 'string' || audience === '')
    throw new AuthkestraError('config_invalid', '"audience" must be the API identifier')
  return {
    async sign(request) {
      const signature = await createDevsigSignature(
        key,
        { method: request.method, url: request.url, body: request.body, audience },
        options.clock,
      )
      return { [DEVSIG_HEADERS.attestation]: attestation, [DEVSIG_HEADERS.signature]: signature }
    },
  }
}
