// Device enrolment (docs/devsig.md) on every OP store: the challenge is a one-time record under
// its hash (the store's consumable `csrf` kind, in a `devsig-challenge:` namespace of its own),
// so on memory, SQLite, PostgreSQL and Redis a challenge enrols exactly once, also under a
// concurrent double submit, and an expired one never. PostgreSQL and Redis skip, saying why,
// when their server is absent.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { createEnrollmentProof, generateDpopKey } from '../../src/dpop/index.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import type { OpStore } from '../../src/op/store/types.ts'
import { createPostgresStores } from '../../src/stores/postgres.ts'
import { createRedisStores } from '../../src/stores/redis.ts'
import { createSqliteStores } from '../../src/stores/sqlite.ts'
import { DATABASE_URL, probePostgres } from './helpers/postgres.ts'
import { connect, dropPrefix, REDIS_URL, redisSkipReason, uniquePrefix } from './redis-helpers.ts'

const ISSUER = 'http://127.0.0.1:9000'
const CB = 'https://app.example/cb'
const VERIFIER = 'v'.repeat(43)

type Clock = { now(): number; advance(ms: number): void }
type Factory = (clock: Clock) => Promise<{ store: OpStore; close(): Promise<void> }>

const pgSkip = await probePostgres()
const redisSkip = await redisSkipReason()

const factories: [string, Factory, string | false][] = [
  [
    'memory',
    async (clock) => {
      const store = createMemoryOpStore({ clock })
      return { store, close: async () => store.close() }
    },
    false,
  ],
  [
    'sqlite',
    async (clock) => {
      const database = new Database(':memory:')
      const stores = createSqliteStores({ database, clock })
      await stores.migrate()
      return {
        store: stores.op,
        async close() {
          stores.close()
          database.close()
        },
      }
    },
    false,
  ],
  [
    'postgres',
    async (clock) => {
      const schema = `authkestra_devsig_${randomBytes(6).toString('hex')}`
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 })
      await pool.query(`CREATE SCHEMA "${schema}"`)
      const stores = createPostgresStores({ pool, schema, clock })
      await stores.migrate()
      return {
        store: stores.op,
        async close() {
          stores.close()
          await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
          await pool.end()
        },
      }
    },
    pgSkip,
  ],
  [
    'redis',
    async (clock) => {
      const redis = await connect(REDIS_URL)
      const prefix = uniquePrefix('devsig')
      const stores = createRedisStores({ redis, prefix, clock })
      return {
        store: stores.op,
        async close() {
          await dropPrefix(redis, prefix)
          redis.disconnect()
        },
      }
    },
    redisSkip,
  ],
]

async function s256(v: string) {
  return Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(v))).toString(
    'base64url',
  )
}

for (const [name, factory, skip] of factories) {
  describe(`devsig enrolment on the ${name} OP store`, { skip }, () => {
    it('a challenge enrols once (also when sent twice at once), an expired one never', async () => {
      let now = Date.now()
      const clock: Clock = {
        now: () => now,
        advance(ms) {
          now += ms
        },
      }
      const { store, close } = await factory(clock)
      try {
        const op = await createOp({
          issuer: ISSUER,
          store,
          clock,
          logger: { warn() {}, error() {} },
          dangerouslyAutoLogin: 'alice',
          devsig: { challengeTtlSeconds: 30 },
          clients: [{ client_id: 'app', redirect_uris: [CB], skip_consent: true }],
          accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice' }],
        })
        const form = (
          path: string,
          body: Record<string, string>,
          headers: Record<string, string> = {},
        ) =>
          op.handler(
            new Request(`${ISSUER}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
              body: new URLSearchParams(body),
            }),
          )
        const url = new URL(`${ISSUER}/authorize`)
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: 'app',
          redirect_uri: CB,
          scope: 'openid',
          code_challenge: await s256(VERIFIER),
          code_challenge_method: 'S256',
        }).toString()
        const code =
          new URL(
            (await op.handler(new Request(url))).headers.get('location') ?? '',
          ).searchParams.get('code') ?? ''
        const tokens = (await (
          await form('/token', {
            grant_type: 'authorization_code',
            code,
            redirect_uri: CB,
            code_verifier: VERIFIER,
            client_id: 'app',
          })
        ).json()) as { access_token: string }
        const auth = { authorization: `Bearer ${tokens.access_token}` }
        const key = await generateDpopKey()
        const challenge = async () =>
          ((await (await form('/devsig/challenge', {}, auth)).json()) as { challenge: string })
            .challenge
        const proofOf = (c: string) =>
          createEnrollmentProof(key, { challenge: c, issuer: ISSUER }, clock)

        const proof = await proofOf(await challenge())
        const answers = await Promise.all([
          form('/devsig/enroll', { proof }, auth),
          form('/devsig/enroll', { proof }, auth),
        ])
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400])
        assert.equal((await form('/devsig/enroll', { proof }, auth)).status, 400)

        const old = await challenge()
        clock.advance(31_000)
        const late = await proofOf(old) // a fresh proof over a challenge past its lifetime
        const refused = await form('/devsig/enroll', { proof: late }, auth)
        assert.equal(refused.status, 400)
        assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant')
      } finally {
        await close()
      }
    })
  })
}
