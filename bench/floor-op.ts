// The floor of the OP benchmark: the smallest correct OP for the benchmark's login, on bare
// `node:http` with synchronous `node:crypto`, written for speed and nothing else. It still does
// what a login must: exact client and redirect URI, PKCE S256 checked in constant time, a
// single-use code that expires, `state` and `iss` on the redirect, and an ES256 access token and
// ID token (with `at_hash`) signed per login. No consent, no sessions, no store, no extensibility:
// what our OP costs above this is the price of being a real OP.
import { createHash, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FloorInfo {
  issuer: string
  authorize: string
  token: string
}

/** Starts the floor OP on 127.0.0.1:0 for `clientId` and `redirectUri`. */
export async function serveFloor(clientId: string, redirectUri: string): Promise<FloorInfo> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const b64 = (text: string) => Buffer.from(text).toString('base64url')
  const header = (typ: string) => b64(JSON.stringify({ alg: 'ES256', kid: 'floor', typ }))
  const [atHeader, idHeader] = [header('at+jwt'), header('JWT')]
  const jwt = (head: string, claims: object) => {
    const input = `${head}.${b64(JSON.stringify(claims))}`
    const signature = sign('sha256', Buffer.from(input), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    })
    return `${input}.${signature.toString('base64url')}`
  }
  const codes = new Map<string, { challenge: string; expiresAt: number }>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const q = url.searchParams
      if (
        q.get('response_type') !== 'code' ||
        q.get('client_id') !== clientId ||
        q.get('redirect_uri') !== redirectUri ||
        q.get('code_challenge_method') !== 'S256' ||
        !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')
      ) {
        res.writeHead(400).end()
        return
      }
      const code = randomBytes(32).toString('base64url')
      codes.set(code, { challenge: q.get('code_challenge') ?? '', expiresAt: Date.now() + 60_000 })
      const to = new URL(redirectUri)
      to.searchParams.set('code', code)
      const state = q.get('state')
      if (state !== null) to.searchParams.set('state', state)
      to.searchParams.set('iss', issuer)
      res.writeHead(302, { location: to.href, 'cache-control': 'no-store' }).end()
      return
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => {
        body += chunk
      })
      req.on('end', () => {
        const form = new URLSearchParams(body)
        const code = form.get('code') ?? ''
        const record = codes.get(code)
        codes.delete(code)
        const verifier = form.get('code_verifier') ?? ''
        const computed = createHash('sha256').update(verifier).digest()
        const expected = Buffer.from(record?.challenge ?? '', 'base64url')
        if (
          form.get('grant_type') !== 'authorization_code' ||
          form.get('client_id') !== clientId ||
          form.get('redirect_uri') !== redirectUri ||
          !record ||
          record.expiresAt <= Date.now() ||
          expected.length !== 32 ||
          !timingSafeEqual(computed, expected)
        ) {
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end('{"error":"invalid_grant"}')
          return
        }
        const iat = Math.floor(Date.now() / 1000)
        const common = { iss: issuer, sub: 'alice', iat, exp: iat + 600 }
        const accessToken = jwt(atHeader, {
          ...common,
          aud: issuer,
          client_id: clientId,
          scope: 'openid',
          jti: randomBytes(16).toString('base64url'),
        })
        const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16)
        const idToken = jwt(idHeader, {
          ...common,
          aud: clientId,
          azp: clientId,
          auth_time: iat,
          at_hash: atHash.toString('base64url'),
        })
        const json = JSON.stringify({
          access_token: accessToken,
          token_type: 'Bearer',
          expires_in: 600,
          id_token: idToken,
          scope: 'openid',
        })
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'cache-control': 'no-store',
            'content-length': Buffer.byteLength(json),
          })
          .end(json)
      })
      return
    }
    res.writeHead(404).end()
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { issuer, authorize: `${issuer}/authorize`, token: `${issuer}/token` }
}
