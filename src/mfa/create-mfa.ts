/**
 * `createMfa`: second factors for an account, over a {@link CredentialStore} and the app secret.
 * No HTTP and no framework: the OP's login pages use it, and so can any app with its own pages.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { createKeyring, type Secret } from '../core/keyring.ts'
import { randomToken } from '../core/random.ts'
import {
  authenticationOptions,
  type PasskeyRp,
  type PasskeyUse,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
} from './passkeys.ts'
import {
  generateRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeIds,
} from './recovery-codes.ts'
import { fail, type MfaResult } from './results.ts'
import { openSecret, sealSecret } from './seal.ts'
import type { CredentialStore, StoredCredential } from './store/types.ts'
import { generateTotpSecret, type TotpParams, totpQrSvg, totpUri, verifyTotp } from './totp.ts'

/** Options of {@link createMfa}. */
export interface MfaOptions {
  readonly store: CredentialStore
  /** The app secret(s), ≥ 32 bytes: TOTP secrets are sealed and recovery codes keyed under it. */
  readonly secret: Secret | readonly Secret[]
  /** The service name authenticator apps show (`otpauth://` issuer). */
  readonly issuer: string
  /** Where passkeys are bound; without it, passkeys are off. */
  readonly passkeys?: PasskeyRp
  /** TOTP parameters of new enrolments, and the drift window (default ±1 step). */
  readonly totp?: TotpParams & { readonly window?: number }
  /** Code attempts (TOTP and recovery) per account: default 5 per 300 s. */
  readonly limits?: { readonly attempts?: number; readonly windowSeconds?: number }
  readonly clock?: Clock
}

/** A factor as an account page lists it (no secret in it). */
export interface FactorSummary {
  readonly id: string
  readonly kind: 'totp' | 'webauthn'
  readonly name: string
  readonly createdAt: number
  readonly lastUsedAt?: number
  /** Passkeys: synced across devices (`multiDevice`) or not. */
  readonly deviceType?: 'singleDevice' | 'multiDevice'
  readonly backedUp?: boolean
}

/** An account's confirmed factors. */
export interface AccountFactors {
  readonly totp: readonly FactorSummary[]
  readonly passkeys: readonly FactorSummary[]
  /** Unused recovery codes left. */
  readonly recoveryCodes: number
}

/** A TOTP enrolment waiting for its first code. Show `qrSvg` (or `secret`) once. */
export interface TotpEnrollment {
  readonly credentialId: string
  readonly secret: string
  readonly uri: string
  readonly qrSvg: string
}

/** Second factors of accounts. */
export interface Mfa {
  /** Whether passkeys are on (`passkeys` was given). */
  readonly passkeysEnabled: boolean
  /** Confirmed factors of an account. */
  factors(accountId: string): Promise<AccountFactors>
  /** Starts a TOTP enrolment; it counts only once {@link Mfa.confirmTotp} succeeds (15 min). */
  enrollTotp(accountId: string, label: { account: string; name?: string }): Promise<TotpEnrollment>
  /**
   * Adds a TOTP secret the user already has (a migration from another system, a dev fixture),
   * confirmed at once; answers its credential id.
   */
  importTotp(
    accountId: string,
    totp: { secret: string; name?: string } & TotpParams,
  ): Promise<string>
  /** Confirms an enrolment with a first code from the app. */
  confirmTotp(accountId: string, credentialId: string, code: string): Promise<MfaResult<object>>
  /**
   * Counts one attempt of another kind (a password re-entered on an account page) against the
   * account's attempt limit, shared with codes; `rate_limited` once over it.
   */
  attempt(accountId: string): Promise<MfaResult<object>>
  /** Checks a code against the account's TOTP factors (attempt-limited; a used step is refused). */
  verifyTotp(accountId: string, code: string): Promise<MfaResult<{ credentialId: string }>>
  /** Replaces the account's recovery codes with new ones, returned once in clear. */
  generateRecoveryCodes(accountId: string): Promise<string[]>
  /** Uses one recovery code (attempt-limited; each works once). */
  verifyRecoveryCode(accountId: string, code: string): Promise<MfaResult<{ remaining: number }>>
  /** Passkey registration options; `binding` ties the challenge to e.g. a page's session. */
  passkeyRegistrationOptions(input: {
    accountId: string
    userName: string
    displayName?: string
    binding?: string
  }): ReturnType<typeof registrationOptions>
  /** Verifies a registration and stores the passkey. */
  verifyPasskeyRegistration(input: {
    accountId: string
    response: unknown
    name?: string
    binding?: string
  }): Promise<MfaResult<{ credentialId: string }>>
  /** Sign-in options, for an account or (without) usernameless. */
  passkeyAuthenticationOptions(input?: {
    accountId?: string
    binding?: string
  }): ReturnType<typeof authenticationOptions>
  /** Verifies a passkey sign-in. */
  verifyPasskeyAuthentication(input: {
    response: unknown
    accountId?: string
    binding?: string
  }): Promise<MfaResult<PasskeyUse>>
  /** Renames a TOTP factor or passkey of the account; false if it has none of that id. */
  rename(accountId: string, credentialId: string, name: string): Promise<boolean>
  /** Removes a factor of the account; false if it has none of that id. */
  remove(accountId: string, credentialId: string): Promise<boolean>
}

