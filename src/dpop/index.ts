/**
 * `authkestra/dpop`: Demonstrating Proof of Possession (RFC 9449) for both sides. Clients make a
 * key pair and a proof per request; servers (the OP's token endpoint, the `bearer()` guard) check
 * proofs, bind tokens to the key's thumbprint (`cnf.jkt`), keep a replay cache and may hand out
 * nonces. No HTTP in here: the OP, the client and the guards use these pieces. The same key
 * pairs also sign device-bound request signatures ("devsig", docs/devsig.md): the signature,
 * enrolment-proof and verification pieces of the `devsig()` guard and the OP live here too.
 *
 * @example
 * ```ts
 * import { createDpopProof, generateDpopKey } from 'authkestra/dpop'
 * const key = await generateDpopKey()
 * const proof = await createDpopProof(key, { method: 'GET', url: 'https://api.example/orders', accessToken })
 * await fetch('https://api.example/orders', { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } })
 * ```
 * @module
 */

export {
  EnrollmentProofRejected,
  type VerifiedEnrollmentProof,
  verifyEnrollmentProof,
} from './devsig-enrollment.ts'
export { createDevsigSignature, createEnrollmentProof, type DevsigTarget } from './devsig-sign.ts'
export {
  type DevsigErrorCode,
  type DevsigExpectations,
  DevsigRejected,
  type VerifiedDevsigSignature,
  verifyDevsigSignature,
} from './devsig-verify.ts'
export {
  type BodyBytes,
  bodyHash,
  DEVSIG_HEADERS,
  DEVSIG_MAX_LIFETIME_SECONDS,
  DEVSIG_TYP,
  pathOf,
  queryHash,
} from './devsig-wire.ts'
export {
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopKey,
  type ExportedDpopKey,
  exportDpopKey,
  generateDpopKey,
  importDpopKey,
} from './key.ts'
export { jwkThumbprint } from './key-jws.ts'
export { createDpopNonces, type DpopNonces } from './nonce.ts'
export { accessTokenThumbprint, createDpopProof, htuOf, type ProofTarget } from './proof.ts'
export { createMemoryReplayCache, type ReplayCache } from './replay.ts'
export { type DpopSettings, verifyBoundRequest } from './settings.ts'
export {
  type DpopExpectations,
  DpopRejected,
  readDpopHeader,
  type VerifiedDpopProof,
  verifyDpopProof,
} from './verify.ts'
