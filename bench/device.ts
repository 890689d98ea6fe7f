// What the Device Authorization Grant's polling costs the OP: 1,000 devices pending at once,
// each polling at exactly its advertised interval (the OP's clock moves one interval per round
// of polls), answered `authorization_pending`; against a client_credentials token request on
// the same OP (one signed access token) as the baseline. In this process, on the OP's own
// message path (no HTTP), so the rate is CPU: µs per poll = 1e6 ÷ polls/s.
import { createOp } from '../src/op/create-op.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { type Comparison, compare, opPost, withCpuMicros } from './lib.ts'

const ISSUER = 'http://127.0.0.1:9100'
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const DEVICES = 1000

const post = (path: string, form: Record<string, string>, headers?: Record<string, string>) =>
  opPost(ISSUER, path, form, headers)

export async function deviceBenchmarks(): Promise<Comparison[]> {
  let now = Date.now()
  const clock = { now: () => now }
  const store = createMemoryOpStore({ clock })
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    scopes: ['api'],
    logger: { warn: () => {}, error: () => {} },
    ttl: { deviceCode: 1800 },
    clients: [
      { client_id: 'tv', redirect_uris: [], grant_types: [GRANT] },
      {
        client_id: 'svc',
        client_secret: 'svc-secret-0123456789abcdefghijklmnop',
        redirect_uris: [],
        grant_types: ['client_credentials'],
        scope: 'api',
      },
    ],
  })
  const codes: string[] = []
  for (let i = 0; i < DEVICES; i++) {
    const response = await op.handleMessage(
      post('/device_authorization', { client_id: 'tv', scope: 'openid' }),
    )
    codes.push((JSON.parse(response.body ?? '{}') as { device_code: string }).device_code)
  }
  let next = 0
  const poll = async () => {
    if (next === DEVICES) {
      next = 0
      now += 5000 // every device's next poll comes exactly one interval after its last
    }
    const response = await op.handleMessage(
      post('/token', { grant_type: GRANT, device_code: codes[next++] as string, client_id: 'tv' }),
    )
    if (!response.body?.includes('authorization_pending'))
      throw new Error(`expected authorization_pending, got ${response.status} ${response.body}`)
  }
  const basic = `Basic ${Buffer.from('svc:svc-secret-0123456789abcdefghijklmnop').toString('base64')}`
  const clientCredentials = async () => {
    const response = await op.handleMessage(
      post('/token', { grant_type: 'client_credentials' }, { authorization: basic }),
    )
    if (response.status !== 200) throw new Error(`client_credentials: ${response.status}`)
  }
  const row = await compare(
    `device flow: ${DEVICES.toLocaleString('en-US')} pending devices polling at their interval (OP message path, in process)`,
    ['client_credentials token request', clientCredentials],
    ['device poll → authorization_pending', poll],
    { rounds: 5, ms: 300 },
  )
  store.close()
  return [withCpuMicros(row)]
}
