/**
 * Refresh-token policy per client, checked at start. No IANA name exists for it, so the client
 * metadata is `refresh_token_rotation` and `refresh_token_grace_seconds`, with an OP-wide default
 * (`refreshTokens`):
 *
 * - `rotate` (default): every use consumes the token and issues a successor; presenting a
 *   consumed token again revokes the family (RFC 9700 §4.14.2).
 * - `rotate-with-grace`: as `rotate`, but a consumed token presented again within N seconds
 *   (default 10, at most 60) of its rotation gets a new token pair of the same family instead of
 *   a revocation, so two tabs refreshing at once both succeed; after the window, reuse revokes.
 * - `none`: the refresh token stays valid until the family's absolute expiry (FAPI 2.0
 *   §5.3.2.1); only for clients whose refresh tokens are sender-constrained: confidential
 *   clients (bound to the client's authentication) or `dpop_bound_access_tokens` clients (bound
 *   to the DPoP key, RFC 9449 §5).
 *
 * @module
 */
import { configError, type OpClientConfig, type OpConfig } from './config.ts'
import type { ClientRecord } from './store/types.ts'

/** A refresh-token policy. */
export type RefreshRotation = 'rotate' | 'rotate-with-grace' | 'none'

const ROTATIONS: readonly RefreshRotation[] = ['rotate', 'rotate-with-grace', 'none']
const DEFAULT_GRACE_SECONDS = 10
const MAX_GRACE_SECONDS = 60

/** The OP-wide policy, resolved. */
export interface ResolvedRefreshDefaults {
  readonly rotation: RefreshRotation
  readonly graceSeconds: number
}

function checkRotation(value: unknown, field: string): RefreshRotation | undefined {
  if (value === undefined) return undefined
  if (!ROTATIONS.includes(value as RefreshRotation))
    throw configError(`"${field}" must be one of ${ROTATIONS.join(', ')}`)
  return value as RefreshRotation
}

function checkGrace(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_GRACE_SECONDS)
    throw configError(`"${field}" must be an integer from 1 to ${MAX_GRACE_SECONDS}`)
  return value as number
}

/**
 * Rule: the OP-wide `refreshTokens` has a known `rotation` and a grace of 1 to 60 seconds.
 *
 * @example
 * ```ts
 * resolveRefreshDefaults({ rotation: 'rotate-with-grace', graceSeconds: 5 })
 * ```
 */
export function resolveRefreshDefaults(
  options: OpConfig['refreshTokens'],
): ResolvedRefreshDefaults {
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw configError('"refreshTokens" must be an object')
  return {
    rotation: checkRotation(options?.rotation, 'refreshTokens.rotation') ?? 'rotate',
    graceSeconds:
      checkGrace(options?.graceSeconds, 'refreshTokens.graceSeconds') ?? DEFAULT_GRACE_SECONDS,
  }
}

/**
 * Rule: a client's policy is known; `none` only for a sender-constrained client (confidential,
 * or `dpop_bound_access_tokens`). Set on the client, a `none` that does not qualify is refused;
 * inherited from the OP, it falls back to `rotate` for that client (the caller is told, to log).
 * Answers the record fields (none for plain `rotate`).
 */
export function clientRefreshPolicy(
  config: OpClientConfig,
  record: Pick<ClientRecord, 'tokenEndpointAuthMethod' | 'dpopBoundAccessTokens'>,
  at: string,
  defaults: ResolvedRefreshDefaults,
): {
  fields: Pick<ClientRecord, 'refreshTokenRotation' | 'refreshTokenGraceSeconds'>
  fellBack: boolean
} {
  const own = checkRotation(config.refresh_token_rotation, `${at}.refresh_token_rotation`)
  const grace = checkGrace(config.refresh_token_grace_seconds, `${at}.refresh_token_grace_seconds`)
  let rotation = own ?? defaults.rotation
  if (grace !== undefined && rotation !== 'rotate-with-grace')
    throw configError(`"${at}.refresh_token_grace_seconds" needs "rotate-with-grace"`)
  const constrained =
    record.tokenEndpointAuthMethod !== 'none' || record.dpopBoundAccessTokens === true
  let fellBack = false
  if (rotation === 'none' && !constrained) {
    if (own !== undefined)
      throw configError(
        `"${at}.refresh_token_rotation" can be "none" only for a confidential client or one with dpop_bound_access_tokens`,
      )
    rotation = 'rotate'
    fellBack = true
  }
  if (rotation === 'rotate') return { fields: {}, fellBack }
  if (rotation === 'none') return { fields: { refreshTokenRotation: 'none' }, fellBack }
  return {
    fields: {
      refreshTokenRotation: 'rotate-with-grace',
      refreshTokenGraceSeconds: grace ?? defaults.graceSeconds,
    },
    fellBack,
  }
}
