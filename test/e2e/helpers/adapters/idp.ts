// The OP the four apps log in with: our embedded OP on loopback, auto-signing-in alice. Its server
// starts first (the issuer must be known to build each app's engine); the OP itself is created
// once the apps listen, so its one client can register each app's real callback URL.
import type { Server } from 'node:http'
import { withScenario } from '../../../../src/dev-idp/scenarios.ts'
import { type MessageHandler, serve } from '../../../../src/dev-idp/serve.ts'
import type { OpConfig } from '../../../../src/op/config.ts'
import { createOp } from '../../../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../../../src/op/store/memory.ts'

export const CLIENT = { id: 'app', secret: 'app-secret-0123456789abcdef' } as const

export interface RunningIdp {
  readonly issuer: string
  /**
   * A second OP, as the dev IdP's `--scenario extra-audience` runs it: its ID tokens are also
   * issued to `https://api.example`. Its client registers `…/auth/callback/aud` and `…/aud-trusted`.
   */
  readonly audienceIssuer: string
  /** Creates the OP with redirect URIs `${origin}/auth/callback/idp` and `…/jwt/…` per app origin. */
  configure(appOrigins: readonly string[]): Promise<void>
  close(): Promise<void>
}

export async function startIdp(): Promise<RunningIdp> {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  let audienceHandler: MessageHandler | undefined
  const audienceServer: Server = await serve(
    { message: (r) => (audienceHandler as MessageHandler).message(r) },
    { host: '127.0.0.1', port: 0 },
  )
  const audienceIssuer = `http://127.0.0.1:${(audienceServer.address() as { port: number }).port}`
  const accounts: OpConfig['accounts'] = [
    {
      username: 'alice',
      password: 'wonderland',
      claims: { name: 'Alice', email: 'alice@example.com', email_verified: true },
    },
  ]
  return {
    issuer,
    audienceIssuer,
    async configure(appOrigins) {
      const store = createMemoryOpStore()
      const audienceOp = await createOp({
        issuer: audienceIssuer,
        store,
        logger: { warn: () => {}, error: () => {} },
        clients: [
          {
            client_id: CLIENT.id,
            client_secret: CLIENT.secret,
            redirect_uris: appOrigins.flatMap((origin) => [
              `${origin}/auth/callback/aud`,
              `${origin}/auth/callback/aud-trusted`,
            ]),
            skip_consent: true,
          },
        ],
        accounts,
        dangerouslyAutoLogin: 'alice',
      })
      audienceHandler = {
        message: withScenario(audienceOp.handleMessage, 'extra-audience', {
          issuer: audienceIssuer,
          store,
          rotateKeys: () => audienceOp.rotateKeys(),
          delayMs: 0,
        }),
      }
      const op = await createOp({
        issuer,
        logger: { warn: () => {}, error: () => {} },
        clients: [
          {
            client_id: CLIENT.id,
            client_secret: CLIENT.secret,
            redirect_uris: appOrigins.flatMap((origin) => [
              `${origin}/auth/callback/idp`,
              `${origin}/jwt/callback/idp`,
            ]),
            skip_consent: true,
          },
        ],
        accounts,
        dangerouslyAutoLogin: 'alice',
      })
      handler = op.handler
    },
    close: async () => {
      for (const s of [server, audienceServer]) {
        s.closeAllConnections()
        await new Promise<void>((resolve) => s.close(() => resolve()))
      }
    },
  }
}
