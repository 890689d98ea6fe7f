// Generators shared by the fuzz suites: raw query strings and form bodies (duplicated keys,
// unicode, very long values, invalid percent-encoding, invalid UTF-8), header sets (content-type
// variants, authorization schemes, cookies) and methods, assembled into Requests.
import fc from 'fast-check'

/** Runs per property: `FUZZ_RUNS` (npm run fuzz sets 5000), 100 by default. */
export const NUM_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 100))

// a failing property reports the assertion that failed, next to its seed and counterexample
fc.configureGlobal({ includeErrorInReport: true })

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const

/** A few characters that stress parsers: separators, encodings, controls, astral and lone surrogates. */
const TRICKY = [
  '%',
  '%zz',
  '%E0%A4',
  '%C0%AF',
  '%00',
  '%FF%FE',
  '+',
  '=',
  '&',
  ';',
  ' ',
  '\u0000',
  '\r\n',
  '\uD83D',
  '\uD83D\uDE00',
  'é',
  '\u202E',
  '..',
  '/',
  '\\',
  '//evil.example',
  'https://evil.example/cb',
  'javascript:alert(1)',
] as const

/** A value: pool entries, random text, tricky fragments, or something very long. */
export function valueArb(pool: readonly string[] = []): fc.Arbitrary<string> {
  const parts: fc.Arbitrary<string>[] = [
    fc.string({ maxLength: 40 }),
    fc.string({ maxLength: 40, unit: 'grapheme' }),
    fc.string({ maxLength: 20, unit: 'binary' }),
    fc.array(fc.constantFrom(...TRICKY), { maxLength: 4 }).map((a) => a.join('')),
    fc
      .tuple(fc.constantFrom('a', '%', 'é', '\u{1F600}'), fc.constantFrom(4097, 5000, 20_000))
      .map(([c, n]) => c.repeat(n)),
  ]
  if (pool.length > 0) parts.push(fc.constantFrom(...pool), fc.constantFrom(...pool))
  return fc.oneof(...parts)
}

/** How a key/value is written into the raw string: encoded, raw, or half-broken. */
const encodingArb = fc.constantFrom('encode', 'raw', 'raw', 'broken')

function encode(value: string, how: string): string {
  if (how === 'raw') return value
  let enc: string
  try {
    enc = encodeURIComponent(value)
  } catch {
    return value // lone surrogate: send it raw
  }
  return how === 'broken' ? `${enc}%${enc.length % 2 === 0 ? 'G' : ''}` : enc
}

/** A raw `a=b&c=d` string from keys/values, with duplicates and odd separators. */
export function rawPairsArb(
  keys: readonly string[],
  values: readonly string[] = [],
): fc.Arbitrary<string> {
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  )
  const pair = fc
    .tuple(key, valueArb(values), encodingArb, fc.constantFrom('=', '=', '', '=='))
    .map(
      ([k, v, how, eq]) => `${encode(k, how === 'broken' ? 'encode' : how)}${eq}${encode(v, how)}`,
    )
  return fc
    .tuple(
      fc.array(pair, { maxLength: 8 }),
      fc.constantFrom('&', '&', '&', ';', '&&'),
      fc.boolean(),
    )
    .chain(([pairs, sep, dup]) =>
      dup && pairs.length > 0
        ? fc.constant([...pairs, pairs[0] as string].join(sep))
        : fc.constant(pairs.join(sep)),
    )
}

/** A body: raw text, a form string, or bytes that are not UTF-8. */
export function bodyArb(form: fc.Arbitrary<string>): fc.Arbitrary<string | Uint8Array | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: form },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constantFrom('x='.padEnd(17_000, 'a'), '{"grant_type":"x"}', '') },
  )
}

export const contentTypeArb = fc.constantFrom(
  undefined,
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'APPLICATION/X-WWW-FORM-URLENCODED;charset=ISO-8859-1',
  'application/x-www-form-urlencodedx',
  'application/json',
  'multipart/form-data; boundary=xyz',
  'text/plain',
  '',
)

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

/** Authorization header values in many schemes, with known ids/secrets/tokens mixed in. */
export function authorizationArb(
  ids: readonly string[],
  tokens: readonly string[],
): fc.Arbitrary<string | undefined> {
  const text = valueArb(tokens)
  return fc.oneof(
    fc.constant(undefined),
    fc
      .tuple(fc.constantFrom('Basic ', 'basic ', 'BASIC  '), fc.constantFrom(...ids), text)
      .map(([s, id, secret]) => `${s}${b64(`${id}:${secret}`)}`),
    fc.tuple(fc.constantFrom('Basic ', 'Basic'), text).map(([s, t]) => s + t),
    fc
      .tuple(fc.constantFrom('Bearer ', 'bearer ', 'DPoP ', 'Bearer', 'MAC '), text)
      .map(([s, t]) => s + t),
    text,
  )
}

/** A Cookie header made of forged name=value pairs. */
export function cookieArb(
  names: readonly string[],
  values: readonly string[],
): fc.Arbitrary<string | undefined> {
  const pair = fc
    .tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })), valueArb(values))
    .map(([n, v]) => `${n}=${v}`)
  return fc.option(
    fc.array(pair, { minLength: 1, maxLength: 5 }).map((p) => p.join('; ')),
    { nil: undefined },
  )
}

/** What a fuzzed request is made of. */
export interface RawRequest {
  method: string
  path: string
  query: string
  body: string | Uint8Array | undefined
  headers: Record<string, string | undefined>
}

/**
 * The Request, or undefined when fetch itself would refuse to build it. A header fetch would not
 * send (bytes outside Latin-1, NUL, CR/LF) is dropped from `raw`, so the request still goes out.
 */
export function buildRequest(origin: string, raw: RawRequest): Request | undefined {
  try {
    const headers = new Headers()
    for (const [name, value] of Object.entries(raw.headers)) {
      if (value === undefined) continue
      try {
        headers.append(name, value)
      } catch {
        raw.headers[name] = undefined
      }
    }
    const body =
      raw.method === 'GET' || raw.method === 'HEAD' || raw.body === undefined
        ? undefined
        : typeof raw.body === 'string'
          ? raw.body
          : new Uint8Array(raw.body)
    return new Request(`${origin}${raw.path}${raw.query === '' ? '' : `?${raw.query}`}`, {
      method: raw.method,
      headers,
      ...(body === undefined ? {} : { body }),
    })
  } catch {
    return undefined
  }
}

/** Everything the request carried, as text (raw and decoded), to tell an echo from a leak. */
export function requestText(raw: RawRequest): string {
  const body =
    raw.body === undefined
      ? ''
      : typeof raw.body === 'string'
        ? raw.body
        : Buffer.from(raw.body).toString('latin1')
  const decoded = [raw.query, body].flatMap((s) => [...new URLSearchParams(s)].flat())
  const basic = Object.values(raw.headers).flatMap((v) => {
    const m = /^basic\s*(.*)$/i.exec(v ?? '')
    return m ? [Buffer.from(m[1] ?? '', 'base64').toString('utf8')] : []
  })
  return [raw.path, raw.query, body, ...decoded, ...basic, ...Object.values(raw.headers)].join('\n')
}
