// Login throttling under attack (src/auth/login-throttle.ts): the count is taken atomically before a
// password is verified, so parallel guesses cannot slip past it; and it slows strangers down with
// growing delays without locking the owner out of their usual place.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { FIRST_DELAY_MS, FREE_FAILURES, throttleAddress, waitMs } from '../../src/auth/login-throttle.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

const statuses = (responses: { statusCode: number }[]) => responses.map((r) => r.statusCode);
const count = (codes: number[], code: number) => codes.filter((c) => c === code).length;
const logIn = (address: string, email: string, password: string) => new TestClient(w.app, address).post('/login', { email, password });
let emailCounter = 0;
const unknownEmail = () => `nobody-${++emailCounter}-${Date.now()}@example.test`;

/** Moves every failure for `email` back in time, as if the person had waited. */
async function letTimePass(email: string, ms: number): Promise<void> {
  await w.db
    .updateTable('login_failures')
    .set({ attempted_at: sql`attempted_at - make_interval(secs => ${ms / 1000})` })
    .where('email', '=', email.toLowerCase())
    .execute();
}

describe.skipIf(isPglite())('concurrent guesses (real PostgreSQL)', () => {
  it('verifies at most the allowance of 25 parallel wrong passwords for one email; the rest are refused unverified', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const client = new TestClient(w.app, '198.51.100.25');
    await client.csrfToken();
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => client.post('/login', { email: user.email, password: `wrong-guess-${i}` })));
    const codes = statuses(responses);
    expect(count(codes, 401), `answers: ${codes.join(',')}`).toBeLessThanOrEqual(FREE_FAILURES.pair);
    expect(count(codes, 401) + count(codes, 429)).toBe(25);
  });

  it('verifies at most the allowance of 25 parallel guesses at different accounts from one address', async () => {
    const client = new TestClient(w.app, '198.51.100.26');
    await client.csrfToken();
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => client.post('/login', { email: unknownEmail(), password: `spray-${i}` })));
    const codes = statuses(responses);
    expect(count(codes, 401), `answers: ${codes.join(',')}`).toBeLessThanOrEqual(FREE_FAILURES.address);
    expect(count(codes, 401) + count(codes, 429)).toBe(25);
  });
});

describe('nobody can lock the owner out of their usual place', () => {
  it('an account guessed at from many addresses: strangers wait, the owner at home signs in', async () => {
    const owner = await createTestUser(w.db, 'admin');
    const home = '192.0.2.10';
    expect((await logIn(home, owner.email, TEST_PASSWORD)).statusCode).toBe(303);

    const codes: number[] = [];
    for (let i = 0; i < FREE_FAILURES.email + 2; i++) codes.push((await logIn(`203.0.113.${i + 1}`, owner.email, `guess-${i}`)).statusCode);
    expect(codes).toEqual([...Array<number>(FREE_FAILURES.email).fill(401), 429, 429]);

    expect((await logIn(home, owner.email, TEST_PASSWORD)).statusCode).toBe(303);
    // The documented price: the right password from a place the account has never used waits too.
    const elsewhere = await logIn('198.51.100.77', owner.email, TEST_PASSWORD);
    expect(elsewhere.statusCode).toBe(429);
    expect(elsewhere.body).toContain('Too many failed attempts. Try again in');
  });

  it('an address spraying many accounts (a shared NAT): people who signed in there before still can, strangers wait', async () => {
    const nat = '192.0.2.50';
    const colleague = await createTestUser(w.db, 'seller');
    expect((await logIn(nat, colleague.email, TEST_PASSWORD)).statusCode).toBe(303);

    for (let i = 0; i < FREE_FAILURES.address; i++) expect((await logIn(nat, unknownEmail(), `spray-${i}`)).statusCode).toBe(401);
    const newcomer = await createTestUser(w.db, 'buyer');
    expect((await logIn(nat, newcomer.email, TEST_PASSWORD)).statusCode).toBe(429);
    expect((await logIn(nat, colleague.email, TEST_PASSWORD)).statusCode).toBe(303);
  });

  it('counts an IPv6 /64 as one address', async () => {
    for (let i = 0; i < FREE_FAILURES.address; i++)
      expect((await logIn(`2001:db8:5:6::${(i + 1).toString(16)}`, unknownEmail(), 'spray')).statusCode).toBe(401);
    expect((await logIn('2001:db8:5:6:ffff:1:2:3', unknownEmail(), 'spray')).statusCode).toBe(429);
    expect((await logIn('2001:db8:5:7::1', unknownEmail(), 'spray')).statusCode).toBe(401);
  });
});

describe('delays grow with each failure past the allowance, and end', () => {
  it('waits 30 s, then 60 s, and the right password works once the wait is over', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const address = '192.0.2.90';
    for (let i = 0; i < FREE_FAILURES.pair; i++) expect((await logIn(address, user.email, `typo-${i}`)).statusCode).toBe(401);

    const first = await logIn(address, user.email, TEST_PASSWORD);
    expect(first.statusCode).toBe(429);
    // Seconds from the latest failure: a busy machine may have spent a few of them already.
    expect(Number(first.headers['retry-after'])).toBeGreaterThan(FIRST_DELAY_MS / 1000 - 10);
    expect(Number(first.headers['retry-after'])).toBeLessThanOrEqual(FIRST_DELAY_MS / 1000);

    await letTimePass(user.email, FIRST_DELAY_MS);
    expect((await logIn(address, user.email, 'another-typo')).statusCode).toBe(401);
    const second = await logIn(address, user.email, TEST_PASSWORD);
    expect(second.statusCode).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(FIRST_DELAY_MS / 1000);
    expect(Number(second.headers['retry-after'])).toBeLessThanOrEqual((2 * FIRST_DELAY_MS) / 1000);

    await letTimePass(user.email, 2 * FIRST_DELAY_MS);
    expect((await logIn(address, user.email, TEST_PASSWORD)).statusCode).toBe(303);
    // A right password forgives the owner's own mistakes from that address.
    expect((await logIn(address, user.email, 'one-more-typo')).statusCode).toBe(401);
  });

  it('doubles up to 15 minutes', () => {
    const now = new Date();
    expect(waitMs(4, 5, now, now)).toBe(0);
    expect([5, 6, 7, 8, 9, 10, 11, 30].map((n) => waitMs(n, 5, now, now) / 1000)).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
  });
});

describe('throttleAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:1:2:3', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s counts as %s', (address, expected) => {
    expect(throttleAddress(address)).toBe(expected);
  });
});
