/**
 * Passkeys (WebAuthn Level 3) over `@simplewebauthn/server`, loaded on first use. Challenges are
 * single use, live five minutes and remember what they were issued for (registration or sign-in,
 * the account, and a caller's binding such as an interaction id). Credential ids are unique
 * across accounts (WebAuthn §7.1 step 26); counters, backup state and transports are stored, and
 * a counter that goes backwards (a cloned authenticator, §6.1.1) fails the sign-in.
 *
 * @module
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'
import { decodeBase64url, encodeBase64url } from '../core/base64url.ts'
import type { Clock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import { fail, type MfaResult } from './results.ts'
import type { CredentialStore, StoredCredential } from './store/types.ts'

/** The relying party passkeys are bound to. */
export interface PasskeyRp {
  /** The RP ID: the site's registrable domain or host (`'example.com'`, `'localhost'`). */
  readonly id: string
  /** Shown by the authenticator. */
  readonly name: string
  /** Origins the browser may report (`'https://login.example.com'`). */
  readonly origins: readonly string[]
  /** Default `'preferred'`; `'required'` refuses authenticators that did not verify the user. */
  readonly userVerification?: 'required' | 'preferred' | 'discouraged'
}

/** The facts of a passkey ceremony that succeeded. */
export interface PasskeyUse {
  readonly accountId: string
  readonly credentialId: string
  readonly userVerified: boolean
  /** Synced (`multiDevice`) or bound to one authenticator (`singleDevice`). */
  readonly deviceType: 'singleDevice' | 'multiDevice'
}

/**
 * The relying party of a site served at `origin`: its host name as the RP ID, its origin the only
 * one allowed. Undefined for an IP address, which browsers refuse as a passkey's RP ID.
 *
 * @example
 * ```ts
 * passkeyRpFor('http://localhost:3000', 'Acme') // { id: 'localhost', name: 'Acme', origins: ['http://localhost:3000'] }
 * passkeyRpFor('http://127.0.0.1:9000', 'Acme') // undefined
 * ```
 */
export function passkeyRpFor(origin: string, name: string): PasskeyRp | undefined {
  const url = new URL(origin)
  if (/^[\d.]+$|^\[/.test(url.hostname)) return undefined
  return { id: url.hostname, name, origins: [url.origin] }
}

interface Deps {
  readonly store: CredentialStore
  readonly clock: Clock
  readonly rp: PasskeyRp
}

const CHALLENGE_TTL = 300
/** 32 random bytes; the options carry them base64url, as clientDataJSON will. */
const challengeBytes = () => defaultCrypto.randomBytes(32) as Uint8Array<ArrayBuffer>
type Server = typeof import('@simplewebauthn/server')
let server: Promise<Server> | undefined
const load = (): Promise<Server> => {
  server ??= import('@simplewebauthn/server')
  return server
}

/** The WebAuthn user handle of an account: SHA-256 of its id (no PII, always 32 bytes). */
export async function userHandle(accountId: string): Promise<Uint8Array> {
  return defaultCrypto.sha256(`authkestra user ${accountId}`)
}

/** The challenge a response answers (from its clientDataJSON), or undefined. */
function challengeOf(response: { response?: { clientDataJSON?: unknown } }): string | undefined {
  try {
    const raw = response?.response?.clientDataJSON
    if (typeof raw !== 'string' || raw.length > 4096) return undefined
    const bytes = decodeBase64url(raw)
    const data = JSON.parse(new TextDecoder().decode(bytes)) as { challenge?: unknown }
    return typeof data.challenge === 'string' && data.challenge.length <= 128
      ? data.challenge
      : undefined
  } catch {
    return undefined
  }
}

interface ChallengeFacts {
  readonly type: 'register' | 'authenticate'
  readonly accountId?: string
  readonly binding?: string
}

/** Keeps a challenge the options carry (base64url), with what it was issued for. */
function keepChallenge(deps: Deps, challenge: string, facts: ChallengeFacts): Promise<void> {
  return deps.store.putChallenge(`webauthn:${challenge}`, { ...facts }, CHALLENGE_TTL)
}

/** Takes the challenge a response answers, if it was issued for `expected`. */
async function takeChallenge(
  deps: Deps,
  response: object,
  expected: ChallengeFacts,
): Promise<{ challenge: string; stored: Record<string, unknown> } | undefined> {
  const challenge = challengeOf(response as { response?: { clientDataJSON?: unknown } })
  if (!challenge) return undefined
  const stored = await deps.store.takeChallenge(`webauthn:${challenge}`)
  if (!stored || stored.type !== expected.type) return undefined
  if (expected.accountId !== undefined && stored.accountId !== expected.accountId) return undefined
  if ((stored.binding ?? undefined) !== expected.binding) return undefined
  return { challenge, stored }
}

/** Registration options for an account (its passkeys excluded); the challenge is kept. */
export async function registrationOptions(
  deps: Deps,
  account: { accountId: string; userName: string; displayName?: string; binding?: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await load()
  const existing = (await deps.store.list(account.accountId)).filter((c) => c.kind === 'webauthn')
  const options = await generateRegistrationOptions({
    rpName: deps.rp.name,
    rpID: deps.rp.id,
    userName: account.userName,
    userDisplayName: account.displayName ?? account.userName,
    userID: (await userHandle(account.accountId)) as Uint8Array<ArrayBuffer>,
    challenge: challengeBytes(),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.id, transports: transports(c) })),
    authenticatorSelection: {
      residentKey: 'preferred',
      userVerification: deps.rp.userVerification ?? 'preferred',
    },
  })
  await keepChallenge(deps, options.challenge, {
    type: 'register',
    accountId: account.accountId,
    ...(account.binding === undefined ? {} : { binding: account.binding }),
  })
  return options
}

