// Sign-up refuses passwords that are easy to guess (zxcvbn-ts estimate), saying why beside the field.
import { describe, expect, it } from 'vitest';
import { passwordWeakness } from '../../src/auth/password-strength.ts';
import { TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

const passwordError = (body: string) => /<p class="error" id="password-error">([^<]*)<\/p>/.exec(body)?.[1];
const userExists = async (email: string) => (await w.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()) !== undefined;

describe('sign-up with an easily guessed password', () => {
  it.each([
    ['ten a’s', 'aaaaaaaaaa'],
    ['ten spaces', '          '],
    ['digits in order', '1234567890'],
    ['a common password with digits', 'password1234'],
    ['the email itself', 'EMAIL'],
    ['the name and a year', 'franklin-1958'],
    ['a keyboard row', 'qwertyuiop'],
  ])('refuses %s beside the field, saying why, and creates nothing', async (_name, password) => {
    const email = `weak-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`;
    const response = await new TestClient(w.app).post('/signup', {
      email,
      password: password === 'EMAIL' ? email : password,
      displayName: 'Rosalind Franklin',
      role: 'buyer',
    });
    expect(response.statusCode).toBe(400);
    expect(passwordError(response.body)).toMatch(/^This password is too easy to guess\. .+/);
    expect(response.body).not.toContain(`value="${password}"`);
    expect(await userExists(email)).toBe(false);
  });

  it('accepts a phrase of uncommon words', async () => {
    const email = `strong-${Date.now()}@example.test`;
    const response = await new TestClient(w.app).post('/signup', { email, password: TEST_PASSWORD, displayName: 'Strong Password', role: 'buyer' });
    expect(response.statusCode).toBe(303);
    expect(await userExists(email)).toBe(true);
  });
});

describe('passwordWeakness', () => {
  it('explains what makes a password weak', async () => {
    expect(await passwordWeakness('aaaaaaaaaa', { email: 'a@example.test', displayName: 'A' })).toContain('Repeated characters');
    expect(await passwordWeakness('1234567890', { email: 'a@example.test', displayName: 'A' })).toContain('frequently used password');
  });

  it('judges a very long password by its start', async () => {
    expect(await passwordWeakness('x'.repeat(256), { email: 'a@example.test', displayName: 'A' })).not.toBeNull();
    expect(await passwordWeakness(`${TEST_PASSWORD}-${'Zq9'.repeat(80)}`, { email: 'a@example.test', displayName: 'A' })).toBeNull();
  });
});
