/**
 * Every outbound call of the client goes through {@link httpRequest}: an injectable `fetch`, a
 * timeout that covers headers and body, a cap on the response size, no redirects followed, and
 * typed errors instead of hangs or raw exceptions.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { BodyTooLarge, readCapped } from '../core/read-capped.ts'

/** Options for outbound HTTP, shared by every call a flow makes. */
export interface HttpOptions {
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch
  /** Time limit for one call, headers and body, in milliseconds (default 10 000). */
  timeoutMs?: number
  /** Largest response body accepted, in bytes (default 1 MiB). */
  maxResponseBytes?: number
}

/** {@link HttpOptions} with every default filled in. */
export interface ResolvedHttpOptions {
  readonly fetch: typeof fetch
  readonly timeoutMs: number
  readonly maxResponseBytes: number
}

/** A fully read response. */
export interface HttpResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: Uint8Array
}

/**
 * Fills in defaults (global `fetch`, 10 s, 1 MiB) and checks the numbers.
 *
 * @example
 * ```ts
 * const http = resolveHttpOptions({ timeoutMs: 5000 })
 * ```
 */
export function resolveHttpOptions(options: HttpOptions = {}): ResolvedHttpOptions {
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxResponseBytes = options.maxResponseBytes ?? 1_048_576
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new AuthkestraError('config_invalid', '"timeoutMs" must be a positive integer')
  }
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    throw new AuthkestraError('config_invalid', '"maxResponseBytes" must be a positive integer')
  }
  const fetchImpl = options.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') {
    throw new AuthkestraError('config_invalid', '"fetch" must be a function')
  }
  return { fetch: fetchImpl, timeoutMs, maxResponseBytes }
}

async function readBody(response: Response, max: number, what: string): Promise<Uint8Array> {
  try {
    return await readCapped(response.body, response.headers, max)
  } catch (err) {
    if (err instanceof BodyTooLarge) throw tooLarge(what, max)
    throw err
  }
}

function tooLarge(what: string, max: number): AuthkestraError {
  return new AuthkestraError(
    'provider_response_too_large',
    `${what} response is larger than ${max} bytes`,
  )
}

/**
 * Sends one request and reads the whole body. `what` names the call in error messages
 * (`'token endpoint'`); the URL's query and the request body never appear in them.
 */
export async function httpRequest(
  url: string | URL,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  options: ResolvedHttpOptions,
  what: string,
): Promise<HttpResponse> {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, options.timeoutMs)
  const where = new URL(url).origin
  try {
    const send = () =>
      options.fetch(url, {
        method: init.method,
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body }),
        redirect: 'manual',
        signal: controller.signal,
      })
    let response: Response
    try {
      response = await send()
    } catch (cause) {
      // A reset before any response is most often a kept-alive connection that the server
      // closed while it sat idle, so it never read the request: it is sent once more, on a new
      // connection, within the same time budget. Should the server have read it after all, a
      // second code, refresh token, DPoP proof or client assertion is refused as a replay, never
      // honoured twice. Any other failure is final.
      if (timedOut || !staleConnection(cause)) throw failure(timedOut, what, where, cause)
      try {
        response = await send()
      } catch (again) {
        throw failure(timedOut, what, where, again)
      }
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => {})
      throw new AuthkestraError(
        'provider_bad_response',
        `${what} answered with a redirect (${response.status}); redirects are not followed`,
        { status: response.status },
      )
    }
    let body: Uint8Array
    try {
      body = await readBody(response, options.maxResponseBytes, what)
    } catch (cause) {
      if (cause instanceof AuthkestraError) throw cause
      throw failure(timedOut, what, where, cause)
    }
    return { status: response.status, headers: response.headers, body }
  } finally {
    clearTimeout(timer)
  }
}

function failure(timedOut: boolean, what: string, where: string, cause: unknown): AuthkestraError {
  return timedOut
    ? new AuthkestraError('provider_timeout', `${what} at ${where} did not answer in time`, {
        cause,
      })
    : new AuthkestraError(
        'provider_unreachable',
        `${what} at ${where} could not be reached${networkCode(cause)}`,
        { cause },
      )
}

/** Codes of a connection that was closed under a request (not of a server that is down). */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])

function staleConnection(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && STALE_CONNECTION.has(code)) return true
  }
  return false
}

/**
 * The system or undici code of a network failure (`ECONNREFUSED`, `UND_ERR_SOCKET`, …), found
 * on the error or its cause, as ` (CODE)`; empty when there is none. Codes name no secrets.
 */
function networkCode(error: unknown): string {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return ` (${code})`
  }
  return ''
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses a JSON object body. Anything else (invalid UTF-8, invalid JSON, an array, a string)
 * is `provider_bad_response`.
 */
export function parseJsonObject(response: HttpResponse, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(response.body))
  } catch {
    throw new AuthkestraError('provider_bad_response', `${what} response is not valid JSON`, {
      status: response.status,
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthkestraError('provider_bad_response', `${what} response is not a JSON object`, {
      status: response.status,
    })
  }
  return value as Record<string, unknown>
}
