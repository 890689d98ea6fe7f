// An Express app (4 or 5) with Authkestra: `npm run dev-idp` in one terminal, `npx tsx examples/express.ts`
// in another (in this repository, `npm run build` first: the examples import the built
// package), then open http://localhost:3000 and sign in as alice / wonderland.

import { randomBytes } from 'node:crypto'
import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestra, getAuth, requireAuth } from 'authkestra/express'
import { oidc } from 'authkestra/providers'
import express from 'express'

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
const app = express()

app.use(authkestra(auth)) // /auth/login/:provider, /auth/callback/:provider, /auth/logout, /auth/session
app.get('/', (_req, res) => {
  const id = auth.providers()[0]?.id ?? ''
  res.send(`<a href="/auth/login/${id}?returnTo=/me">Sign in</a>`)
})
app.get('/me', requireAuth(signedIn), (req, res) => {
  res.json(getAuth(req, signedIn).user)
})

app.listen(port, () => console.log(`Express example on ${origin}`))
