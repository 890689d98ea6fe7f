/**
 * The demo's providers: Authkestra ID always; GitHub and Google when their credentials are in the
 * environment (each needs both its client id and secret).
 *
 * @module
 */
import type { ProviderConfig } from '../../src/client/provider-config.ts'
import { github } from '../../src/providers/github.ts'
import { google } from '../../src/providers/google.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { CLIENT_ID, OP_PATH } from './identity-provider.ts'

/** The environment variables the demo reads. */
export type DemoEnv = Readonly<Record<string, string | undefined>>

/** Providers for the demo at `origin`, and notes about half-set credentials. */
export function demoProviders(
  origin: string,
  env: DemoEnv,
): { providers: ProviderConfig[]; notes: string[] } {
  const providers: ProviderConfig[] = [
    oidc({
      id: 'authkestra',
      name: 'Authkestra ID',
      issuer: `${origin}${OP_PATH}`,
      clientId: CLIENT_ID,
      redirectUri: `${origin}/auth/callback/authkestra`,
      // "Sign out of Authkestra ID too", and its single logout reaching this app.
      postLogoutRedirectUri: `${origin}/auth/logout-callback/authkestra`,
      backchannelLogout: true,
      // The flow inspector teaches PKCE from the authorization URL, so this app sends its
      // parameters there; a real app leaves PAR on (RFC 9126: nothing readable in the URL).
      par: false,
    }),
  ]
  const notes: string[] = []
  const pair = (prefix: string, label: string) => {
    const clientId = env[`${prefix}_CLIENT_ID`] || undefined
    const clientSecret = env[`${prefix}_CLIENT_SECRET`] || undefined
    if ((clientId === undefined) !== (clientSecret === undefined))
      notes.push(
        `${label} sign-in needs both ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET; it is off`,
      )
    return clientId !== undefined && clientSecret !== undefined
      ? { clientId, clientSecret }
      : undefined
  }
  const gh = pair('GITHUB', 'GitHub')
  if (gh) providers.push(github({ ...gh, redirectUri: `${origin}/auth/callback/github` }))
  const gg = pair('GOOGLE', 'Google')
  if (gg) providers.push(google({ ...gg, redirectUri: `${origin}/auth/callback/google` }))
  return { providers, notes }
}
