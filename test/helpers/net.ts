// A free TCP port on loopback, for servers a test starts in another process.
import { createServer } from 'node:net'

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return typeof address === 'object' && address ? address.port : 0
}

/** The answer of {@link rawHttp}. */
export interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: string
}

/**
 * One request with `node:http`, so a test can send any `Host` header (or none), which `fetch`
 * does not let it choose.
 */
export async function rawHttp(
  port: number,
  request: {
    method?: string
    path?: string
    /** The Host header; undefined sends none. */
    host: string | undefined
    headers?: Readonly<Record<string, string>>
    body?: string
  },
): Promise<RawResponse> {
  const { request: send } = await import('node:http')
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: request.path ?? '/',
        setHost: false,
        headers: {
          ...(request.host === undefined ? {} : { host: request.host }),
          ...request.headers,
        },
        timeout: 5_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.end(request.body)
  })
}
