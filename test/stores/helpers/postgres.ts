// Where the PostgreSQL tests find their server, and why they skip when it is not there.
import pg from 'pg'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** False when PostgreSQL answers; otherwise the printed reason to skip. */
export async function probePostgres(): Promise<string | false> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return false
  } catch (err) {
    const url = new URL(DATABASE_URL)
    const why = (err as { code?: string }).code ?? (err as Error).message
    return `PostgreSQL is not reachable at ${url.hostname}:${url.port || 5432} (${why}); set DATABASE_URL to run these tests`
  } finally {
    await client.end().catch(() => {})
  }
}
