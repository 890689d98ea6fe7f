/**
 * Reads a whole body, refusing more than a byte limit (a declared `Content-Length` over it is
 * refused before reading). Used for provider responses and for request bodies alike.
 *
 * @module
 */

/** The body was larger than allowed. */
export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge'
}

/**
 * The body's bytes, at most `max`; throws {@link BodyTooLarge} past it (the stream is cancelled).
 *
 * @example
 * ```ts
 * const bytes = await readCapped(response.body, response.headers, 1_048_576)
 * ```
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  headers: Headers,
  max: number,
): Promise<Uint8Array> {
  const declared = Number(headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) {
    await body?.cancel().catch(() => {})
    throw new BodyTooLarge()
  }
  if (!body) return new Uint8Array()
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw new BodyTooLarge()
    }
    chunks.push(value)
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** Whether a `Content-Type` is `application/x-www-form-urlencoded` (any parameters, `charset`). */
export function isFormContentType(type: string | null): boolean {
  return /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type ?? '')
}