const ENROLL_TTL_MS = 15 * 60_000

/** The TOTP parameters given (the defaults are not stored: they stay the library's). */
const paramsOf = (p: TotpParams): TotpParams => ({
  ...(p.algorithm ? { algorithm: p.algorithm } : {}),
  ...(p.digits ? { digits: p.digits } : {}),
  ...(p.period ? { period: p.period } : {}),
})

/**
 * Second factors over a store.
 *
 * @example
 * ```ts
 * import { createMemoryCredentialStore, createMfa } from 'authkestra/mfa'
 * const mfa = createMfa({
 *   store: createMemoryCredentialStore(),
 *   secret: process.env.AUTH_SECRET!,
 *   issuer: 'Acme',
 *   passkeys: { id: 'localhost', name: 'Acme', origins: ['http://localhost:3000'] },
 * })
 * const { qrSvg, credentialId } = await mfa.enrollTotp('alice', { account: 'alice@acme.test' })
 * ```
 */
export function createMfa(options: MfaOptions): Mfa {
  const { store, issuer } = options
  if (typeof issuer !== 'string' || issuer === '' || issuer.includes(':'))
    throw new AuthkestraError('config_invalid', 'MFA "issuer" must be a non-empty name without ":"')
  const keyring = createKeyring(options.secret)
  const clock = options.clock ?? systemClock
  const attempts = options.limits?.attempts ?? 5
  const windowSeconds = options.limits?.windowSeconds ?? 300
  if (!Number.isInteger(attempts) || attempts < 1 || !(windowSeconds > 0))
    throw new AuthkestraError('config_invalid', 'MFA "limits" must be positive')
  const totpParams = paramsOf(options.totp ?? {})
  const rp = options.passkeys
  const passkeyDeps = () => {
    if (!rp) throw new AuthkestraError('config_invalid', 'passkeys are off: set "passkeys"')
    return { store, clock, rp }
  }

  /** Counts an attempt; a failure when over the limit. */
  async function limited(accountId: string) {
    const count = await store.hit(`codes:${accountId}`, windowSeconds)
    return count > attempts ? fail('rate_limited', windowSeconds) : undefined
  }

  /** Stores a TOTP credential with its secret sealed; answers its id. */
  async function addTotp(
    accountId: string,
    secret: string,
    params: TotpParams,
    name: string | undefined,
    confirmed: boolean,
  ): Promise<string> {
    const credentialId = `totp_${randomToken(16)}`
    await store.add({
      id: credentialId,
      accountId,
      kind: 'totp',
      name: (name ?? '').slice(0, 64) || 'Authenticator app',
      createdAt: clock.now(),
      confirmed,
      version: 1,
      data: { secret: await sealSecret(keyring, secret, { accountId, credentialId }), params },
    })
    return credentialId
  }

  /** Checks a code against one TOTP credential, recording its step. */
  async function tryTotp(c: StoredCredential, code: string, confirm: boolean) {
    const secret = await openSecret(keyring, String(c.data.secret), {
      accountId: c.accountId,
      credentialId: c.id,
    })
    if (!secret) return false
    const lastStep = typeof c.data.lastStep === 'number' ? c.data.lastStep : undefined
    const step = await verifyTotp(secret, code, {
      ...(c.data.params as TotpParams),
      now: clock.now(),
      window: options.totp?.window ?? 1,
      ...(lastStep === undefined ? {} : { lastStep }),
    })
    if (step === undefined) return false
    // Compare-and-set: of two requests with the same code, one records the step, one fails.
    return store.update({
      ...c,
      version: c.version + 1,
      confirmed: c.confirmed || confirm,
      lastUsedAt: clock.now(),
      data: { ...c.data, lastStep: step },
    })
  }

  const summary = (c: StoredCredential): FactorSummary => ({
    id: c.id,
    kind: c.kind as 'totp' | 'webauthn',
    name: c.name,
    createdAt: c.createdAt,
    ...(c.lastUsedAt === undefined ? {} : { lastUsedAt: c.lastUsedAt }),
    ...(c.kind === 'webauthn'
      ? {
          deviceType: c.data.deviceType === 'multiDevice' ? 'multiDevice' : 'singleDevice',
          backedUp: c.data.backedUp === true,
        }
      : {}),
  })

  return {
    passkeysEnabled: rp !== undefined,

    async factors(accountId) {
      const all = await store.list(accountId)
      return {
        totp: all.filter((c) => c.kind === 'totp' && c.confirmed).map(summary),
        passkeys: all.filter((c) => c.kind === 'webauthn').map(summary),
        recoveryCodes: all.filter((c) => c.kind === 'recovery').length,
      }
    },

    async enrollTotp(accountId, label) {
      // At most one enrolment waits for its first code: a new one replaces it.
      for (const c of await store.list(accountId))
        if (c.kind === 'totp' && !c.confirmed) await store.remove(accountId, c.id)
      const secret = generateTotpSecret()
      const uri = totpUri({
        secret,
        issuer,
        account: label.account.replace(/:/g, ' '),
        ...totpParams,
      })
      const credentialId = await addTotp(accountId, secret, totpParams, label.name, false)
      return { credentialId, secret, uri, qrSvg: totpQrSvg(uri) }
    },

    async importTotp(accountId, totp) {
      const { secret, name, ...params } = totp
      // Throws config_invalid for a secret that is not base32 of 10 bytes or more, or bad params.
      totpUri({ secret, issuer, account: 'import', ...params })
      const clean = secret.replace(/[\s=-]/g, '').toUpperCase()
      return addTotp(accountId, clean, paramsOf(params), name, true)
    },

    async confirmTotp(accountId, credentialId, code) {
      const over = await limited(accountId)
      if (over) return over
      const c = await store.get(credentialId)
      if (!c || c.accountId !== accountId || c.kind !== 'totp' || c.confirmed)
        return fail('invalid_code')
      if (clock.now() - c.createdAt > ENROLL_TTL_MS) {
        await store.remove(accountId, credentialId)
        return fail('invalid_code')
      }
      if (!(await tryTotp(c, code, true))) return fail('invalid_code')
      await store.clearHits(`codes:${accountId}`)
      return { ok: true }
    },

    async attempt(accountId) {
      return (await limited(accountId)) ?? { ok: true }
    },

    async verifyTotp(accountId, code) {
      const over = await limited(accountId)
      if (over) return over
      const all = (await store.list(accountId)).filter((c) => c.kind === 'totp' && c.confirmed)
      for (const c of all) {
        if (await tryTotp(c, code, false)) {
          await store.clearHits(`codes:${accountId}`)
          return { ok: true, credentialId: c.id }
        }
      }
      return fail('invalid_code')
    },

    async generateRecoveryCodes(accountId) {
      await store.removeAll(accountId, 'recovery')
      const codes: string[] = []
      const now = clock.now()
      while (codes.length < RECOVERY_CODE_COUNT) {
        const code = generateRecoveryCode()
        const [id] = await recoveryCodeIds(keyring, accountId, normalizeRecoveryCode(code) ?? '')
        const added = await store.add({
          id: id as string,
          accountId,
          kind: 'recovery',
          name: '',
          createdAt: now,
          confirmed: true,
          version: 1,
          data: {},
        })
        if (added) codes.push(code)
      }
      return codes
    },

    async verifyRecoveryCode(accountId, code) {
      const over = await limited(accountId)
      if (over) return over
      const normalized = normalizeRecoveryCode(code)
      if (!normalized) return fail('invalid_code')
      for (const id of await recoveryCodeIds(keyring, accountId, normalized)) {
        if (await store.remove(accountId, id)) {
          await store.clearHits(`codes:${accountId}`)
          const left = (await store.list(accountId)).filter((c) => c.kind === 'recovery').length
          return { ok: true, remaining: left }
        }
      }
      return fail('invalid_code')
    },

    passkeyRegistrationOptions: (input) => registrationOptions(passkeyDeps(), input),
    verifyPasskeyRegistration: (input) => verifyRegistration(passkeyDeps(), input),
    passkeyAuthenticationOptions: (input) => authenticationOptions(passkeyDeps(), input ?? {}),
    verifyPasskeyAuthentication: (input) => verifyAuthentication(passkeyDeps(), input),

    async rename(accountId, credentialId, name) {
      const c = await store.get(credentialId)
      const clean = name.trim().slice(0, 64)
      if (!c || c.accountId !== accountId || c.kind === 'recovery' || clean === '') return false
      return store.update({ ...c, version: c.version + 1, name: clean })
    },

    async remove(accountId, credentialId) {
      const c = await store.get(credentialId)
      if (!c || c.kind === 'recovery') return false
      return store.remove(accountId, credentialId)
    },
  }
}
