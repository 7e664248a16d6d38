// Sign-up says "this email already has an account", so asking it is tightly limited per address
// (src/auth/signup.ts): a few answers an hour, then nothing more from that address.
import { describe, expect, it } from 'vitest';
import { MAX_EMAIL_TAKEN_ANSWERS } from '../../src/auth/signup.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

let counter = 0;
const freshEmail = () => `new-${++counter}-${Date.now()}@example.test`;
const signUp = (client: TestClient, email: string) =>
  client.post('/signup', { email, password: TEST_PASSWORD, displayName: `Person ${++counter}`, role: 'buyer' });
const accountExists = async (email: string) => (await w.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()) !== undefined;

describe('probing which emails have accounts', () => {
  it(`answers "already has an account" ${MAX_EMAIL_TAKEN_ANSWERS} times an hour per address, then refuses every sign-up from it`, async () => {
    const prober = new TestClient(w.app, '203.0.113.60');
    const existing = await Promise.all(Array.from({ length: MAX_EMAIL_TAKEN_ANSWERS + 1 }, () => createTestUser(w.db, 'buyer')));
    for (const user of existing.slice(0, MAX_EMAIL_TAKEN_ANSWERS)) {
      const response = await signUp(prober, user.email);
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain('An account with this email already exists');
    }
    const blocked = await signUp(prober, existing.at(-1)!.email);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.body).not.toContain('already exists');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);

    // A new email from there is refused too: watching which sign-ups succeed would be the same probe.
    const email = freshEmail();
    const newcomer = await signUp(prober, email);
    expect(newcomer.statusCode).toBe(429);
    expect(newcomer.body).toContain('Too many sign-up attempts from your network');
    expect(await accountExists(email)).toBe(false);

    // Other addresses are not affected.
    expect((await signUp(new TestClient(w.app, '203.0.113.61'), existing.at(-1)!.email)).statusCode).toBe(409);
  });

  it('does not count sign-ups that made an account', async () => {
    const office = new TestClient(w.app, '203.0.113.62');
    for (let i = 0; i < MAX_EMAIL_TAKEN_ANSWERS + 2; i++) {
      const email = freshEmail();
      expect((await signUp(new TestClient(w.app, '203.0.113.62'), email)).statusCode).toBe(303);
      expect(await accountExists(email)).toBe(true);
    }
    const someone = await createTestUser(w.db, 'buyer');
    expect((await signUp(office, someone.email)).statusCode).toBe(409);
  });
});

describe.skipIf(isPglite())('concurrent probes (real PostgreSQL)', () => {
  it(`answers at most ${MAX_EMAIL_TAKEN_ANSWERS} of 10 parallel sign-ups with taken emails`, async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => createTestUser(w.db, 'buyer')));
    const prober = new TestClient(w.app, '203.0.113.63');
    await prober.csrfToken();
    const codes = (await Promise.all(users.map((user) => signUp(prober, user.email)))).map((r) => r.statusCode);
    expect(codes.filter((c) => c === 409).length, codes.join(',')).toBeLessThanOrEqual(MAX_EMAIL_TAKEN_ANSWERS);
    expect(codes.filter((c) => c === 429).length, codes.join(',')).toBeGreaterThanOrEqual(10 - MAX_EMAIL_TAKEN_ANSWERS);
  });
});
