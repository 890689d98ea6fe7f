/**
 * The public keys of a `private_key_jwt` client: its registered `jwks`, or the JWK Set at its
 * `jwks_uri`, fetched with a timeout and a size cap, cached, and refetched when an assertion
 * names a `kid` the cached set lacks — at most once per `minRefetchSeconds` per client, so a
 * stream of bogus `kid`s cannot make the OP hammer the client's server.
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { readCapped } from '../core/read-capped.ts'
import { PublicJwkSetError, publicKeysOf } from './client-jwks-parse.ts'
import type { ResolvedClientAssertion } from './client-keys.ts'
import type { OpLogger } from './config.ts'
import type { ClientRecord } from './store/types.ts'

type Jwk = Readonly<Record<string, unknown>> & { readonly kty: string }

interface Cached {
  keys: readonly Jwk[]
  fetchedAt: number
  /** A fetch in flight: concurrent requests share it. */
  pending?: Promise<readonly Jwk[]> | undefined
}

/** Where the assertion checks get a client's keys. */
export interface ClientKeySource {
  /**
   * The client's keys. With `refresh` (the assertion names a `kid` not among them), a
   * `jwks_uri` set is fetched again unless it was fetched within `minRefetchSeconds`.
   */
  keysOf(client: ClientRecord, refresh?: boolean): Promise<readonly Jwk[]>
}

/** Most clients whose fetched sets are kept; past it, the oldest is dropped. */
const MAX_CLIENTS = 1000

/**
 * A key source over the clients' `jwks` and `jwks_uri`. A failed fetch is logged (never with
 * the document) and yields no keys, so the assertion fails as `invalid_client`.
 *
 * @example
 * ```ts
 * const source = createClientKeySource(resolveClientAssertion(undefined), { clock, logger })
 * const keys = await source.keysOf(client)
 * ```
 */
export function createClientKeySource(
  options: ResolvedClientAssertion,
  deps: { clock: Clock; logger: OpLogger },
): ClientKeySource {
  const cache = new Map<string, Cached>()
  const { timeoutMs, maxBytes, cacheSeconds, minRefetchSeconds } = options.jwksUri

  async function download(client: ClientRecord, uri: string): Promise<readonly Jwk[]> {
    try {
      const response = await options.fetch(uri, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      })
      const bytes = await readCapped(response.body, response.headers, maxBytes)
      if (response.status !== 200) throw new PublicJwkSetError(`answered ${response.status}`)
      return publicKeysOf(new TextDecoder().decode(bytes))
    } catch (err) {
      const why = err instanceof PublicJwkSetError ? err.message : errorName(err)
      deps.logger.warn(`client "${client.clientId}": jwks_uri not usable (${why})`)
      return []
    }
  }

  function fetchInto(client: ClientRecord, uri: string, entry: Cached): Promise<readonly Jwk[]> {
    entry.pending ??= download(client, uri).then((keys) => {
      entry.keys = keys
      entry.fetchedAt = deps.clock.now()
      entry.pending = undefined
      return keys
    })
    return entry.pending
  }

  return {
    async keysOf(client, refresh = false) {
      if (client.jwks) return client.jwks.keys
      const uri = client.jwksUri
      if (uri === undefined) return []
      const id = `${client.clientId}\u0000${uri}`
      let entry = cache.get(id)
      if (!entry) {
        if (cache.size >= MAX_CLIENTS) cache.delete(cache.keys().next().value as string)
        entry = { keys: [], fetchedAt: Number.NEGATIVE_INFINITY }
        cache.set(id, entry)
        return fetchInto(client, uri, entry)
      }
      const age = deps.clock.now() - entry.fetchedAt
      if (entry.pending) return entry.pending
      if (age > cacheSeconds * 1000 || (refresh && age >= minRefetchSeconds * 1000))
        return fetchInto(client, uri, entry)
      return entry.keys
    },
  }
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name === 'Error' ? 'fetch failed' : err.name
  return 'fetch failed'
}
