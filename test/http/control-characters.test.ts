// No control character gets past a route's schema (issue #14, point 5): U+0000 made PostgreSQL fail
// with a 500, after dispute evidence had already gone to Stripe. Every string in every route's
// schema is probed here, so a new route that forgets `Text`/`MultilineText` (src/http/schemas.ts)
// fails this test; the forms then answer 400 with the field named, and nothing is written.
import { Ajv, type AnySchema } from 'ajv';
import addFormats from 'ajv-formats';
import type { RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { MULTILINE_PATTERN, SINGLE_LINE_PATTERN } from '../../src/http/schemas.ts';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const routes: RouteOptions[] = [];
const w = useWorld({ onRoute: (route) => routes.push(route) });

// Each Cc block's ends and a few in between; U+0085 (next line) is the one a regex's \s would hide.
const CONTROLS = ['\u0000', '\u0001', '\u0008', '\u000b', '\u001b', '\u001f', '\u007f', '\u0085', '\u009f'];
const probesFor = (control: string) => [control, `a${control}`, `${control}a`, `a${control}b`, `Mug ${control}blue`];

type Node = Record<string, unknown>;

/** Every string schema inside a route schema, with its path ("body/title"). */
function stringNodes(node: unknown, path: string, out: { path: string; node: Node }[] = []): { path: string; node: Node }[] {
  if (node === null || typeof node !== 'object') return out;
  const schema = node as Node;
  if (schema.type === 'string') out.push({ path, node: schema });
  for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) stringNodes(child, `${path}/${key}`, out);
  for (const keyword of ['anyOf', 'oneOf', 'allOf']) {
    for (const child of (schema[keyword] ?? []) as unknown[]) stringNodes(child, path, out);
  }
  if (schema.items !== undefined) stringNodes(schema.items, `${path}/items`, out);
  return out;
}

describe('every route schema refuses control characters', () => {
  it('probes each string field of each route with control characters and finds none accepted', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const leaks: string[] = [];
    let probed = 0;
    for (const route of routes) {
      const schema = (route.schema ?? {}) as Record<string, unknown>;
      for (const part of ['body', 'querystring', 'params'] as const) {
        for (const { path, node } of stringNodes(schema[part], part)) {
          const { $id: _id, ...bare } = node;
          const check = ajv.compile(bare as AnySchema);
          probed += 1;
          const accepted = CONTROLS.flatMap(probesFor).find((probe) => check(probe) === true);
          if (accepted !== undefined) leaks.push(`${String(route.method)} ${route.url} ${path} accepts ${JSON.stringify(accepted)}`);
        }
      }
    }
    // The walk found the forms (a broken walk would pass vacuously).
    expect(probed).toBeGreaterThan(40);
    expect(leaks).toEqual([]);
  });

  it('keeps line breaks and tabs where a field is multi-line, and ordinary text everywhere', () => {
    const ajv = new Ajv();
    const line = ajv.compile({ type: 'string', pattern: SINGLE_LINE_PATTERN });
    const lines = ajv.compile({ type: 'string', pattern: MULTILINE_PATTERN });
    expect(line('Tasse à café — 12 € ☕ 𝔘')).toBe(true);
    expect(line('two\nlines')).toBe(false);
    expect(lines('Handmade mug.\r\n\tGlazed twice.')).toBe(true);
    expect(lines('Handmade\u0000mug')).toBe(false);
  });
});

describe('forms name the field and write nothing', () => {
  it('sign-up with U+0000 in the name: 400 beside the name, no account', async () => {
    const visitor = new TestClient(w.app, '10.14.5.1');
    const email = 'nul-name@example.test';
    const response = await visitor.post('/signup', { email, password: 'plum-kettle-harbour-91', displayName: 'Ann\u0000Lee', role: 'buyer' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/id="displayName-error">This field must not contain control characters/);
    expect(await w.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()).toBeUndefined();
  });

  it('a listing with U+0000 in its title or an escape in its description: 400 beside the field, no listing', async () => {
    const { client, user } = await w.signIn('seller');
    const valid = { title: 'Mug', description: 'Blue.\nGlazed.', price: '12.50', currency: 'usd', stock: '3', unlimited: 'off' };
    const badTitle = await client.post('/seller/listings', { ...valid, title: 'Mug\u0000' });
    expect(badTitle.statusCode).toBe(400);
    expect(badTitle.body).toMatch(/id="title-error">This field must not contain control characters/);
    const badDescription = await client.post('/seller/listings', { ...valid, description: 'Blue \u001b[31mred' });
    expect(badDescription.statusCode).toBe(400);
    expect(badDescription.body).toMatch(/id="description-error">This field must not contain control characters/);
    expect(await w.db.selectFrom('listings').select('id').where('seller_id', '=', user.id).execute()).toEqual([]);
    // The multi-line description itself is fine.
    expect((await client.post('/seller/listings', valid)).statusCode).toBe(303);
  });

  it('a request without a form of its own gets a page naming the field', async () => {
    const response = await new TestClient(w.app).get('/login?next=%2Forders%00');
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('querystring/next must not contain control characters');
  });
});
