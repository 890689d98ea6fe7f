// A Fastify 5 app with Authkestra: `npm run dev-idp` in one terminal, `npx tsx examples/fastify.ts`
// in another (in this repository, `npm run build` first: the examples import the built
// package), then open http://localhost:3000 and sign in as alice / wonderland.

import { randomBytes } from 'node:crypto'
import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestra, getAuth, requireAuth } from 'authkestra/fastify'
import { oidc } from 'authkestra/providers'
import Fastify from 'fastify'

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
const app = Fastify()

await app.register(authkestra(auth)) // /auth/login/:provider, /auth/callback/:provider, /auth/logout, /auth/session
app.get('/', async (_request, reply) => {
  const id = auth.providers()[0]?.id ?? ''
  return reply.type('text/html').send(`<a href="/auth/login/${id}?returnTo=/me">Sign in</a>`)
})
app.get(
  '/me',
  { preHandler: requireAuth(signedIn) },
  async (request) => getAuth(request, signedIn).user,
)

await app.listen({ port, host: 'localhost' })
console.log(`Fastify example on ${origin}`)
