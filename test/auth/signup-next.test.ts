// Issue 15 point 7: "Log in to buy" → "Create an account" keeps where the visitor was going, so a
// new buyer lands back on the listing (a `next` that is not a local path still goes home).
import { describe, expect, it } from 'vitest';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

let n = 0;
const signupFields = (next?: string) => ({
  role: 'buyer',
  displayName: `New Buyer ${++n}`,
  email: `new-buyer-${n}-${Date.now()}@example.test`,
  password: 'quiet-lantern-orchard-57',
  ...(next !== undefined ? { next } : {}),
});

describe('sign-up keeps next=', () => {
  it('login → "Create an account" → sign up → back on the listing', async () => {
    const client = new TestClient(w.app, '10.15.7.1');
    const target = '/listings/5b0e8a52-6f7e-4f44-9a0c-6ad2b2a4c9f1';
    const login = await client.get(`/login?next=${encodeURIComponent(target)}`);
    const href = /<a href="([^"]+)">Create an account<\/a>/.exec(login.body)?.[1];
    expect(href).toBe(`/signup?next=${encodeURIComponent(target)}`);
    const signup = await client.get(href!);
    expect(signup.body).toContain(`name="next" value="${target}"`);
    expect(signup.body).toContain(`href="/login?next=${encodeURIComponent(target)}"`);
    const created = await client.post('/signup', signupFields(target));
    expect(created.statusCode).toBe(303);
    expect(created.location).toBe(target);
  });

  it('a form error keeps next; a foreign next goes home', async () => {
    const client = new TestClient(w.app, '10.15.7.2');
    const target = '/listings/5b0e8a52-6f7e-4f44-9a0c-6ad2b2a4c9f1';
    const invalid = await client.post('/signup', { ...signupFields(target), email: 'not-an-email' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain(`name="next" value="${target}"`);
    const foreign = await client.post('/signup', signupFields('//evil.example/x'));
    expect(foreign.statusCode).toBe(303);
    expect(foreign.location).toBe('/');
    expect((await new TestClient(w.app, '10.15.7.3').post('/signup', signupFields())).location).toBe('/');
  });
});
