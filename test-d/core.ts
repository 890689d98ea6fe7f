// Compile-only assertions on the public types of authkestra/core and authkestra/client.
// `npm run typecheck` compiles this file; nothing runs it.
import type {
  FlowState,
  Identity,
  OAuth2Flow,
  ProviderConfig,
  TokenSet,
} from '../src/client/index.ts'
import {
  type AuthkestraError,
  type AuthkestraErrorCode,
  Pkce,
  type PkcePair,
} from '../src/core/index.ts'
import { github } from '../src/providers/index.ts'

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(): T => true as T

// Pkce.generate resolves to a pair whose method is the literal 'S256'
declare const pair: Awaited<ReturnType<typeof Pkce.generate>>
assertType<Equals<typeof pair, PkcePair>>()
assertType<Equals<PkcePair['codeChallengeMethod'], 'S256'>>()

// error codes are a closed union: switching narrows, unknown codes do not compile
declare const err: AuthkestraError
assertType<Equals<typeof err.code, AuthkestraErrorCode>>()
// @ts-expect-error not a code
const notACode: AuthkestraErrorCode = 'some_random_code'
void notACode

// Pkce.verify's method is 'S256' | 'plain' only
// @ts-expect-error unknown method
void Pkce.verify('v', 'c', 'S512')

// the unsafe PKCE switch takes only the named value
const unsafe: ProviderConfig = {
  id: 'x',
  clientId: 'c',
  redirectUri: 'https://a/cb',
  issuer: 'https://i',
  pkce: 'disabled-unsafe',
}
void unsafe
// @ts-expect-error a bare false cannot turn PKCE off
const off: ProviderConfig = { id: 'x', clientId: 'c', redirectUri: 'https://a/cb', pkce: false }
void off

// a provider needs a client id and a redirect URI
// @ts-expect-error clientId missing
github({ redirectUri: 'https://a/cb' })

// finalizeLogin yields a normalized identity and a token set
declare const flow: OAuth2Flow
declare const flowState: FlowState
type Result = Awaited<ReturnType<typeof flow.finalizeLogin>>
assertType<Equals<Result['identity'], Identity>>()
assertType<Equals<Result['tokens'], TokenSet>>()
assertType<Equals<Identity['email'], string | null>>()
assertType<Equals<TokenSet['tokenType'], 'Bearer' | 'DPoP'>>()
void flowState
