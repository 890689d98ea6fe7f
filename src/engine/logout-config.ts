/**
 * The start-up checks of the engine's routes a provider's registration names, one pass over the
 * flows:
 *
 * - `redirectUri` must point at this engine's `{basePath}/callback/{provider}`: the provider
 *   sends the user back there, and a login sent anywhere else would end in a 404 at the
 *   provider's return, a mistake that only shows once someone tries to sign in;
 * - `postLogoutRedirectUri` (RP-initiated logout) must point at this engine's
 *   `{basePath}/logout-callback/{provider}`: the provider sends the user back there, and nowhere
 *   else checks the state.
 * - `backchannelLogout` / `frontchannelLogout` need a session store that finds sessions by the
 *   provider's login or, in stateless mode, a revocation store (`jwt.revocations`).
 *
 * @module
 */
import type { OAuth2Flow } from '../client/oauth2-flow.ts'
import { configError } from './config.ts'
import type { SessionStore } from './sessions/types.ts'

/** Throws `config_invalid` naming the provider and the setting. */
export function checkProviderLogouts(
  flows: Iterable<OAuth2Flow>,
  basePath: string,
  store: SessionStore | undefined,
  statelessRevokes: boolean,
): void {
  for (const flow of flows) {
    const callback = `${basePath}/callback/${flow.id}`
    if (flow.redirectUri === undefined || pathOf(flow.redirectUri) !== callback)
      throw configError(
        `provider "${flow.id}": "redirectUri" must point at ${callback} (the engine's callback route), not ${flow.redirectUri ?? 'nothing'}`,
      )
    const uri = flow.postLogoutRedirectUri
    const expected = `${basePath}/logout-callback/${flow.id}`
    if (uri !== undefined && new URL(uri).pathname !== expected)
      throw configError(`provider "${flow.id}": "postLogoutRedirectUri" must point at ${expected}`)
    const option = flow.backchannelLogout
      ? 'backchannelLogout'
      : flow.frontchannelLogout
        ? 'frontchannelLogout'
        : undefined
    if (option === undefined) continue
    if (!store) {
      if (statelessRevokes) continue
      throw configError(
        `provider "${flow.id}": "${option}" needs a revocation store ("jwt.revocations") in stateless mode`,
      )
    }
    if (!store.deleteByProviderSession || !store.deleteByProviderSubject)
      throw configError(
        `provider "${flow.id}": "${option}" needs a session store with deleteByProviderSession and deleteByProviderSubject`,
      )
  }
}

/** The path of an absolute URL, or undefined. */
function pathOf(uri: string): string | undefined {
  try {
    return new URL(uri).pathname
  } catch {
    return undefined
  }
}
