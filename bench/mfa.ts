// What a second factor costs the server, each against a client_credentials token request on an
// OP (one signed access token) as the baseline, in this process over the memory stores (so the
// rates are CPU): a TOTP check (the sealed secret opened, three HMAC-SHA-1 steps compared, the
// attempt counted), a recovery-code check (one keyed hash, one atomic delete attempt), and a
// passkey sign-in verification (the challenge taken, the assertion's ES256 signature, origin, RP
// ID and counter checked, the counter stored). Wrong codes are checked, so every call does the
// whole comparison; the passkey assertions are made beforehand by a software authenticator.

import { createMfa } from '../src/mfa/create-mfa.ts'
import { createMemoryCredentialStore } from '../src/mfa/store/memory.ts'
import { createOp } from '../src/op/create-op.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { SoftAuthenticator } from '../test/helpers/soft-authenticator.ts'
import { type Comparison, compare, opPost, withCpuMicros } from './lib.ts'

const ISSUER = 'http://127.0.0.1:9102'
const SECRET = 'svc-secret-0123456789abcdefghijklmnop'
const ORIGIN = 'https://login.bench.example'

export async function mfaBenchmarks(
  options: { rounds?: number; ms?: number; assertions?: number } = {},
): Promise<Comparison[]> {
  const store = createMemoryOpStore()
  const op = await createOp({
    issuer: ISSUER,
    store,
    logger: { warn: () => {}, error: () => {}, info: () => {} },
    clients: [
      {
        client_id: 'svc',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
    ],
  })
  const authorization = `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`
  const baseline: [string, () => Promise<unknown>] = [
    'client_credentials token request',
    async () => {
      const r = await op.handleMessage(
        opPost(ISSUER, '/token', { grant_type: 'client_credentials' }, { authorization }),
      )
      if (r.status !== 200) throw new Error(`token: ${r.status}`)
    },
  ]
  const mfa = createMfa({
    store: createMemoryCredentialStore(),
    secret: 'bench-mfa-secret-0123456789abcdefghijkl',
    issuer: 'Bench',
    // The bench checks wrong codes on purpose: no limit in the way.
    limits: { attempts: Number.MAX_SAFE_INTEGER, windowSeconds: 1 },
    passkeys: { id: 'bench.example', name: 'Bench', origins: [ORIGIN] },
  })
  await mfa.importTotp('alice', { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' })
  await mfa.generateRecoveryCodes('alice')
  const authenticator = new SoftAuthenticator(ORIGIN)
  const registration = await mfa.passkeyRegistrationOptions({
    accountId: 'alice',
    userName: 'alice',
  })
  const added = await mfa.verifyPasskeyRegistration({
    accountId: 'alice',
    response: authenticator.create(registration),
  })
  if (!added.ok) throw new Error(`passkey registration: ${added.reason}`)
  // Assertions made beforehand, each for its own challenge, used in turn.
  const count = options.assertions ?? 6000
  const assertions: unknown[] = []
  for (let i = 0; i < count; i++)
    assertions.push(
      authenticator.get(await mfa.passkeyAuthenticationOptions({ accountId: 'alice' })),
    )
  let next = 0
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const rows = [
    await compare(
      'TOTP check (sealed secret, ±1 step, attempt counted; memory store)',
      baseline,
      ['mfa.verifyTotp', () => mfa.verifyTotp('alice', '000000')],
      timing,
    ),
    await compare(
      'recovery code check (keyed hash, atomic delete; memory store)',
      baseline,
      ['mfa.verifyRecoveryCode', () => mfa.verifyRecoveryCode('alice', 'aaaaa-bbbbb')],
      timing,
    ),
    await compare(
      'passkey sign-in verification (ES256 assertion, counter stored; memory store)',
      baseline,
      [
        'mfa.verifyPasskeyAuthentication',
        async () => {
          const response = assertions[next++ % assertions.length]
          await mfa.verifyPasskeyAuthentication({ response })
        },
      ],
      timing,
    ),
  ]
  store.close()
  return rows.map(withCpuMicros)
}
