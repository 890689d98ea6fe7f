// A Hono 4 app (on Node via @hono/node-server) with Authkestra: `npm run dev-idp` in one
// terminal, `npx tsx examples/hono.ts` in another (in this repository, `npm run build` first:
// the examples import the built package), then open http://localhost:3000.
import { serve } from '@hono/node-server'
import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestra, requireAuth } from 'authkestra/hono'
import { Hono } from 'hono'
import { origin, port, provider, secret } from './provider.ts'

const auth = createAuthkestra({ providers: [provider()], secret, session: {} })
const signedIn = sessionGuard(auth)
const app = new Hono()

app.use(authkestra(auth)) // /auth/login/:provider, /auth/callback/:provider, /auth/logout, /auth/session
app.get('/', (c) =>
  c.html(`<a href="/auth/login/${auth.providers()[0]?.id ?? ''}?returnTo=/me">Sign in</a>`),
)
app.get('/me', requireAuth(signedIn), (c) => c.json(c.get('auth').user))

serve({ fetch: app.fetch, port }, () => console.log(`Hono example on ${origin}`))
