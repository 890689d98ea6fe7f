// The provider the examples log in with: GitHub or Google when their credentials are in the
// environment, otherwise the local dev IdP (`npm run dev-idp`, demo client "demo-app").
import { randomBytes } from 'node:crypto'
import type { ProviderConfig } from 'authkestra/client'
import { github, google, oidc } from 'authkestra/providers'

export const port = Number(process.env.PORT ?? 3000)
export const origin = `http://localhost:${port}`
/** Sessions live in memory here, so a random secret per start is enough for an example. */
export const secret = process.env.AUTH_SECRET ?? randomBytes(32).toString('base64url')

export function provider(): ProviderConfig {
  const env = process.env
  if (env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET) {
    return github({
      clientId: env.GITHUB_CLIENT_ID,
      clientSecret: env.GITHUB_CLIENT_SECRET,
      redirectUri: `${origin}/auth/callback/github`,
    })
  }
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) {
    return google({
      clientId: env.GOOGLE_CLIENT_ID,
      clientSecret: env.GOOGLE_CLIENT_SECRET,
      redirectUri: `${origin}/auth/callback/google`,
    })
  }
  return oidc({
    id: 'authkestra',
    name: 'Authkestra dev IdP',
    issuer: env.AUTH_ISSUER ?? 'http://127.0.0.1:9000',
    clientId: env.AUTH_CLIENT_ID ?? 'demo-app',
    redirectUri: `${origin}/auth/callback/authkestra`,
  })
}
