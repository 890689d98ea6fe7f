/**
 * The OP's signing algorithms (RFC 7518 §3): which ones it holds a key for, which one signs by
 * default, and a client's `id_token_signed_response_alg` (OIDC Registration 1.0 §2), all checked
 * at start with messages that name the field.
 *
 * @module
 */
import { configError, type OpConfig } from './config.ts'

/**
 * The algorithms the OP can sign with (one current key each).
 *
 * @example
 * ```ts
 * const op = await createOp({ issuer, signingAlgs: [...SIGNING_ALGS] }) // all four
 * ```
 */
export const SIGNING_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const

/** A signing algorithm of the OP. */
export type SigningAlg = (typeof SIGNING_ALGS)[number]

/**
 * The default set: ES256 signs unless a client asks otherwise, and RS256 is available because
 * OIDC Discovery 1.0 §3 says `id_token_signing_alg_values_supported` MUST include it.
 */
export const DEFAULT_SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256']

/** The OP's algorithms, resolved: `all[0]` is the default. */
export interface ResolvedSigningAlgs {
  /** Signs access tokens, and ID and logout tokens of clients without a preference. */
  readonly default: SigningAlg
  /** Every algorithm the OP holds a key for, the default first, no duplicates. */
  readonly all: readonly SigningAlg[]
}

const isSigningAlg = (value: unknown): value is SigningAlg =>
  (SIGNING_ALGS as readonly unknown[]).includes(value)

/**
 * Rule: `signingAlgs` is a non-empty list of known algorithms without duplicates, the first the
 * default. `signingAlg` (deprecated) means exactly one algorithm, as before; both at once is a
 * mistake.
 *
 * @example
 * ```ts
 * resolveSigningAlgs({ signingAlgs: ['ES256', 'RS256', 'PS256'] }) // default ES256
 * ```
 */
export function resolveSigningAlgs(
  config: Pick<OpConfig, 'signingAlg' | 'signingAlgs'>,
): ResolvedSigningAlgs {
  const { signingAlg, signingAlgs } = config
  if (signingAlg !== undefined && signingAlgs !== undefined)
    throw configError('"signingAlg" and "signingAlgs" cannot both be set (use "signingAlgs")')
  if (signingAlg !== undefined) {
    if (!isSigningAlg(signingAlg))
      throw configError(`"signingAlg" must be one of ${SIGNING_ALGS.join(', ')}`)
    return { default: signingAlg, all: [signingAlg] }
  }
  const all = signingAlgs ?? DEFAULT_SIGNING_ALGS
  if (!Array.isArray(all) || all.length === 0)
    throw configError('"signingAlgs" must be a non-empty array')
  for (const [i, alg] of all.entries()) {
    if (!isSigningAlg(alg))
      throw configError(`"signingAlgs[${i}]" must be one of ${SIGNING_ALGS.join(', ')}`)
    if (all.indexOf(alg) !== i) throw configError(`"signingAlgs[${i}]" is a duplicate`)
  }
  return { default: all[0] as SigningAlg, all: [...all] }
}

/**
 * Rule (OIDC Registration 1.0 §2): a client's `id_token_signed_response_alg` is one the OP holds
 * a key for; `none` and symmetric algorithms are never accepted. Undefined when not set (the
 * OP's default then signs).
 */
export function checkIdTokenAlg(
  value: unknown,
  at: string,
  algs: ResolvedSigningAlgs,
): SigningAlg | undefined {
  if (value === undefined) return undefined
  if (!isSigningAlg(value) || !algs.all.includes(value))
    throw configError(
      `"${at}.id_token_signed_response_alg" must be one of the OP's "signingAlgs": ${algs.all.join(', ')}`,
    )
  return value
}
