/**
 * The one call every provider's verification makes: a form-encoded POST to its siteverify URL,
 * bounded in time and size, no redirects followed, answering a parsed JSON object or why not.
 * Nothing here ever throws: every way it can go wrong is a value the checks turn into
 * `captcha_unavailable`.
 *
 * @module
 */
import { BodyTooLarge, readCapped } from '../core/read-capped.ts'

/** How siteverify is called. */
export interface SiteverifyCall {
  readonly url: string
  readonly fetch: typeof fetch
  readonly timeoutMs: number
  readonly maxResponseBytes: number
}

/** A parsed answer, or a sentence saying why there is none (no body text in it). */
export type SiteverifyAnswer =
  | { readonly ok: true; readonly body: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly detail: string }

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * POSTs `form` (`application/x-www-form-urlencoded`, as every provider documents) and reads the
 * answer: HTTP 200, at most `maxResponseBytes`, valid UTF-8 JSON, an object. The timeout covers
 * the headers and the body; `signal` may cancel sooner.
 *
 * @example
 * ```ts
 * const answer = await postSiteverify(call, new URLSearchParams({ secret, response: token }))
 * ```
 */
export async function postSiteverify(
  call: SiteverifyCall,
  form: URLSearchParams,
  signal?: AbortSignal,
): Promise<SiteverifyAnswer> {
  const timeout = AbortSignal.timeout(call.timeoutMs)
  const abort = signal === undefined ? timeout : AbortSignal.any([timeout, signal])
  const where = new URL(call.url).origin
  let response: Response
  try {
    response = await call.fetch(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      redirect: 'manual',
      signal: abort,
    })
  } catch {
    return { ok: false, detail: unreachable(where, timeout.aborted) }
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {})
    return { ok: false, detail: `siteverify at ${where} answered HTTP ${response.status}` }
  }
  let bytes: Uint8Array
  try {
    bytes = await readCapped(response.body, response.headers, call.maxResponseBytes)
  } catch (err) {
    if (err instanceof BodyTooLarge)
      return {
        ok: false,
        detail: `siteverify at ${where} answered more than ${call.maxResponseBytes} bytes`,
      }
    return { ok: false, detail: unreachable(where, timeout.aborted) }
  }
  return parseObject(bytes, where)
}

function unreachable(where: string, timedOut: boolean): string {
  return timedOut
    ? `siteverify at ${where} did not answer in time`
    : `siteverify at ${where} could not be reached`
}

function parseObject(bytes: Uint8Array, where: string): SiteverifyAnswer {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(bytes))
  } catch {
    return { ok: false, detail: `siteverify at ${where} answered something other than JSON` }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, detail: `siteverify at ${where} answered JSON that is not an object` }
  return { ok: true, body: parsed as Record<string, unknown> }
}
