/**
 * The control API cannot be driven by a web page the developer visits while the emulator runs:
 * cross-site forms and fetches are refused (Origin, JSON only), DNS-rebound names are refused
 * (Host), and webhook secrets are never read back.
 */
import http from 'node:http';
import { beforeAll, describe, expect, test } from 'vitest';
import { startEmulator } from '../../src/emulator/index.ts';
import { API_KEY, PLATFORM_SECRET, CONNECT_SECRET, createExpressAccount, useTestEmulator } from './helpers.ts';

interface RawResponse {
  status: number;
  body: string;
}

function errorMessage(r: RawResponse): string {
  return (JSON.parse(r.body) as { error: { message: string } }).error.message;
}

/** An HTTP request with exactly these headers (fetch would not let a test set Host); no `host` → no Host header. */
function rawRequest(url: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const headers = options.headers ?? {};
    const req = http.request(
      { host: u.hostname, port: Number(u.port), method: options.method, path: options.path, headers, setHost: headers.host !== undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const t = useTestEmulator();
let hostHeader: string;
beforeAll(async () => {
  hostHeader = new URL(t.url).host;
});

async function accountStillThere(id: string): Promise<boolean> {
  return (await t.stripe.accounts.list({ limit: 100 })).data.some((a) => a.id === id);
}

describe('cross-site requests', () => {
  test('a cross-site form POST to reset is refused and nothing is reset', async () => {
    const acct = await createExpressAccount(t);
    const r = await rawRequest(t.url, {
      method: 'POST',
      path: '/_emulator/reset',
      headers: { host: hostHeader, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    expect(r.status).toBe(403);
    expect(errorMessage(r)).toMatch(/other origins/);
    expect(await accountStillThere(acct.id)).toBe(true);
  });

  test('a cross-site JSON fetch that redirects webhooks is refused (Origin), even with the JSON type', async () => {
    const r = await rawRequest(t.url, {
      method: 'POST',
      path: '/_emulator/webhooks',
      headers: { host: hostHeader, origin: 'http://localhost:3000', 'content-type': 'application/json' },
      body: JSON.stringify({ platform: { url: 'http://evil.example/hook', secret: 'whsec_evil' } }),
    });
    expect(r.status).toBe(403);
    const config = await t.control<{ platform: { url: string } }>('/_emulator/webhooks');
    expect(config.platform.url).toBe(`${t.receiver.url}/platform`);
  });

  test.each([
    ['text/plain (a no-cors fetch)', { 'content-type': 'text/plain' }, '{}'],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'seconds=3600'],
    ['no Content-Type at all', {}, ''],
  ])('a control POST with %s is refused with 415 and has no effect', async (_name, headers: Record<string, string>, body) => {
    const before = await t.control<{ now: number; offset: number }>('/_emulator/clock');
    const r = await rawRequest(t.url, { method: 'POST', path: '/_emulator/clock/advance', headers: { host: hostHeader, ...headers }, body });
    expect(r.status).toBe(415);
    expect(errorMessage(r)).toMatch(/application\/json/);
    expect((await t.control<{ offset: number }>('/_emulator/clock')).offset).toBe(before.offset);
  });

  test('a DELETE without the JSON type is refused too (faults stay)', async () => {
    await t.control('/_emulator/faults', { path: '/v1/nothing_here', kind: '500', count: 1 });
    const r = await rawRequest(t.url, { method: 'DELETE', path: '/_emulator/faults', headers: { host: hostHeader } });
    expect(r.status).toBe(415);
    expect((await t.control<{ data: unknown[] }>('/_emulator/faults')).data).toHaveLength(1);
    await t.control('/_emulator/faults', undefined, 'DELETE');
    expect((await t.control<{ data: unknown[] }>('/_emulator/faults')).data).toHaveLength(0);
  });

  test('same-origin and origin-less JSON requests work; a JSON body that is not an object is refused', async () => {
    const sameOrigin = await rawRequest(t.url, {
      method: 'POST',
      path: '/_emulator/clock/advance',
      headers: { host: hostHeader, origin: t.url, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ seconds: 1 }),
    });
    expect(sameOrigin.status).toBe(200);
    const empty = await rawRequest(t.url, {
      method: 'POST',
      path: '/_emulator/delivery/flush',
      headers: { host: hostHeader, 'content-type': 'application/json' },
    });
    expect(empty.status).toBe(200);
    const list = await rawRequest(t.url, {
      method: 'POST',
      path: '/_emulator/clock/advance',
      headers: { host: hostHeader, 'content-type': 'application/json' },
      body: '[1]',
    });
    expect(list.status).toBe(400);
    const nullOrigin = await rawRequest(t.url, { method: 'GET', path: '/_emulator/health', headers: { host: hostHeader, origin: 'null' } });
    expect(nullOrigin.status).toBe(403);
  });
});

describe('Host (DNS rebinding)', () => {
  test('a rebound name is refused on the control API and on the API; loopback names are answered', async () => {
    const port = new URL(t.url).port;
    const rebound = `attacker.example:${port}`;
    const control = await rawRequest(t.url, { method: 'GET', path: '/_emulator/deliveries', headers: { host: rebound } });
    expect(control.status).toBe(403);
    expect(errorMessage(control)).toMatch(/does not answer to the host/);
    const api = await rawRequest(t.url, { method: 'GET', path: '/v1/balance', headers: { host: rebound, authorization: `Bearer ${API_KEY}` } });
    expect(api.status).toBe(403);
    const missing = await rawRequest(t.url, { method: 'GET', path: '/_emulator/health', headers: {} });
    expect([400, 403]).toContain(missing.status); // node:http itself refuses HTTP/1.1 without Host

    for (const name of ['localhost', '127.0.0.1', 'app.localhost']) {
      const ok = await rawRequest(t.url, { method: 'GET', path: '/v1/balance', headers: { host: `${name}:${port}`, authorization: `Bearer ${API_KEY}` } });
      expect(ok.status, name).toBe(200);
    }
  });

  test('publicUrl and allowedHosts add names; hosted pages answer to any host', async () => {
    const emu = await startEmulator({ port: 0, publicUrl: 'http://emulator.test:9999', allowedHosts: ['stripe-emulator'] });
    try {
      const port = new URL(emu.url).port;
      for (const name of ['emulator.test', 'stripe-emulator']) {
        const r = await rawRequest(emu.url, { method: 'GET', path: '/_emulator/health', headers: { host: `${name}:${port}` } });
        expect(r.status, name).toBe(200);
      }
      expect((await rawRequest(emu.url, { method: 'GET', path: '/_emulator/health', headers: { host: `other.test:${port}` } })).status).toBe(403);
      expect((await rawRequest(emu.url, { method: 'GET', path: '/js/v3.js', headers: { host: `other.test:${port}` } })).status).toBe(200);
    } finally {
      await emu.stop();
    }
  });
});

describe('secrets and listen address', () => {
  test('GET /_emulator/webhooks shows the endpoints but never their secrets', async () => {
    const r = await rawRequest(t.url, { method: 'GET', path: '/_emulator/webhooks', headers: { host: hostHeader } });
    expect(r.status).toBe(200);
    expect(r.body).not.toContain(PLATFORM_SECRET);
    expect(r.body).not.toContain(CONNECT_SECRET);
    expect(JSON.parse(r.body)).toEqual({
      platform: { url: `${t.receiver.url}/platform`, secret_last4: PLATFORM_SECRET.slice(-4) },
      connect: { url: `${t.receiver.url}/connect`, secret_last4: CONNECT_SECRET.slice(-4) },
    });
    const set = await t.control<Record<string, unknown>>('/_emulator/webhooks', { connect: { url: `${t.receiver.url}/connect`, secret: CONNECT_SECRET } });
    expect(JSON.stringify(set)).not.toContain(CONNECT_SECRET);
  });

  test('by default the emulator listens on loopback only', async () => {
    const emu = await startEmulator({ port: 0 });
    try {
      expect(new URL(emu.url).hostname).toBe('127.0.0.1');
    } finally {
      await emu.stop();
    }
  });
});
