// What the token endpoint's other grants cost the OP, each against a client_credentials token
// request on the same OP (one signed access token) as the baseline: a custom grant (RFC 6749
// §4.5) whose handler returns at once, so the row is the OP's own work around it; and a token
// exchange (RFC 8693), which verifies the subject access token, asks the policy and signs a new
// one. In this process, on the OP's message path (no HTTP), so the rates are CPU.
import { createOp } from '../src/op/create-op.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { type Comparison, compare, opPost, withCpuMicros } from './lib.ts'

const ISSUER = 'http://127.0.0.1:9101'
const CUSTOM = 'urn:example:grant:bench'
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const SECRET = 'svc-secret-0123456789abcdefghijklmnop'

export async function grantBenchmarks(
  options: { rounds?: number; ms?: number } = {},
): Promise<Comparison[]> {
  const store = createMemoryOpStore()
  const op = await createOp({
    issuer: ISSUER,
    store,
    scopes: ['api'],
    logger: { warn: () => {}, error: () => {}, info: () => {} },
    clients: [
      {
        client_id: 'svc',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials', CUSTOM, EXCHANGE],
        scope: 'api',
      },
    ],
    grants: { [CUSTOM]: () => ({ sub: 'partner', scopes: ['api'] }) },
    tokenExchange: { policy: () => ({ allow: true }) },
  })
  const authorization = `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`
  const token = async (form: Record<string, string>) => {
    const response = await op.handleMessage(opPost(ISSUER, '/token', form, { authorization }))
    if (response.status !== 200) throw new Error(`${form.grant_type}: ${response.status}`)
    return JSON.parse(response.body ?? '{}') as { access_token: string }
  }
  const clientCredentials: [string, () => Promise<unknown>] = [
    'client_credentials token request',
    () => token({ grant_type: 'client_credentials' }),
  ]
  const subject = (await token({ grant_type: 'client_credentials' })).access_token
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const rows = [
    await compare(
      'custom grant (RFC 6749 §4.5), handler answering at once (OP message path, in process)',
      clientCredentials,
      ['custom grant token request', () => token({ grant_type: CUSTOM })],
      timing,
    ),
    await compare(
      'token exchange (RFC 8693) of an access token (OP message path, in process)',
      clientCredentials,
      [
        'token exchange request',
        () =>
          token({
            grant_type: EXCHANGE,
            subject_token: subject,
            subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            audience: 'https://billing.example',
          }),
      ],
      timing,
    ),
  ]
  store.close()
  return rows.map(withCpuMicros)
}
