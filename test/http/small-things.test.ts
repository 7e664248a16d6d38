// Issue 15 point 22, the small things: the favicon exists for everyone; the home page's title is not
// "Marketplace · Marketplace"; "Check status now" says what it did; the return from onboarding says
// "just now" once and a reload does not repeat it; the Express dashboard opens in its own tab; a
// field's error replaces its hint instead of repeating it.
import { describe, expect, it } from 'vitest';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { enabledSeller } from '../helpers/market.ts';

const w = useWorld({ emulator: true });

describe('small things', () => {
  it('favicon: /favicon.ico leads to an icon for a visitor and a signed-in seller; pages link it', async () => {
    const seller = await enabledSeller(w);
    for (const client of [new TestClient(w.app, '10.15.22.1'), seller.client]) {
      const ico = await client.get('/favicon.ico');
      expect([ico.statusCode, ico.location]).toEqual([301, '/static/favicon.svg']);
      const svg = await client.get('/static/favicon.svg');
      expect(svg.statusCode).toBe(200);
      expect(svg.body).toContain('<svg');
    }
    expect((await new TestClient(w.app, '10.15.22.2').get('/')).body).toContain('<link rel="icon" href="/static/favicon.svg"');
  });

  it('the home page is titled "Marketplace" once', async () => {
    const home = await new TestClient(w.app, '10.15.22.3').get('/');
    expect(/<title>([^<]*)<\/title>/.exec(home.body)?.[1]).toBe('Marketplace');
  });

  it('"Check status now" says it checked; the onboarding return says "just now" once, and a reload does not', async () => {
    const { client } = await enabledSeller(w);
    const checked = await client.post('/seller/payouts/check');
    expect(checked.location).toBe('/seller');
    expect((await client.get('/seller')).body).toContain('Checked with Stripe just now');

    const back = await client.get('/seller/payouts/return');
    expect([back.statusCode, back.location]).toEqual([303, '/seller']);
    expect((await client.get('/seller')).body).toContain('told us just now');
    expect((await client.get('/seller')).body).not.toContain('just now'); // the reload
  });

  it('the Express dashboard opens in its own tab', async () => {
    const { client } = await enabledSeller(w);
    const page = await client.get('/seller');
    expect(page.body).toMatch(/<form method="post" action="\/seller\/payouts\/dashboard"[^>]*target="_blank"/);
  });

  it('a refused password shows its error instead of the hint, not both', async () => {
    const visitor = new TestClient(w.app, '10.15.22.4');
    const form = await visitor.get('/signup');
    expect(form.body).toContain('At least 10 characters');
    const refused = await visitor.post('/signup', { role: 'buyer', displayName: 'Short Pass', email: `short-${Date.now()}@example.test`, password: 'short' });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('id="password-error"');
    expect(refused.body).not.toContain('At least 10 characters');
  });
});
