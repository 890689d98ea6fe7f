/**
 * "Authkestra ID": the embedded OpenID Provider, mounted at `<origin>/oidc` in the demo's own
 * server, with the demo app as a public client (PKCE is its only proof at the token endpoint)
 * and one user, alice / wonderland.
 *
 * @module
 */

import type { OpLogger } from '../../src/op/config.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import type { OpStore } from '../../src/op/store/types.ts'

/** The demo user's credentials (printed at start and shown on the home page: not a secret). */
export const DEMO_USER = { username: 'alice', password: 'wonderland' } as const

/** The OP's path in the demo server. */
export const OP_PATH = '/oidc'

/** The demo app's client id at Authkestra ID. */
export const CLIENT_ID = 'demo-app'

/** Starts Authkestra ID for the demo served at `origin` (e.g. `http://localhost:3000`). */
export function createIdentityProvider(
  origin: string,
  logger: OpLogger,
  store?: OpStore,
): Promise<Op> {
  return createOp({
    issuer: `${origin}${OP_PATH}`,
    ...(store ? { store } : {}),
    clients: [
      {
        client_id: CLIENT_ID,
        client_name: 'Authkestra demo',
        redirect_uris: [`${origin}/auth/callback/authkestra`],
        token_endpoint_auth_method: 'none',
        // First-party app: no consent page.
        skip_consent: true,
      },
    ],
    accounts: [
      {
        username: DEMO_USER.username,
        password: DEMO_USER.password,
        claims: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
      },
    ],
    logger,
  })
}
