/**
 * Reading request parameters: query for GET, `application/x-www-form-urlencoded` body for POST,
 * with a size cap, and each parameter at most once (RFC 6749 §3.1, §3.2).
 *
 * @module
 */
import { BodyTooLarge, isFormContentType } from '../../core/read-capped.ts'
import { invalidRequest, OAuthProblem } from '../errors.ts'
import type { OpRequest } from './message.ts'

/** Largest form body or query accepted, in bytes. */
export const MAX_PARAMS_BYTES = 16_384
/** Longest single parameter value accepted. */
export const MAX_VALUE_LENGTH = 4096

/** Parameters of one request, each read at most once. */
export class Params {
  constructor(readonly raw: URLSearchParams) {}

  /** The value of `name`; `invalid_request` when it appears more than once or is too long. */
  get(name: string): string | undefined {
    const all = this.raw.getAll(name)
    if (all.length > 1) throw invalidRequest(`"${name}" must not appear more than once`)
    const value = all[0]
    if (value !== undefined && value.length > MAX_VALUE_LENGTH) {
      throw invalidRequest(`"${name}" is too long`)
    }
    return value === '' ? undefined : value
  }

  /** The value of `name`, or `invalid_request` when missing. */
  require(name: string): string {
    const value = this.get(name)
    if (value === undefined) throw invalidRequest(`"${name}" is required`)
    return value
  }
}

async function readBody(request: OpRequest): Promise<string> {
  let bytes: Uint8Array
  try {
    bytes = await request.body(MAX_PARAMS_BYTES)
  } catch (err) {
    if (err instanceof BodyTooLarge)
      throw new OAuthProblem('invalid_request', 'request body is too large', 413)
    throw err
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw invalidRequest('request body is not valid UTF-8')
  }
}

/** True when the request's content type is a form (any charset parameter). */
export function isForm(request: OpRequest): boolean {
  return isFormContentType(request.headers.get('content-type'))
}

/**
 * Parameters of a GET (query) or POST (form body) request. Other methods and other content
 * types are `invalid_request` (405 / 400).
 */
export async function readParams(
  request: OpRequest,
  methods: readonly ('GET' | 'POST')[],
): Promise<Params> {
  if (!methods.includes(request.method as 'GET' | 'POST')) {
    throw new OAuthProblem('invalid_request', `method must be ${methods.join(' or ')}`, 405, {
      allow: methods.join(', '),
    })
  }
  if (request.method === 'GET') {
    const { url } = request
    if (url.search.length > MAX_PARAMS_BYTES) throw invalidRequest('query is too long')
    return new Params(url.searchParams)
  }
  if (!isForm(request))
    throw invalidRequest('content type must be application/x-www-form-urlencoded')
  return new Params(new URLSearchParams(await readBody(request)))
}
