// Boots the real `npm start` entry point as a child process, offline (no Stripe key, no
// DATABASE_URL), in a temporary data directory: what a new developer gets after `npm ci && npm start`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  // Up to 90 s: a cold PGlite and argon2 hashing of the demo users are slow on a loaded machine.
  for (let attempt = 0; attempt < 360; attempt++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server never became ready:\n${output()}`);
}

describe('offline start', () => {
  const children: ChildProcess[] = [];
  afterAll(() => { for (const child of children) child.kill('SIGTERM'); });

  it('serves the marketplace with the embedded database and the emulator, and prints demo logins', async () => {
    const port = await freePort();
    const emulatorPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), EMULATOR_PORT: String(emulatorPort), DATA_DIR: mkdtempSync(join(tmpdir(), 'offline-start-')), LOG_LEVEL: 'warn' };
    for (const name of ['DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_PUBLISHABLE_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_CONNECT_WEBHOOK_SECRET', 'PUBLIC_URL']) delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => { output += String(chunk); });
    child.stderr?.on('data', (chunk) => { output += String(chunk); });

    await waitForReady(`http://127.0.0.1:${port}/readyz`, child, () => output);
    const home = await fetch(`http://127.0.0.1:${port}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('payments are simulated');
    // The banner is printed just after listening; give it a moment.
    for (let i = 0; i < 20 && !output.includes('Demo logins'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(output).toContain('admin@demo.test');
    // The emulator it started answers on its own port, speaking Stripe's protocol (a key is required).
    const unauthenticated = await fetch(`http://127.0.0.1:${emulatorPort}/v1/events`);
    expect(unauthenticated.status).toBe(401);
    expect(((await unauthenticated.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  }, 120_000);
});
