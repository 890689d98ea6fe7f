/**
 * The interaction API for an app-hosted login page (`interactionUrl`): `details` tells the page
 * which client asks for what, `finish` ends the interaction with the user's sign-in (or an error)
 * and answers the redirect to send. The page protects its own form against CSRF.
 *
 * @module
 */
import { AuthkestraError } from '../../../core/errors.ts'
import {
  fromWebRequest,
  type OpRequest,
  type OpResponse,
  toWebResponse,
} from '../../http/message.ts'
import type { OpRuntime } from '../../setup.ts'
import { consentNeeded } from './begin.ts'
import {
  bindInteraction,
  boundInteraction,
  completeInteraction,
  decline,
  rememberConsent,
} from './index.ts'
import { claimInteraction } from './sealed.ts'
import { startSession } from './session.ts'

/** What an app-hosted login page learns about the interaction it is serving. */
export interface InteractionDetails {
  readonly uid: string
  readonly clientId: string
  readonly clientName: string
  readonly scopes: readonly string[]
  readonly prompt: readonly string[]
  readonly loginHint: string | undefined
  /** The user already signed in at the OP (a session that satisfies prompt/max_age), if any. */
  readonly accountId: string | undefined
  /** Whether `finish` must be given the user's consent (`grantedScopes`). */
  readonly consentRequired: boolean
  /** The `acr` levels the client asked for, in order of preference (OIDC Core §3.1.2.1). */
  readonly acrValues: readonly string[]
}

/**
 * How an app-hosted login page ends the interaction: the user who signed in, with the scopes they
 * agreed to when consent is required; or an error (`login_required` only for `prompt=none`).
 */
export type InteractionResult =
  | {
      readonly sub: string
      readonly grantedScopes?: readonly string[]
      /**
       * How the user authenticated (RFC 8176 values: `pwd`, `otp`, `hwk`, `swk`, `mfa`, …): the
       * tokens' `amr`, and their `acr` from it. Omitted: no `amr` or `acr` in the tokens.
       */
      readonly amr?: readonly string[]
    }
  | { readonly error: 'access_denied' | 'login_required' }

async function details(
  webRequest: Request,
  runtime: OpRuntime,
): Promise<InteractionDetails | undefined> {
  const request = fromWebRequest(webRequest)
  const uid = request.url.searchParams.get('uid') ?? ''
  const record = await boundInteraction(uid, request, runtime)
  if (!record) return undefined
  const client = await runtime.store.get('client', record.request.clientId)
  return {
    uid,
    clientId: record.request.clientId,
    clientName: client?.name ?? record.request.clientId,
    scopes: record.request.scopes,
    prompt: record.request.prompt,
    loginHint: record.request.loginHint,
    accountId: record.accountId,
    consentRequired: client
      ? await consentNeeded(record.request, record.accountId, client, runtime.store)
      : true,
    acrValues: record.request.acrValues ?? [],
  }
}

/**
 * The interaction `finish` ends: bound to this browser, and claimed if it was only sealed so far
 * (`sealed.ts`), so a copy of its cookie cannot finish it a second time.
 */
async function claimed(uid: string, request: OpRequest, runtime: OpRuntime) {
  const bound = await bindInteraction(uid, request, runtime)
  return bound?.sealed ? claimInteraction(uid, bound.record, runtime) : bound?.record
}

async function finish(
  request: OpRequest,
  result: InteractionResult,
  runtime: OpRuntime,
): Promise<OpResponse> {
  const uid = request.url.searchParams.get('uid') ?? ''
  const record = await claimed(uid, request, runtime)
  if (!record) throw new AuthkestraError('config_invalid', 'no live interaction for this request')
  if ('error' in result) {
    if (result.error === 'login_required' && !record.request.prompt.includes('none')) {
      throw new AuthkestraError(
        'config_invalid',
        '"login_required" is only for prompt=none requests',
      )
    }
    return decline(uid, record, result.error, runtime)
  }
  if (typeof result.sub !== 'string' || result.sub === '') {
    throw new AuthkestraError('config_invalid', '"sub" must be a non-empty string')
  }
  const amr = result.amr
  if (
    amr !== undefined &&
    (!Array.isArray(amr) || amr.length > 10 || !amr.every((m) => /^[a-z]{2,16}$/.test(m)))
  )
    throw new AuthkestraError('config_invalid', '"amr" must list RFC 8176 method names')
  const client = await runtime.store.get('client', record.request.clientId)
  const signedIn = {
    ...record,
    accountId: result.sub,
    authTime: Math.floor(runtime.clock.now() / 1000),
    ...(amr === undefined ? {} : { amr: [...amr] }),
  }
  if (client && (await consentNeeded(record.request, result.sub, client, runtime.store))) {
    const granted = result.grantedScopes ?? []
    if (!record.request.scopes.every((s) => granted.includes(s))) {
      throw new AuthkestraError(
        'config_invalid',
        'this client needs the consent of the user: pass "grantedScopes"',
      )
    }
    await rememberConsent(signedIn, runtime)
  }
  const session = await startSession(
    request,
    {
      accountId: result.sub,
      authTime: signedIn.authTime,
      ...(amr === undefined ? {} : { amr: [...amr] }),
    },
    runtime,
  )
  return completeInteraction(uid, { ...signedIn, sid: session.sid }, runtime, [session.cookie])
}

/** The interaction API of one OP. */
export function appInteractions(runtime: OpRuntime): {
  details(request: Request): Promise<InteractionDetails | undefined>
  finish(request: Request, result: InteractionResult): Promise<Response>
} {
  return {
    details: (request) => details(request, runtime),
    finish: async (request, result) =>
      toWebResponse(await finish(fromWebRequest(request), result, runtime)),
  }
}
