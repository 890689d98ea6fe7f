/**
 * The demo's user: what `onLogin` returns and the session keeps. Plain JSON, so a persistent
 * session store can hold it. The provider's tokens are not kept (the demo calls no provider
 * API); the last login's trace is, for the flow inspector.
 *
 * @module
 */
import type { Identity } from '../../src/client/identity.ts'
import type { FlowTrace } from './inspector/trace.ts'

/** A signed-in user of the demo. */
export interface DemoUser {
  readonly provider: string
  readonly issuer: string | null
  readonly subject: string
  readonly name: string | null
  readonly email: string | null
  readonly emailVerified: boolean
  readonly username: string | null
  /** The provider's claims (ID token and userinfo, merged). */
  readonly claims: Readonly<Record<string, unknown>>
  /** The login that made this session, step by step; null if the recorder did not see it. */
  readonly lastLogin: FlowTrace | null
}

/** The user for an identity, with the trace of its login. */
export function toDemoUser(identity: Identity, lastLogin: FlowTrace | undefined): DemoUser {
  return {
    provider: identity.provider,
    issuer: identity.issuer,
    subject: identity.subject,
    name: identity.name,
    email: identity.email,
    emailVerified: identity.emailVerified,
    username: identity.username,
    claims: identity.claims,
    lastLogin: lastLogin ?? null,
  }
}
