// A Hono 4 app (on Node via @hono/node-server) with Authkestra: `npm run dev-idp` in one
// terminal, `npx tsx examples/hono.ts` in another (in this repository, `npm run build` first:
// the examples import the built package), then open http://localhost:3000.

import { randomBytes } from 'node:crypto'
import { serve } from '@hono/node-server'
import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestra, requireAuth } from 'authkestra/hono'
import { oidc } from 'authkestra/providers'
import { Hono } from 'hono'

const port = Number(process.env.PORT ?? 3000)
const origin = `http://localhost:${port}`
const auth = createAuthkestra({
  providers: [
    oidc({
      id: 'authkestra',
      issuer: process.env.AUTH_ISSUER ?? 'http://127.0.0.1:9000', // the dev IdP's default
      clientId: 'demo-app',
      redirectUri: `${origin}/auth/callback/authkestra`,
    }),
  ],
  // Sessions live in memory here, so a random secret per start will do for an example.
  secret: process.env.AUTH_SECRET ?? randomBytes(32).toString('base64url'),
  session: {},
})
const signedIn = sessionGuard(auth)
const app = new Hono()

app.use(authkestra(auth)) // /auth/login/:provider, /auth/callback/:provider, /auth/logout, /auth/session
app.get('/', (c) =>
  c.html(`<a href="/auth/login/${auth.providers()[0]?.id ?? ''}?returnTo=/me">Sign in</a>`),
)
app.get('/me', requireAuth(signedIn), (c) => c.json(c.get('auth').user))

serve({ fetch: app.fetch, port }, () => console.log(`Hono example on ${origin}`))
