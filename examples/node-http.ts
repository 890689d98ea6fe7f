// Plain `node:http` with Authkestra, through `authkestra/node` (the same calls mount it in Koa,
// NestJS or any Node framework): `npm run dev-idp` in one terminal, `npx tsx examples/node-http.ts`
// in another (in this repository, `npm run build` first), then open http://localhost:3000.

import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { createAuthkestra, sessionGuard } from 'authkestra'
import { authkestraListener, guardRequestOf } from 'authkestra/node'
import { oidc } from 'authkestra/providers'

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
const routes = authkestraListener(auth) // /auth/login/:provider, /auth/callback/:provider, …

createServer((req, res) => {
  routes(req, res, async (error) => {
    if (error) {
      res.writeHead(500).end()
    } else if (req.url === '/') {
      const id = auth.providers()[0]?.id ?? ''
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(`<a href="/auth/login/${id}?returnTo=/me">Sign in</a>`)
    } else if (req.url === '/me') {
      const request = guardRequestOf(req)
      const result = request ? await signedIn(request) : undefined
      res.setHeader('content-type', 'application/json')
      if (result?.ok) res.end(JSON.stringify(result.principal.user))
      else res.writeHead(401).end('{}')
    } else {
      res.writeHead(404).end()
    }
  })
}).listen(port, () => console.log(`node:http example on ${origin}`))
