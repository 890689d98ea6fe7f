/**
 * The verified primary email of providers that list a user's addresses at a second endpoint
 * (GitHub's `/user/emails`, Bitbucket's `/2.0/user/emails`), each address with a primary and a
 * verified flag.
 *
 * @module
 */
import type { Claims } from '../client/identity.ts'
import type { AuthorizedGet } from '../client/provider-config.ts'
import { AuthkestraError } from '../core/errors.ts'

/** Where a provider's email list keeps its addresses and flags. */
export interface EmailListShape {
  /** The addresses of the response (the response itself, or a page's `values`). */
  readonly entries: (response: unknown) => unknown
  /** The member that is `true` for the primary address. */
  readonly primary: string
  /** The member that is `true` once the provider verified the address. */
  readonly verified: string
}

/**
 * Adds `email` / `email_verified: true` from the primary address when it is verified, else
 * `email_verified: false` (and keeps any email the profile had, unverified). A 403/404 (the
 * email scope not granted) counts as no verified address; other failures fail the login.
 */
export async function withVerifiedPrimaryEmail(
  claims: Claims,
  get: AuthorizedGet,
  url: string,
  shape: EmailListShape,
): Promise<Claims> {
  let response: unknown
  try {
    response = await get(url)
  } catch (err) {
    if (err instanceof AuthkestraError && (err.status === 403 || err.status === 404)) {
      return { ...claims, email_verified: false }
    }
    throw err
  }
  const entries = shape.entries(response)
  const list = Array.isArray(entries) ? (entries as Record<string, unknown>[]) : []
  const primary = list.find(
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      e[shape.primary] === true &&
      e[shape.verified] === true &&
      typeof e.email === 'string',
  )
  if (primary) return { ...claims, email: primary.email, email_verified: true }
  return { ...claims, email_verified: false }
}
