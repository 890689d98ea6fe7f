// An Express app (4 or 5) with Authkestra: `npm run dev-idp` in one terminal, `npx tsx examples/express.ts`
// in another (in this repository, `npm run build` first: the examples import the built
// package), then open http://localhost:3000 and sign in as alice / wonderland.

import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestra, getAuth, requireAuth } from 'authkestra/express'
import express from 'express'
import { origin, port, provider, secret } from './provider.ts'

const auth = createAuthkestra({ providers: [provider()], secret, session: {} })
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
