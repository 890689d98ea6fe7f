// A Fastify 5 app with Authkestra: `npm run dev-idp` in one terminal, `npx tsx examples/fastify.ts`
// in another (in this repository, `npm run build` first: the examples import the built
// package), then open http://localhost:3000 and sign in as alice / wonderland.

import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestra, getAuth, requireAuth } from 'authkestra/fastify'
import Fastify from 'fastify'
import { origin, port, provider, secret } from './provider.ts'

const auth = createAuthkestra({ providers: [provider()], secret, session: {} })
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
