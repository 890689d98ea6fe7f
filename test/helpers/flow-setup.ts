// One fake OP and one OAuth2Flow pointed at it, the starting point of most client unit tests.

import type { LoginResult } from '../../src/client/oauth2-flow.ts'
import { OAuth2Flow, type OAuth2FlowOptions } from '../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../src/client/provider-config.ts'
import {
  CLIENT_ID,
  CLIENT_SECRET,
  createFakeOp,
  type FakeOp,
  type FakeOpOptions,
  ISSUER,
  REDIRECT_URI,
} from './fake-op.ts'

/** The provider config every client test starts from (discovery at the fake OP). */
export const FAKE_PROVIDER: ProviderConfig = {
  id: 'fake',
  issuer: ISSUER,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: REDIRECT_URI,
}

/**
 * A fake OP and a flow using it. `config` patches the provider config (a key set to undefined
 * removes it); `wrapFetch` lets a test intercept the OP's fetch.
 */
export async function setup(
  opOptions: FakeOpOptions = {},
  config: Readonly<Record<string, unknown>> = {},
  flowOptions: OAuth2FlowOptions = {},
  wrapFetch: (fetch: typeof globalThis.fetch) => typeof globalThis.fetch = (f) => f,
): Promise<{ op: FakeOp; flow: OAuth2Flow }> {
  const op = await createFakeOp(opOptions)
  const merged = Object.fromEntries(
    Object.entries({ ...FAKE_PROVIDER, ...config }).filter(([, v]) => v !== undefined),
  ) as unknown as ProviderConfig
  const flow = new OAuth2Flow(merged, { fetch: wrapFetch(op.fetch), ...flowOptions })
  return { op, flow }
}

/** A whole login: initiate, let the fake user approve, finalize. */
export async function login(op: FakeOp, flow: OAuth2Flow): Promise<LoginResult> {
  const { url, flowState } = await flow.initiateLogin()
  return flow.finalizeLogin(await op.authorize(url), flowState)
}
