// The OP the four apps log in with: our embedded OP on loopback, auto-signing-in alice. Its server
// starts first (the issuer must be known to build each app's engine); the OP itself is created
// once the apps listen, so its one client can register each app's real callback URL.
import type { Server } from 'node:http'
import { serve } from '../../../../src/dev-idp/serve.ts'
import { createOp } from '../../../../src/op/create-op.ts'

export const CLIENT = { id: 'app', secret: 'app-secret-0123456789abcdef' } as const

export interface RunningIdp {
  readonly issuer: string
  /** Creates the OP with redirect URIs `${origin}/auth/callback/idp` and `…/jwt/…` per app origin. */
  configure(appOrigins: readonly string[]): Promise<void>
  close(): Promise<void>
}

export async function startIdp(): Promise<RunningIdp> {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return {
    issuer,
    async configure(appOrigins) {
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
        accounts: [
          {
            username: 'alice',
            password: 'wonderland',
            claims: { name: 'Alice', email: 'alice@example.com', email_verified: true },
          },
        ],
        dangerouslyAutoLogin: 'alice',
      })
      handler = op.handler
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
