// Compile-only assertions on the public types of the guards. `npm run typecheck` compiles this
// file; nothing runs it.
import {
  type ApiKeyMatch,
  anyOf,
  apiKey,
  apiKeyHashes,
  type BearerGuard,
  type BearerOptions,
  type BearerPrincipal,
  basic,
  bearer,
  type Guard,
  type GuardResult,
  type PrincipalOf,
  type ResourceMetadataEndpoint,
  type Session,
  type SessionAuthkestra,
  session,
} from '../src/index.ts'

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(): T => true as T

// bearer yields a BearerPrincipal with readonly scopes and an optional clientId
const api = bearer({ issuer: 'https://id.example', audience: 'https://api.example' })
assertType<Equals<typeof api, BearerGuard>>()
const asGuard: Guard<BearerPrincipal> = api
void asGuard
// RFC 9728: resourceMetadata stands in for audience and gives the guard its endpoint
const described = bearer({
  issuer: 'https://id.example',
  resourceMetadata: {
    resource: 'https://api.example',
    authorizationServers: ['https://id.example'],
  },
})
assertType<Equals<typeof described.metadata, ResourceMetadataEndpoint | undefined>>()
assertType<Equals<BearerPrincipal['scopes'], readonly string[]>>()
assertType<Equals<BearerPrincipal['subject'], string>>()
declare const who: BearerPrincipal
// @ts-expect-error clientId may be absent
const clientId: string = who.clientId
void clientId

// the three modes: discovery, jwksUri, secret
bearer({ jwksUri: 'https://id.example/jwks', issuer: 'https://id.example', audience: ['a', 'b'] })
bearer({ secret: new Uint8Array(32), issuer: 'billing', audience: 'api', algorithms: ['HS512'] })
bearer({ secret: ['new-secret', 'old-secret'], issuer: 'billing', audience: 'api' })
bearer({ issuer: 'https://id.example', audience: 'api', algorithms: ['ES256', 'EdDSA'] })
// @ts-expect-error alg none is not an algorithm
bearer({ issuer: 'https://id.example', audience: 'api', algorithms: ['none'] })
// @ts-expect-error HMAC needs the secret mode
bearer({ jwksUri: 'https://id.example/jwks', issuer: 'i', audience: 'a', algorithms: ['HS256'] })
// @ts-expect-error an asymmetric algorithm cannot verify with a shared secret
bearer({ secret: 'x', issuer: 'i', audience: 'a', algorithms: ['RS256'] })
// @ts-expect-error secret and jwksUri exclude each other
bearer({ secret: 'x', jwksUri: 'https://id.example/jwks', issuer: 'i', audience: 'a' })
// @ts-expect-error the secret mode fetches nothing
bearer({ secret: 'x', issuer: 'i', audience: 'a', fetch })
// @ts-expect-error audience is required
bearer({ issuer: 'https://id.example' })
// @ts-expect-error turning off typ takes the named value
bearer({ issuer: 'https://id.example', audience: 'a', typ: false })
const loose: BearerOptions = { issuer: 'i', audience: 'a', typ: 'any-unsafe', jwksUri: 'https://j' }
void loose

// apiKey and basic infer the principal from verify
const service = apiKey({ verify: async (key) => (key ? { service: 'billing' as const } : null) })
assertType<Equals<PrincipalOf<typeof service>, { service: 'billing' }>>()
const hashed = apiKey({ header: 'x-key', verify: apiKeyHashes(['0'.repeat(64)]) })
assertType<Equals<PrincipalOf<typeof hashed>, ApiKeyMatch>>()
const admin = basic({ realm: 'admin', verify: async (u, p) => (u && p ? { id: 1 } : null) })
assertType<Equals<PrincipalOf<typeof admin>, { id: number }>>()
// @ts-expect-error a boolean is not a principal (true/false cannot stand for a user)
apiKey({ verify: async (key) => key === 'x' })
// @ts-expect-error basic needs a realm
basic({ verify: async () => null })

// anyOf: the union of the principals
const either = anyOf(api, service, admin)
type Either = PrincipalOf<typeof either>
assertType<Equals<Either, BearerPrincipal | { service: 'billing' } | { id: number }>>()
declare const sessions: SessionAuthkestra<{ email: string }>
const userOrMachine = anyOf(session(sessions), api)
assertType<
  Equals<PrincipalOf<typeof userOrMachine>, Session<{ email: string }> | BearerPrincipal>
>()
declare const result: GuardResult<Either>
if (result.ok) {
  const p: Either = result.principal
  void p
}
// @ts-expect-error anyOf needs at least one guard
anyOf()
