// Shared by the devsig guard suites: an attestation issuer of our own (jose, a JWKS through a
// stub fetch), a device key, a movable clock, a guard over a memory replay cache, and the
// refusal assertion (exact status, challenge and code, no header value echoed).
import assert from 'node:assert/strict'
import { SignJWT } from 'jose'
import {
  createDevsigSignature,
  createMemoryReplayCache,
  type DevsigTarget,
  type DpopKey,
  generateDpopKey,
  type ReplayCache,
} from '../../../src/dpop/index.ts'
import { devsig } from '../../../src/index.ts'
import { AUD, assertRefusal, ISS, JWKS_URI, type LocalIssuer, localIssuer, NOW } from './helpers.ts'

export const URL_ = `${AUD}/transfers?to=bob&amount=10`
export const BODY = '{"memo":"rent"}'
export const silent = { warn() {} }

export interface World {
  readonly issuer: LocalIssuer
  readonly device: DpopKey
  readonly attestation: string
  readonly now: { value: number }
  readonly clock: { now(): number }
  readonly replay: ReturnType<typeof createMemoryReplayCache>
  readonly guard: ReturnType<typeof devsig>
}

export async function attest(
  key: CryptoKey,
  jkt: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    iss: ISS,
    sub: 'alice',
    aud: 'app',
    client_id: 'app',
    cnf: { jkt },
    jti: crypto.randomUUID(),
    iat: NOW - 60,
    exp: NOW + 3600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'devsig-attestation+jwt', ...header })
    .sign(key)
}

export async function world(options: { replay?: ReplayCache } = {}): Promise<World> {
  const issuer = await localIssuer()
  const device = await generateDpopKey()
  const now = { value: NOW * 1000 }
  const clock = { now: () => now.value }
  const replay = createMemoryReplayCache({ clock })
  const guard = devsig({
    issuer: ISS,
    jwksUri: JWKS_URI,
    audience: AUD,
    fetch: issuer.fetch,
    replay: options.replay ?? replay,
    clock,
    logger: silent,
  })
  const attestation = await attest(issuer.key as CryptoKey, device.thumbprint)
  return { issuer, device, attestation, now, clock, replay, guard }
}

export async function signed(w: World, target: Partial<DevsigTarget> = {}, key = w.device) {
  return createDevsigSignature(
    key,
    { method: 'POST', url: URL_, body: BODY, audience: AUD, ...target },
    w.clock,
  )
}

export function request(
  headers: Record<string, string>,
  init: { method?: string; url?: string; body?: string } = {},
): Request {
  const method = init.method ?? 'POST'
  return new Request(init.url ?? URL_, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: init.body ?? BODY }),
  })
}

export const headersOf = (attestation: string, signature: string) => ({
  'device-attestation': attestation,
  'device-signature': signature,
})

export const challengeOf = (code: string) => `DevSig realm="authkestra", error="${code}"`

export async function refused(
  result: Awaited<ReturnType<World['guard']>>,
  code: string,
  secrets: string[],
  status = 401,
) {
  const body = await assertRefusal(result, {
    status,
    challenge: status === 503 ? null : challengeOf(code),
    error: code,
    secret: secrets.join(''),
  })
  for (const secret of secrets) {
    for (const part of secret.split('.').filter((p) => p.length >= 8))
      assert.ok(!JSON.stringify(body).includes(part), 'a header value is echoed')
  }
}
