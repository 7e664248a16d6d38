// Login throttling under attack: the count is taken atomically before a password is verified, so
// parallel guesses cannot slip past the limit.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FAILURES_PER_EMAIL } from '../../src/auth/login-throttle.ts';
import { buildTestApp, createTestUser, TestClient } from '../helpers/app.ts';
import { createTestDatabase, isPglite, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
let app: FastifyInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildTestApp({ db: database.db });
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const statuses = (responses: { statusCode: number }[]) => responses.map((r) => r.statusCode);
const count = (codes: number[], code: number) => codes.filter((c) => c === code).length;

describe.skipIf(isPglite())('concurrent guesses (real PostgreSQL)', () => {
  it('verifies at most the limit of 25 parallel wrong passwords for one email; the rest are refused unverified', async () => {
    const user = await createTestUser(database.db, 'buyer');
    const client = new TestClient(app, '198.51.100.25');
    await client.csrfToken();
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => client.post('/login', { email: user.email, password: `wrong-guess-${i}` })));
    const codes = statuses(responses);
    expect(count(codes, 401), `answers: ${codes.join(',')}`).toBeLessThanOrEqual(MAX_FAILURES_PER_EMAIL);
    expect(count(codes, 401) + count(codes, 429)).toBe(25);
  });
});
