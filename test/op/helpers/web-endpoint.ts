// The OP's endpoints take its own request shape and answer its own response shape; the endpoint
// tests speak Web Request/Response, as op.handler does. This wraps an endpoint the same way.
import {
  fromWebRequest,
  type OpRequest,
  type OpResponse,
  toWebResponse,
} from '../../../src/op/http/message.ts'

export function web<Deps>(
  endpoint: (request: OpRequest, deps: Deps) => Promise<OpResponse>,
): (request: Request, deps: Deps) => Promise<Response> {
  return async (request, deps) => toWebResponse(await endpoint(fromWebRequest(request), deps))
}
