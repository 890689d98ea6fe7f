// One app instance for the scale-out test: the engine in session mode (or, with MODE=jwt,
// stateless mode with its revocations) over a shared Redis, served on its own port, with a
// guarded /api/me. Run as a separate process:
//   PORT=… ISSUER=… REDIRECT=… PREFIX=… REDIS_URL=… SECRET=… [MODE=jwt] node --import tsx app-instance.ts
import { Redis } from 'ioredis'
import { serve } from '../../../src/dev-idp/serve.ts'
import { createAuthkestra, session } from '../../../src/index.ts'
import { oidc } from '../../../src/providers/oidc.ts'
import { createRedisStores } from '../../../src/stores/redis.ts'

const env = process.env as Record<string, string>
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
})
const stores = createRedisStores({ redis, prefix: env.PREFIX ?? 'authkestra-scale:' })
const provider = oidc({
  id: 'idp',
  issuer: env.ISSUER ?? '',
  clientId: 'app',
  clientSecret: 'app-secret-0123456789abcdef',
  redirectUri: env.REDIRECT ?? '',
})
const secret = env.SECRET ?? ''
const auth =
  env.MODE === 'jwt'
    ? createAuthkestra({
        providers: [provider],
        secret,
        jwt: { revocations: stores.revocations },
      })
    : createAuthkestra({ providers: [provider], secret, session: { store: stores.sessions } })
const signedIn = session(auth as Parameters<typeof session>[0])

const server = await serve(
  async (request) => {
    const url = new URL(request.url)
    if (url.pathname === '/api/me') {
      const result = await signedIn(request)
      if (!result.ok) return result.response
      return Response.json({ instance: env.NAME, user: result.principal.user })
    }
    return auth.handler(request)
  },
  { host: '127.0.0.1', port: Number(env.PORT ?? 0), origin: `http://127.0.0.1:${env.PORT}` },
)
process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`)
process.on('SIGTERM', () => {
  server.close()
  redis.disconnect()
  process.exit(0)
})
