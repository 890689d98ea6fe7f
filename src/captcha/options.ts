/**
 * The options every verifier takes, checked once when it is made (`config_invalid` /
 * `insecure_url` naming the field, never its value), and their resolved form.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { UseOnce } from './types.ts'

/** Options shared by `turnstile`, `hcaptcha` and `recaptchaV3`. */
export interface CaptchaVerifierOptions {
  /** The secret key of the widget (server side only; never logged, never in an error). */
  readonly secret: string
  /**
   * The hosts the widget is served on (`login.example.com`); a token solved elsewhere is
   * refused. `'any-unsafe'` skips the check (only when the provider's dashboard restricts it).
   */
  readonly hostnames: readonly string[] | 'any-unsafe'
  /** How old a solved challenge may be, seconds (default and most: the provider's token life). */
  readonly maxAgeSeconds?: number
  /** Time limit of one siteverify call, milliseconds (default 3000). */
  readonly timeoutMs?: number
  /** Largest siteverify answer accepted, bytes (default 16 KiB). */
  readonly maxResponseBytes?: number
  /**
   * Refuses a token seen before, locally, before siteverify is asked (`OpStore.useOnce` fits):
   * keyed by the SHA-256 of the token. Providers refuse reuse too; this also covers the window
   * in which their replicas have not yet converged.
   */
  readonly useOnce?: UseOnce
  /** The `fetch` to use (default the global one). */
  readonly fetch?: typeof fetch
  /** Another siteverify URL (a test double, a proxy): https, or http on a loopback host. */
  readonly verifyUrl?: string
  /** Allows an http `verifyUrl` on a host other than loopback: the secret would travel in clear. */
  readonly allowInsecureHttp?: boolean
  readonly clock?: Clock
}

/** {@link CaptchaVerifierOptions} checked, with defaults. */
export interface ResolvedCaptchaOptions {
  readonly secret: string
  readonly hostnames: ReadonlySet<string> | 'any-unsafe'
  readonly maxAgeSeconds: number
  readonly timeoutMs: number
  readonly maxResponseBytes: number
  readonly useOnce: UseOnce | undefined
  readonly fetch: typeof fetch
  readonly verifyUrl: string
  readonly clock: Clock
}

/** What a provider contributes to the defaults. */
export interface ProviderDefaults {
  readonly name: string
  readonly verifyUrl: string
  /** How long its tokens live, seconds. */
  readonly tokenLifetimeSeconds: number
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

function invalid(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

function positiveInteger(value: unknown, name: string, fallback: number, max?: number): number {
  const n = value ?? fallback
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || (max !== undefined && n > max))
    throw invalid(`"${name}" must be an integer from 1 to ${max ?? 'any size'}`)
  return n
}

function resolveHostnames(value: unknown, name: string): ResolvedCaptchaOptions['hostnames'] {
  if (value === 'any-unsafe') return value
  if (!Array.isArray(value) || value.length === 0)
    throw invalid(`${name}: "hostnames" must list the hosts the widget is served on`)
  const hosts = new Set<string>()
  for (const [i, host] of value.entries()) {
    if (typeof host !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(host))
      throw invalid(`${name}: "hostnames[${i}]" must be a host name (no scheme, no port)`)
    hosts.add(host.toLowerCase())
  }
  return hosts
}

function resolveVerifyUrl(value: unknown, fallback: string, insecureOk: boolean): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !URL.canParse(value))
    throw invalid('"verifyUrl" must be an absolute URL')
  const url = new URL(value)
  if (url.username !== '' || url.password !== '' || url.hash !== '')
    throw invalid('"verifyUrl" must not carry credentials or a fragment')
  if (url.protocol === 'https:') return url.href
  if (url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || insecureOk)) return url.href
  throw new AuthkestraError(
    'insecure_url',
    '"verifyUrl" must be https (http only on a loopback host, or with allowInsecureHttp)',
  )
}

/**
 * Checks the shared options of a verifier for provider `defaults.name`.
 *
 * @example
 * ```ts
 * const resolved = resolveCaptchaOptions(options, { name: 'turnstile', verifyUrl, tokenLifetimeSeconds: 300 })
 * ```
 */
export function resolveCaptchaOptions(
  options: CaptchaVerifierOptions,
  defaults: ProviderDefaults,
): ResolvedCaptchaOptions {
  if (typeof options !== 'object' || options === null)
    throw invalid(`${defaults.name}: options are required`)
  if (typeof options.secret !== 'string' || options.secret.trim() === '')
    throw invalid(`${defaults.name}: "secret" must be the widget's secret key`)
  if (options.useOnce !== undefined && typeof options.useOnce !== 'function')
    throw invalid('"useOnce" must be a function (id, ttlSeconds) => Promise<boolean>')
  const fetchImpl = options.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') throw invalid('"fetch" must be a function')
  if (options.allowInsecureHttp !== undefined && typeof options.allowInsecureHttp !== 'boolean')
    throw invalid('"allowInsecureHttp" must be a boolean')
  return {
    secret: options.secret,
    hostnames: resolveHostnames(options.hostnames, defaults.name),
    maxAgeSeconds: positiveInteger(
      options.maxAgeSeconds,
      'maxAgeSeconds',
      defaults.tokenLifetimeSeconds,
      defaults.tokenLifetimeSeconds,
    ),
    timeoutMs: positiveInteger(options.timeoutMs, 'timeoutMs', 3000, 60_000),
    maxResponseBytes: positiveInteger(
      options.maxResponseBytes,
      'maxResponseBytes',
      16_384,
      1_048_576,
    ),
    useOnce: options.useOnce,
    fetch: fetchImpl,
    verifyUrl: resolveVerifyUrl(
      options.verifyUrl,
      defaults.verifyUrl,
      options.allowInsecureHttp === true,
    ),
    clock: options.clock ?? systemClock,
  }
}
