/**
 * The PKCE proof, recomputed when the inspector is shown: `BASE64URL(SHA256(code_verifier))` of
 * the verifier sent in step 3 must equal the `code_challenge` of step 1.
 *
 * @module
 */
import { Pkce } from '../../../src/core/pkce.ts'
import type { FlowTrace } from './trace.ts'

/** The values of the check and its outcome. */
export interface PkceCheck {
  /** `code_challenge` of the authorization request (step 1). */
  readonly challenge: string | null
  /** `code_challenge_method` of the authorization request (step 1). */
  readonly method: string | null
  /** `code_verifier` of the token request (step 3). */
  readonly verifier: string | null
  /** `BASE64URL(SHA256(verifier))`, computed now; null when there is no (valid) verifier. */
  readonly computed: string | null
  /** The computed challenge equals the sent one, with method S256. */
  readonly match: boolean
}

/** Recomputes the challenge from the recorded verifier and compares. */
export async function checkPkce(trace: FlowTrace): Promise<PkceCheck> {
  const query = trace.authorization ? new URL(trace.authorization.url).searchParams : undefined
  const challenge = query?.get('code_challenge') ?? null
  const method = query?.get('code_challenge_method') ?? null
  const verifier = trace.token?.params.find(([name]) => name === 'code_verifier')?.[1] ?? null
  let computed: string | null = null
  if (verifier !== null) {
    try {
      computed = await Pkce.challenge(verifier)
    } catch {
      computed = null
    }
  }
  const match = method === 'S256' && computed !== null && computed === challenge
  return { challenge, method, verifier, computed, match }
}