const transports = (c: StoredCredential): string[] =>
  Array.isArray(c.data.transports) ? (c.data.transports as string[]) : []

/** Verifies a registration response and stores the passkey. */
export async function verifyRegistration(
  deps: Deps,
  input: { accountId: string; response: unknown; name?: string; binding?: string },
): Promise<MfaResult<{ credentialId: string }>> {
  const response = input.response as RegistrationResponseJSON
  if (typeof response !== 'object' || response === null) return fail('challenge_invalid')
  const taken = await takeChallenge(deps, response, {
    type: 'register',
    accountId: input.accountId,
    ...(input.binding === undefined ? {} : { binding: input.binding }),
  })
  if (!taken) return fail('challenge_invalid')
  const { verifyRegistrationResponse } = await load()
  let info: Awaited<ReturnType<Server['verifyRegistrationResponse']>>['registrationInfo']
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: [...deps.rp.origins],
      expectedRPID: deps.rp.id,
      requireUserVerification: deps.rp.userVerification === 'required',
    })
    info = result.verified ? result.registrationInfo : undefined
  } catch {
    info = undefined
  }
  if (!info) return fail('verification_failed')
  const now = deps.clock.now()
  const added = await deps.store.add({
    id: info.credential.id,
    accountId: input.accountId,
    kind: 'webauthn',
    name: (input.name ?? '').slice(0, 64) || 'Passkey',
    createdAt: now,
    confirmed: true,
    version: 1,
    data: {
      publicKey: encodeBase64url(info.credential.publicKey),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
    },
  })
  return added ? { ok: true, credentialId: info.credential.id } : fail('credential_exists')
}

/**
 * Sign-in options: for an account (its passkeys allowed) or, without one, for a discoverable
 * passkey of any account (usernameless).
 */
export async function authenticationOptions(
  deps: Deps,
  input: { accountId?: string; binding?: string } = {},
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await load()
  const allow =
    input.accountId === undefined
      ? []
      : (await deps.store.list(input.accountId))
          .filter((c) => c.kind === 'webauthn')
          .map((c) => ({ id: c.id, transports: transports(c) }))
  const options = await generateAuthenticationOptions({
    rpID: deps.rp.id,
    challenge: challengeBytes(),
    allowCredentials: allow,
    userVerification: deps.rp.userVerification ?? 'preferred',
  })
  await keepChallenge(deps, options.challenge, {
    type: 'authenticate',
    ...(input.accountId === undefined ? {} : { accountId: input.accountId }),
    ...(input.binding === undefined ? {} : { binding: input.binding }),
  })
  return options
}

/** Verifies a sign-in response; on success the passkey's counter and last use are updated. */
export async function verifyAuthentication(
  deps: Deps,
  input: { response: unknown; accountId?: string; binding?: string },
): Promise<MfaResult<PasskeyUse>> {
  const response = input.response as AuthenticationResponseJSON
  if (typeof response !== 'object' || response === null) return fail('challenge_invalid')
  const taken = await takeChallenge(deps, response, {
    type: 'authenticate',
    ...(input.binding === undefined ? {} : { binding: input.binding }),
  })
  if (!taken) return fail('challenge_invalid')
  const bound = taken.stored.accountId as string | undefined
  const id = typeof response.id === 'string' && response.id.length <= 1024 ? response.id : ''
  const stored = id ? await deps.store.get(id) : undefined
  if (stored?.kind !== 'webauthn') return fail('credential_unknown')
  const owner = input.accountId ?? bound
  if (owner !== undefined && stored.accountId !== owner) return fail('credential_unknown')
  if (bound !== undefined && bound !== stored.accountId) return fail('credential_unknown')
  const handle = response.response?.userHandle
  if (handle !== undefined && handle !== encodeBase64url(await userHandle(stored.accountId)))
    return fail('verification_failed')
  const { verifyAuthenticationResponse } = await load()
  let info:
    | Awaited<ReturnType<Server['verifyAuthenticationResponse']>>['authenticationInfo']
    | undefined
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: [...deps.rp.origins],
      expectedRPID: deps.rp.id,
      credential: {
        id: stored.id,
        publicKey: (decodeBase64url(String(stored.data.publicKey)) ??
          new Uint8Array()) as Uint8Array<ArrayBuffer>,
        counter: Number(stored.data.counter) || 0,
        transports: transports(stored) as never,
      },
      requireUserVerification: deps.rp.userVerification === 'required',
    })
    info = result.verified ? result.authenticationInfo : undefined
  } catch {
    info = undefined
  }
  if (!info) return fail('verification_failed')
  const updated = await deps.store.update({
    ...stored,
    version: stored.version + 1,
    lastUsedAt: deps.clock.now(),
    data: { ...stored.data, counter: info.newCounter, backedUp: info.credentialBackedUp },
  })
  // Someone used the same passkey at the same moment: one of the two is a clone or a replay.
  if (!updated) return fail('verification_failed')
  return {
    ok: true,
    accountId: stored.accountId,
    credentialId: stored.id,
    userVerified: info.userVerified,
    deviceType: info.credentialDeviceType,
  }
}
