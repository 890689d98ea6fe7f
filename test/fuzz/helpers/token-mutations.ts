// The exactly-correct code redemption at the token endpoint, and one-part mutations of it.
import fc from 'fast-check'
import { basicHeader, CLIENTS, ISSUER, type OpWorld, WEB_REDIRECT } from './op-world.ts'

export type Field = [string, string]

export interface Attempt {
  fields: Field[]
  authorization: string | undefined
  contentType: string
  method: string
  advanceSeconds: number
}

export const correctAuth = () => basicHeader(CLIENTS.web.id, CLIENTS.web.secret)

/** One mutation of the exactly-correct redemption, as a function of (code, verifier). */
export type Mutation = (ok: Attempt, other: { code: string; verifier: string }) => Attempt

export function replaceField(name: string, value: string | undefined): Mutation {
  return (ok) => ({
    ...ok,
    fields:
      value === undefined
        ? ok.fields.filter(([n]) => n !== name)
        : ok.fields.map(([n, v]) => [n, n === name ? value : v] as Field),
  })
}

export function mutationArb(): fc.Arbitrary<{ name: string; mutate: Mutation }> {
  const junk = fc.string({ maxLength: 60, unit: 'grapheme' })
  const field = fc.constantFrom('grant_type', 'code', 'redirect_uri', 'code_verifier')
  const tweak = fc.constantFrom(
    (v: string) => `${v} `,
    (v: string) => ` ${v}`,
    (v: string) => v.slice(0, -1),
    (v: string) => `${v}x`,
    (v: string) => v.toUpperCase(),
    (v: string) => `${v}\u0000`,
    (v: string) => encodeURIComponent(v).replace(/-/g, '%2D'),
  )
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ name: 'none', mutate: (ok: Attempt) => ok }) },
    fc.tuple(field, junk).map(([f, v]) => ({ name: `${f}=junk`, mutate: replaceField(f, v) })),
    field.map((f) => ({ name: `drop ${f}`, mutate: replaceField(f, undefined) })),
    fc.tuple(field, tweak).map(([f, t]) => ({
      name: `tweak ${f}`,
      mutate: (ok: Attempt) => {
        const value = ok.fields.find(([n]) => n === f)?.[1] ?? ''
        const changed = t(value)
        return changed === value
          ? { ...ok, fields: [...ok.fields, [f, value] as Field] }
          : replaceField(f, changed)(ok, { code: '', verifier: '' })
      },
    })),
    field.map((f) => ({
      name: `duplicate ${f}`,
      mutate: (ok: Attempt) => ({
        ...ok,
        fields: [...ok.fields, ok.fields.find(([n]) => n === f) as Field],
      }),
    })),
    fc.constantFrom(
      { name: 'other code', mutate: ((ok, o) => replaceField('code', o.code)(ok, o)) as Mutation },
      {
        name: 'other verifier',
        mutate: ((ok, o) => replaceField('code_verifier', o.verifier)(ok, o)) as Mutation,
      },
      { name: 'refresh grant', mutate: replaceField('grant_type', 'refresh_token') },
      { name: 'client_credentials', mutate: replaceField('grant_type', 'client_credentials') },
      { name: 'redirect with query', mutate: replaceField('redirect_uri', `${WEB_REDIRECT}?a=b`) },
      { name: 'redirect other', mutate: replaceField('redirect_uri', 'http://localhost:3000/cb') },
      {
        name: 'verifier is challenge',
        mutate: replaceField('code_verifier', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
      },
      { name: 'no auth', mutate: ((ok) => ({ ...ok, authorization: undefined })) as Mutation },
      {
        name: 'wrong secret',
        mutate: ((ok) => ({
          ...ok,
          authorization: basicHeader(CLIENTS.web.id, `${CLIENTS.web.secret}x`),
        })) as Mutation,
      },
      {
        name: 'other client',
        mutate: ((ok) => ({
          ...ok,
          authorization: basicHeader(CLIENTS.service.id, CLIENTS.service.secret),
        })) as Mutation,
      },
      {
        name: 'other client (post)',
        mutate: ((ok) => ({
          ...ok,
          authorization: undefined,
          fields: [
            ...ok.fields,
            ['client_id', CLIENTS.post.id] as Field,
            ['client_secret', CLIENTS.post.secret] as Field,
          ],
        })) as Mutation,
      },
      {
        name: 'public client id',
        mutate: ((ok) => ({
          ...ok,
          authorization: undefined,
          fields: [...ok.fields, ['client_id', CLIENTS.spa.id] as Field],
        })) as Mutation,
      },
      {
        name: 'two auth methods',
        mutate: ((ok) => ({
          ...ok,
          fields: [...ok.fields, ['client_secret', CLIENTS.web.secret] as Field],
        })) as Mutation,
      },
      {
        name: 'json body',
        mutate: ((ok) => ({ ...ok, contentType: 'application/json' })) as Mutation,
      },
      { name: 'GET', mutate: ((ok) => ({ ...ok, method: 'GET' })) as Mutation },
      { name: 'PUT', mutate: ((ok) => ({ ...ok, method: 'PUT' })) as Mutation },
      { name: 'code expired', mutate: ((ok) => ({ ...ok, advanceSeconds: 3600 })) as Mutation },
    ),
  )
}

export function send(world: OpWorld, attempt: Attempt): Promise<Response> {
  world.now.value += attempt.advanceSeconds * 1000
  const body = new URLSearchParams(attempt.fields).toString()
  const url = attempt.method === 'GET' ? `${ISSUER}/token?${body}` : `${ISSUER}/token`
  return world.op.handler(
    new Request(url, {
      method: attempt.method,
      headers: {
        'content-type': attempt.contentType,
        ...(attempt.authorization ? { authorization: attempt.authorization } : {}),
      },
      ...(attempt.method === 'GET' ? {} : { body }),
    }),
  )
}

export const sameAttempt = (a: Attempt, b: Attempt) => JSON.stringify(a) === JSON.stringify(b)
