/**
 * The dev IdP config file's `captcha` section: a bot check on its login page, as
 * `createOp({ captcha })` takes it, from plain data. The secret comes from the file (`secret`) or
 * from an environment variable it names (`secretEnv`), so a real key need not sit in a file;
 * errors name the field, never a value.
 *
 * @module
 */
import { hcaptcha } from '../captcha/hcaptcha.ts'
import { recaptchaV3 } from '../captcha/recaptcha.ts'
import { turnstile } from '../captcha/turnstile.ts'
import type { UseOnce } from '../captcha/types.ts'
import type { OpCaptchaOptions } from '../op/endpoints/interaction/captcha.ts'

/** The section as checked. */
export interface DevIdpCaptcha {
  readonly provider: 'turnstile' | 'hcaptcha' | 'recaptcha-v3'
  readonly siteKey: string
  /** Resolved: from `secret`, or the variable `secretEnv` names. */
  readonly secret: string
  /** Default: the issuer's host. */
  readonly hostnames?: readonly string[]
  /** Turnstile and reCAPTCHA v3 (default `login`). */
  readonly action?: string
  /** reCAPTCHA v3's minimum score. */
  readonly minScore?: number
  /** hCaptcha Enterprise's maximum risk score. */
  readonly maxScore?: number
  readonly when?: OpCaptchaOptions['when']
  readonly verifyUrl?: string
}

const KEYS = [
  'provider',
  'siteKey',
  'secret',
  'secretEnv',
  'hostnames',
  'action',
  'minScore',
  'maxScore',
  'when',
  'verifyUrl',
]
const PROVIDERS = ['turnstile', 'hcaptcha', 'recaptcha-v3'] as const

/**
 * Checks the section's shape (createOp and the verifier check the values); `fail` throws the
 * config file's error.
 */
export function checkCaptchaSection(
  raw: unknown,
  fail: (message: string) => never,
  env: Readonly<Record<string, string | undefined>> = process.env,
): DevIdpCaptcha {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('"captcha" must be an object')
  const section = raw as Record<string, unknown>
  for (const key of Object.keys(section))
    if (!KEYS.includes(key))
      fail(`"captcha.${key}" is not a known field (allowed: ${KEYS.join(', ')})`)
  const provider = section.provider
  if (!PROVIDERS.includes(provider as (typeof PROVIDERS)[number]))
    fail(`"captcha.provider" must be one of ${PROVIDERS.join(', ')}`)
  if (typeof section.siteKey !== 'string' || section.siteKey === '')
    fail('"captcha.siteKey" must be the widget\'s site key')
  if ((section.secret === undefined) === (section.secretEnv === undefined))
    fail('"captcha" needs exactly one of "secret" and "secretEnv"')
  let secret: unknown = section.secret
  if (section.secretEnv !== undefined) {
    if (
      typeof section.secretEnv !== 'string' ||
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(section.secretEnv)
    )
      fail('"captcha.secretEnv" must be the name of an environment variable')
    secret = env[section.secretEnv]
    if (secret === undefined || secret === '')
      fail(`"captcha.secretEnv": the environment variable ${section.secretEnv} is not set`)
  }
  if (typeof secret !== 'string' || secret === '') fail('"captcha.secret" must be a string')
  if (section.hostnames !== undefined && !Array.isArray(section.hostnames))
    fail('"captcha.hostnames" must be an array of host names')
  for (const key of ['minScore', 'maxScore'] as const)
    if (section[key] !== undefined && typeof section[key] !== 'number')
      fail(`"captcha.${key}" must be a number from 0 to 1`)
  for (const key of ['action', 'verifyUrl'] as const)
    if (section[key] !== undefined && typeof section[key] !== 'string')
      fail(`"captcha.${key}" must be a string`)
  const { secretEnv: _, ...rest } = section
  return { ...rest, secret } as unknown as DevIdpCaptcha
}

/**
 * `createOp`'s `captcha` for the section, on `issuer`, refusing replays through `useOnce` (the
 * OP store's).
 *
 * @example
 * ```ts
 * const captcha = captchaOptions(file.captcha, 'http://localhost:9000', store.useOnce.bind(store))
 * ```
 */
export function captchaOptions(
  section: DevIdpCaptcha,
  issuer: string,
  useOnce: UseOnce,
): OpCaptchaOptions {
  const common = {
    secret: section.secret,
    hostnames: section.hostnames ?? [new URL(issuer).hostname],
    useOnce,
    ...(section.verifyUrl === undefined ? {} : { verifyUrl: section.verifyUrl }),
  }
  const action = section.action ?? 'login'
  const verifier =
    section.provider === 'turnstile'
      ? turnstile({ ...common, action })
      : section.provider === 'hcaptcha'
        ? hcaptcha({
            ...common,
            siteKey: section.siteKey,
            ...(section.maxScore === undefined ? {} : { maxScore: section.maxScore }),
          })
        : recaptchaV3({
            ...common,
            action,
            ...(section.minScore === undefined ? {} : { minScore: section.minScore }),
          })
  return {
    verifier,
    siteKey: section.siteKey,
    ...(section.when === undefined ? {} : { when: section.when }),
  }
}
