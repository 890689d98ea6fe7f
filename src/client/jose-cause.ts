/**
 * jose errors carry the decoded payload (`err.payload`) of the token they refused; kept as an
 * error's `cause`, a logged error would print a flow state's verifier or an ID token's claims.
 * This keeps only the name, code and message (which jose writes without values).
 *
 * @module
 */

/** A payload-free copy of a jose error, fit to be a `cause`. */
export function joseCause(err: unknown): Error {
  if (!(err instanceof Error)) return new Error('unknown error')
  const copy = new Error(err.message)
  copy.name = err.name
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') Object.assign(copy, { code })
  return copy
}
