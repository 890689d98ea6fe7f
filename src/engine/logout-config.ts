/**
 * The start-up checks of the logouts a provider can be set up for, one pass over the flows:
 *
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
