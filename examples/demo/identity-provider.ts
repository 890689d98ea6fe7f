/**
 * "Authkestra ID": the embedded OpenID Provider, mounted at `<origin>/oidc` in the demo's own
 * server, with two public clients (PKCE is their only proof at the token endpoint): the demo app
 * and "Notes", a second app in the same server (`/notes`), and one user, alice / wonderland.
 * Both clients registered a `post_logout_redirect_uri` (signing out of Authkestra ID from the
 * app) and a `backchannel_logout_uri` (Authkestra ID tells each app when its session ends:
 * single logout).
 *
 * @module
 */

import { createMfa } from '../../src/mfa/create-mfa.ts'
import { passkeyRpFor } from '../../src/mfa/passkeys.ts'
import { createMemoryCredentialStore } from '../../src/mfa/store/memory.ts'
import type { OpLogger } from '../../src/op/config.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import type { OpStore } from '../../src/op/store/types.ts'

/** The demo user's credentials (printed at start and shown on the home page: not a secret). */
export const DEMO_USER = { username: 'alice', password: 'wonderland' } as const

/** The OP's path in the demo server. */
export const OP_PATH = '/oidc'

/** The demo app's client id at Authkestra ID. */
export const CLIENT_ID = 'demo-app'

/** The second app's client id, its path and its engine's base path. */
export const NOTES = { clientId: 'demo-notes', path: '/notes', basePath: '/notes/auth' } as const

/** A first-party public client whose engine is at `<origin><basePath>`. */
function demoClient(origin: string, clientId: string, clientName: string, basePath: string) {
  return {
    client_id: clientId,
    client_name: clientName,
    redirect_uris: [`${origin}${basePath}/callback/authkestra`],
    post_logout_redirect_uris: [`${origin}${basePath}/logout-callback/authkestra`],
    backchannel_logout_uri: `${origin}${basePath}/backchannel-logout/authkestra`,
    backchannel_logout_session_required: true,
    token_endpoint_auth_method: 'none',
    // First-party app: no consent page.
    skip_consent: true,
  } as const
}

/**
 * Second factors at Authkestra ID: an authenticator app, passkeys (on a host name: browsers take
 * `localhost`, not an IP address, as a passkey's relying party) and recovery codes, kept in memory
 * under the demo's secret. Alice enrolls them on her account page (`/oidc/account`).
 */
function demoMfa(origin: string, secret: string) {
  const passkeys = passkeyRpFor(origin, 'Authkestra ID')
  return createMfa({
    store: createMemoryCredentialStore(),
    secret,
    issuer: 'Authkestra ID',
    ...(passkeys ? { passkeys } : {}),
  })
}

/** Starts Authkestra ID for the demo served at `origin` (e.g. `http://localhost:3000`). */
export function createIdentityProvider(
  origin: string,
  logger: OpLogger,
  secret: string,
  store?: OpStore,
): Promise<Op> {
  return createOp({
    issuer: `${origin}${OP_PATH}`,
    mfa: demoMfa(origin, secret),
    ...(store ? { store } : {}),
    clients: [
      demoClient(origin, CLIENT_ID, 'Authkestra demo', '/auth'),
      demoClient(origin, NOTES.clientId, 'Authkestra Notes', NOTES.basePath),
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
