// An OP for authorize/interaction tests: a confidential web client, a public client, a native
// client, a first-party client, a legacy client allowed plain PKCE, and alice.

import type { OpConfig } from '../../../src/op/config.ts'
import { createOp, type Op } from '../../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../../src/op/store/memory.ts'

export const ISSUER = 'http://127.0.0.1:9000'
export const WEB_REDIRECT = 'https://app.example/cb'

export async function testOp(
  patch: Partial<OpConfig> = {},
): Promise<{ op: Op; store: ReturnType<typeof createMemoryOpStore>; now: { value: number } }> {
  const now = { value: Date.now() }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    logger: { warn: () => {}, error: () => {} },
    clients: [
      {
        client_id: 'web',
        client_secret: 'web-secret-0123456789abcdef',
        redirect_uris: [WEB_REDIRECT],
        client_name: 'Web <App> & "Co"',
      },
      { client_id: 'spa', redirect_uris: ['http://localhost:3000/cb'] },
      {
        client_id: 'cli',
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback'],
      },
      { client_id: 'first', redirect_uris: [WEB_REDIRECT], skip_consent: true },
      { client_id: 'legacy', redirect_uris: [WEB_REDIRECT], pkce_plain: 'allow-unsafe' },
    ],
    accounts: [
      {
        username: 'alice',
        password: 'wonderland',
        claims: { name: 'Alice', email: 'alice@example.com', email_verified: true },
      },
    ],
    ...patch,
  })
  return { op, store, now }
}
