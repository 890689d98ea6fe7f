/**
 * Options shared by every built-in provider: the app's registration and a few overrides.
 *
 * @module
 */
import type { ClientAuthMethod, ProviderConfig } from '../client/provider-config.ts'

/** Your app's registration at a provider. */
export interface ProviderOptions {
  /** Provider id in URLs, cookies and `identity.provider` (default: the provider's name). */
  readonly id?: string | undefined
  readonly clientId: string
  readonly clientSecret?: string | undefined
  /** The callback URL registered at the provider. */
  readonly redirectUri: string
  /** Scopes to ask for (default: enough for a profile and a verified email). */
  readonly scopes?: readonly string[] | undefined
  /** `private_key_jwt`: the key client assertions are signed with (see `ProviderConfig`). */
  readonly clientPrivateKey?: ProviderConfig['clientPrivateKey'] | undefined
  /** The `kid` of assertions signed with a `CryptoKey`. */
  readonly clientKeyId?: string | undefined
  /** Override the provider's default client authentication. */
  readonly clientAuthMethod?: ClientAuthMethod | undefined
  /** Audiences besides `clientId` an ID token may name (default none; OIDC Core §3.1.3.7). */
  readonly trustedAudiences?: readonly string[] | undefined
  /**
   * The `post_logout_redirect_uri` registered at the provider: the engine's logout then also
   * ends the provider's session (RP-Initiated Logout, when the provider supports it).
   */
  readonly postLogoutRedirectUri?: string | undefined
  /** The app registered `{basePath}/backchannel-logout/{id}` at the provider (Back-Channel Logout). */
  readonly backchannelLogout?: boolean | undefined
  /** The app registered `{basePath}/frontchannel-logout/{id}` at the provider (Front-Channel Logout). */
  readonly frontchannelLogout?: boolean | undefined
  /** DPoP-bound tokens (RFC 9449), for a provider that supports them (see `ProviderConfig.dpop`). */
  readonly dpop?: ProviderConfig['dpop'] | undefined
  /** Pushed Authorization Requests (RFC 9126; see `ProviderConfig.par`): default when offered. */
  readonly par?: boolean | undefined
  /** `'fapi2'`: the FAPI 2.0 Security Profile (see `ProviderConfig.securityProfile`). */
  readonly securityProfile?: ProviderConfig['securityProfile'] | undefined
  /** RFC 8707: the API(s) the login's access token is for (see `ProviderConfig.resource`). */
  readonly resource?: ProviderConfig['resource'] | undefined
}

/** The registration fields copied onto the provider when set. */
const OPTIONAL = [
  'clientSecret',
  'clientPrivateKey',
  'clientKeyId',
  'scopes',
  'clientAuthMethod',
  'trustedAudiences',
  'postLogoutRedirectUri',
  'backchannelLogout',
  'frontchannelLogout',
  'dpop',
  'par',
  'securityProfile',
  'resource',
] as const

type Registration = Pick<ProviderConfig, 'clientId' | 'redirectUri'> &
  Partial<Pick<ProviderConfig, (typeof OPTIONAL)[number]>>

/** The registration part of a {@link ProviderConfig}, with only the options that are set. */
export function registration(options: ProviderOptions): Registration {
  const out: Record<string, unknown> = {
    clientId: options.clientId,
    redirectUri: options.redirectUri,
  }
  for (const key of OPTIONAL) if (options[key] !== undefined) out[key] = options[key]
  return out as Registration
}
