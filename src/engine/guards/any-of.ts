/**
 * `anyOf`: several ways in to one route (a bearer token or an API key, say). Guards run in order
 * and the first principal wins. When all refuse, the answer is the refusal of the first guard
 * that was shown a credential (a bad token is reported as a bad token, not drowned in
 * challenges); when none was, one 401 carrying every guard's challenge (RFC 9110 §11.6.1).
 *
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'
import { deny, isNoCredentials } from './challenge.ts'
import type { Guard, GuardResult, PrincipalOf } from './types.ts'

/** The combined refusal: every distinct challenge, in guard order. */
function noCredentials(refusals: readonly Response[]): GuardResult<never> {
  const result = deny('none', 401, undefined, 'unauthorized', 'credentials are required')
  if (!result.ok) {
    const seen = new Set<string>()
    for (const refusal of refusals) {
      const value = refusal.headers.get('www-authenticate')
      if (value === null || seen.has(value)) continue
      seen.add(value)
      result.response.headers.append('www-authenticate', value)
    }
  }
  return result
}

/**
 * A guard that accepts what any of `guards` accepts; its principal is the union of theirs.
 * Guards run one after the other (a later one runs only if the earlier refused). Throws
 * `config_invalid` when given no guard.
 *
 * @example
 * ```ts
 * const machineOrUser = anyOf(
 *   bearer({ issuer: 'https://id.example', audience: 'https://api.example' }),
 *   apiKey({ verify: apiKeyHashes(keyHashes) }),
 * )
 * const result = await machineOrUser(request) // principal: BearerPrincipal | ApiKeyMatch
 * if (!result.ok) return result.response
 * ```
 */
export function anyOf<Guards extends readonly [Guard<unknown>, ...Guard<unknown>[]]>(
  ...guards: Guards
): Guard<PrincipalOf<Guards[number]>> {
  if (guards.length === 0 || !guards.every((g) => typeof g === 'function')) {
    throw new AuthkestraError('config_invalid', 'anyOf needs at least one guard')
  }
  return async (request) => {
    const refusals: Response[] = []
    for (const guard of guards) {
      const result = await guard(request)
      if (result.ok) return result as GuardResult<PrincipalOf<Guards[number]>>
      refusals.push(result.response)
    }
    const presented = refusals.find((response) => !isNoCredentials(response))
    return presented ? { ok: false, response: presented } : noCredentials(refusals)
  }
}
