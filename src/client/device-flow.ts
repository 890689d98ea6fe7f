/**
 * `DeviceFlow`: the Device Authorization Grant (RFC 8628) for CLIs, TVs and anything without a
 * browser. `start()` asks for the codes; show `userCode` and `verificationUri` (or a QR code of
 * `verificationUriComplete`) to the person; `poll()` waits for their answer on their own device:
 *
 * - it sleeps `interval` seconds between polls on a timer (never blocking the event loop), and
 *   5 s longer for good after each `slow_down` (§3.5);
 * - on a network failure or a timeout it waits twice as long before the next poll (§3.5), up to
 *   a minute;
 * - the person's refusal is `device_access_denied`, the codes' end `device_code_expired` (also
 *   without asking, once the next poll would come after `expires_in`);
 * - an `AbortSignal` stops it at once, rejecting with the signal's reason;
 * - with `openid`, the ID token is verified (signature, `iss`, `aud`, times, `at_hash`) and the
 *   identity built, as for a login through the browser.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { DeviceAuthorization } from './device-authorization.ts'
import type { Identity } from './identity.ts'
import { OAuth2Flow, type OAuth2FlowOptions } from './oauth2-flow.ts'
import type { ProviderConfig } from './provider-config.ts'
import type { TokenSet } from './tokens.ts'

export type { DeviceAuthorization } from './device-authorization.ts'

/** What a device login ends with: the tokens, and with `openid` the identity. */
export interface DeviceLoginResult {
  readonly tokens: TokenSet
  readonly identity?: Identity
}

/** Options of {@link DeviceFlow.poll}. */
export interface DevicePollOptions {
  /** Stops polling: `poll` rejects with the signal's reason. */
  readonly signal?: AbortSignal
  /** Told before each wait, e.g. to show a spinner or "still waiting" (`interval` in s). */
  readonly onWait?: (wait: { interval: number; reason: 'interval' | 'slow_down' | 'retry' }) => void
}

const MAX_RETRY_WAIT_S = 60

/** Waits `ms` on a timer (any runtime), or rejects with `signal`'s reason when it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * The device flow over one provider.
 *
 * @example
 * ```ts
 * const device = new DeviceFlow({ id: 'corp', issuer: 'https://id.example', clientId: 'cli' })
 * const started = await device.start({ scopes: ['openid', 'offline_access'] })
 * console.log(`Open ${started.verificationUri} and enter ${started.userCode}`)
 * const { tokens, identity } = await device.poll(started)
 * ```
 */
export class DeviceFlow {
  /** The underlying flow (refresh, revoke, userinfo through the same provider). */
  readonly flow: OAuth2Flow
  readonly #clock: Clock

  constructor(provider: ProviderConfig | OAuth2Flow, options: OAuth2FlowOptions = {}) {
    this.flow = provider instanceof OAuth2Flow ? provider : new OAuth2Flow(provider, options)
    this.#clock = options.clock ?? systemClock
  }

  /** Asks the provider for a device code and a user code (RFC 8628 §3.1). */
  start(options: { scopes?: readonly string[] } = {}): Promise<DeviceAuthorization> {
    return this.flow.startDeviceAuthorization(options)
  }

  /** Polls until the person answers, the codes expire, or `signal` aborts. */
  async poll(
    authorization: DeviceAuthorization,
    options: DevicePollOptions = {},
  ): Promise<DeviceLoginResult> {
    const { signal } = options
    let interval = authorization.interval
    let wait = interval
    let reason: 'interval' | 'slow_down' | 'retry' = 'interval'
    for (;;) {
      signal?.throwIfAborted()
      if (this.#clock.now() + wait * 1000 >= authorization.expiresAt)
        throw new AuthkestraError(
          'device_code_expired',
          'the device code expired before the person answered; start again',
        )
      options.onWait?.({ interval: wait, reason })
      await sleep(wait * 1000, signal)
      try {
        return await this.flow.redeemDeviceCode(authorization)
      } catch (err) {
        signal?.throwIfAborted()
        if (!(err instanceof AuthkestraError)) throw err
        if (err.code === 'provider_unreachable' || err.code === 'provider_timeout') {
          wait = Math.min(wait * 2, MAX_RETRY_WAIT_S)
          reason = 'retry'
          continue
        }
        if (err.code !== 'token_error') throw err
        switch (err.oauthError) {
          case 'authorization_pending':
            wait = interval
            reason = 'interval'
            continue
          case 'slow_down':
            interval += 5
            wait = interval
            reason = 'slow_down'
            continue
          case 'access_denied':
            throw new AuthkestraError('device_access_denied', 'the person denied the device', {
              oauthError: 'access_denied',
              ...(err.status === undefined ? {} : { status: err.status }),
            })
          case 'expired_token':
            throw new AuthkestraError(
              'device_code_expired',
              'the device code expired; start again',
              {
                oauthError: 'expired_token',
                ...(err.status === undefined ? {} : { status: err.status }),
              },
            )
          default:
            throw err
        }
      }
    }
  }
}
