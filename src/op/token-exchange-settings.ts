/**
 * `createOp({ tokenExchange })` checked (RFC 8693): the policy, and the key sets of the trusted
 * issuers whose JWTs may be exchanged.
 *
 * @module
 */
import { createLocalJWKSet, type JSONWebKeySet } from 'jose'
import type { KeyResolver } from '../core/jwt-types.ts'
import { configError, type OpConfig } from './config.ts'
import type { OpSettings } from './setup.ts'

/** Checks the Token Exchange options and prepares the trusted issuers' key sets. */
export function resolveTokenExchange(
  options: OpConfig['tokenExchange'],
  issuer: string,
): OpSettings['tokenExchange'] {
  if (options?.policy !== undefined && typeof options.policy !== 'function')
    throw configError('"tokenExchange.policy" must be a function')
  const trusted = new Map<string, { keys: KeyResolver; audience: string }>()
  for (const [i, entry] of (options?.trustedIssuers ?? []).entries()) {
    if (typeof entry?.issuer !== 'string' || !URL.canParse(entry.issuer))
      throw configError(`"tokenExchange.trustedIssuers[${i}].issuer" must be a URL`)
    if (entry.issuer === issuer)
      throw configError(`"tokenExchange.trustedIssuers[${i}]" is this OP: its tokens need no entry`)
    if (!Array.isArray(entry.jwks?.keys) || entry.jwks.keys.length === 0)
      throw configError(`"tokenExchange.trustedIssuers[${i}].jwks" must hold public keys`)
    if (entry.jwks.keys.some((k) => 'd' in k))
      throw configError(`"tokenExchange.trustedIssuers[${i}].jwks" holds a private key`)
    trusted.set(entry.issuer, {
      // Typed as core's KeyResolver, so the declarations never name jose's types.
      keys: createLocalJWKSet(entry.jwks as unknown as JSONWebKeySet) as unknown as KeyResolver,
      audience: entry.audience ?? issuer,
    })
  }
  return { policy: options?.policy, trusted }
}
