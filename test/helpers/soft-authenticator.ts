// A software WebAuthn authenticator for tests in Node: makes ES256 credentials, answers
// navigator.credentials.create/get options the way a browser and authenticator would (the JSON
// that @simplewebauthn/browser sends), with knobs to lie about origin, RP ID, flags and counter.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | { [k: string]: Cbor }

function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n]
  if (n < 256) return [(major << 5) | 24, n]
  if (n < 65536) return [(major << 5) | 25, n >> 8, n & 255]
  return [(major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255]
}

/** CBOR (RFC 8949) of the few types WebAuthn uses. */
export function cbor(value: Cbor): Uint8Array {
  const out: number[] = []
  const put = (v: Cbor): void => {
    if (typeof v === 'number') out.push(...(v >= 0 ? head(0, v) : head(1, -1 - v)))
    else if (typeof v === 'string') {
      const bytes = Buffer.from(v, 'utf8')
      out.push(...head(3, bytes.length), ...bytes)
    } else if (v instanceof Uint8Array) out.push(...head(2, v.length), ...v)
    else {
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v)
      out.push(...head(5, entries.length))
      for (const [k, val] of entries) {
        put(k)
        put(val)
      }
    }
  }
  put(value)
  return new Uint8Array(out)
}

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url')
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest()

interface SoftCredential {
  readonly id: Buffer
  readonly privateKey: KeyObject
  readonly x: Buffer
  readonly y: Buffer
  counter: number
  readonly userHandle: string
  readonly rpId: string
}

/** Knobs of one ceremony. */
export interface Lie {
  origin?: string
  rpId?: string
  userVerified?: boolean
  /** Backup-eligible and backed up (a synced passkey). */
  synced?: boolean
  /** Use this counter instead of incrementing. */
  counter?: number
  /** Answer this challenge instead of the one in the options. */
  challenge?: string
  type?: string
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = []
  constructor(readonly origin: string) {}

  private flags(lie: Lie, attested: boolean): number {
    let f = 0x01
    if (lie.userVerified !== false) f |= 0x04
    if (lie.synced) f |= 0x08 | 0x10
    if (attested) f |= 0x40
    return f
  }

  /** navigator.credentials.create() */
  create(options: { challenge: string; rp: { id?: string }; user: { id: string } }, lie: Lie = {}) {
    const rpId = options.rp.id as string
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string }
    const cred: SoftCredential = {
      id: randomBytes(16),
      privateKey,
      x: Buffer.from(jwk.x, 'base64url'),
      y: Buffer.from(jwk.y, 'base64url'),
      counter: 0,
      userHandle: options.user.id,
      rpId,
    }
    this.credentials.push(cred)
    const cose = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, cred.x],
        [-3, cred.y],
      ]),
    )
    const count = Buffer.alloc(4)
    count.writeUInt32BE(lie.counter ?? 0)
    const idLen = Buffer.alloc(2)
    idLen.writeUInt16BE(cred.id.length)
    const authData = Buffer.concat([
      sha256(lie.rpId ?? rpId),
      Buffer.from([this.flags(lie, true)]),
      count,
      Buffer.alloc(16),
      idLen,
      cred.id,
      cose,
    ])
    const clientData = JSON.stringify({
      type: lie.type ?? 'webauthn.create',
      challenge: lie.challenge ?? options.challenge,
      origin: lie.origin ?? this.origin,
      crossOrigin: false,
    })
    return {
      id: b64u(cred.id),
      rawId: b64u(cred.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(Buffer.from(clientData)),
        attestationObject: b64u(cbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }

  /** navigator.credentials.get(), with the first allowed (or any, usernameless) credential. */
  get(
    options: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] },
    lie: Lie = {},
    from: SoftCredential[] = this.credentials,
  ) {
    const allowed = options.allowCredentials?.map((c) => c.id) ?? []
    const cred = from.find(
      (c) => c.rpId === options.rpId && (allowed.length === 0 || allowed.includes(b64u(c.id))),
    )
    if (!cred) throw new Error('no credential for these options')
    cred.counter = lie.counter ?? cred.counter + 1
    const count = Buffer.alloc(4)
    count.writeUInt32BE(cred.counter)
    const authData = Buffer.concat([
      sha256(lie.rpId ?? cred.rpId),
      Buffer.from([this.flags(lie, false)]),
      count,
    ])
    const clientData = Buffer.from(
      JSON.stringify({
        type: lie.type ?? 'webauthn.get',
        challenge: lie.challenge ?? options.challenge,
        origin: lie.origin ?? this.origin,
        crossOrigin: false,
      }),
    )
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), cred.privateKey)
    return {
      id: b64u(cred.id),
      rawId: b64u(cred.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientData),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: cred.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }

  /** A copy of this authenticator's keys and counters (a cloned authenticator). */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.origin)
    for (const c of this.credentials) copy.credentials.push({ ...c })
    return copy
  }
}
