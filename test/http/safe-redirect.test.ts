// `next=` is the only user-controlled redirect target: whatever the login form is given, the
// Location header must stay on this site.
import { describe, expect, it } from 'vitest';
import { safeLocalPath } from '../../src/http/render.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

// Each of these is a local-looking path that a URL parser turns into `//host…` or another origin.
const OFF_SITE = [
  '/.//evil.example/x',
  '/./\\evil.example',
  '/a/..//evil.example',
  '/%2e//evil.example',
  '/..//evil.example',
  '//evil.example',
  '/\\evil.example',
  'https://evil.example',
  'javascript:alert(1)',
];

describe('safeLocalPath', () => {
  it.each(OFF_SITE)('refuses %s', (candidate) => {
    expect(safeLocalPath(candidate, '/home')).toBe('/home');
  });

  it('keeps ordinary local paths and their query', () => {
    expect(safeLocalPath('/account?tab=1')).toBe('/account?tab=1');
    expect(safeLocalPath('/a/./b/../c')).toBe('/a/c');
    expect(safeLocalPath('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
  });
});

describe('login next=', () => {
  const w = useWorld();

  it('never answers with a Location a browser would take off-site', async () => {
    const user = await createTestUser(w.db, 'buyer');
    for (const next of OFF_SITE) {
      const response = await new TestClient(w.app).post('/login', { email: user.email, password: TEST_PASSWORD, next });
      expect(response.statusCode, next).toBe(303);
      expect(response.location, next).toBe('/');
    }
  });
});
