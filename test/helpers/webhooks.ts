// Webhook test helpers: really signed payloads (Stripe's own test-header function), the app listening
// on a real port with the emulator delivering to it, a test handler whose effects are counted, and a
// worker in a process of its own for the crash tests.
import { spawn } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import Stripe from 'stripe';
import { beforeAll, beforeEach } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { EXPRESS_ACCOUNT } from '../../src/sellers/use-cases.ts';
import type { HandlerRegistry } from '../../src/webhooks/registry.ts';
import type { TestEmulator } from './emulator.ts';

const sdk = new Stripe('sk_test_signing_only');

export function signature(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return sdk.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

let counter = 0;
/** A well-formed test event (Stripe's shape) for cases the emulator has no way to produce. */
export function makeEvent(
  type: string,
  object: Record<string, unknown>,
  options: { account?: string; created?: number; livemode?: boolean; id?: string } = {},
): Stripe.Event {
  counter += 1;
  return {
    id: options.id ?? `evt_test_${Date.now().toString(36)}_${counter}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: options.created ?? Math.floor(Date.now() / 1000),
    data: { object: object as unknown as Stripe.Event.Data.Object },
    livemode: options.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    ...(options.account !== undefined ? { account: options.account } : {}),
  } as Stripe.Event;
}

export async function postSigned(app: FastifyInstance, path: string, payload: string, sig: string | undefined) {
  return app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(sig !== undefined ? { 'stripe-signature': sig } : {}) },
    payload,
  });
}

/** Listens on a loopback port and makes the emulator deliver both endpoints there. */
export async function connectEmulatorTo(app: FastifyInstance, emulator: TestEmulator): Promise<string> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await pointEmulatorAt(emulator, address, app.config.stripe.platformWebhookSecret!, app.config.stripe.connectWebhookSecret!);
  return address;
}

export async function pointEmulatorAt(emulator: TestEmulator, address: string, platformSecret: string, connectSecret: string): Promise<void> {
  await emulator.control('POST', '/_emulator/webhooks', {
    platform: { url: `${address}/webhooks/stripe`, secret: platformSecret },
    connect: { url: `${address}/webhooks/stripe/connect`, secret: connectSecret },
  });
}

export async function eventRows(db: Kysely<Database>) {
  return db.selectFrom('stripe_events').selectAll().orderBy('received_at').execute();
}

/** A table the counting handler writes to: one row per applied effect (no unique key, on purpose). */
export async function createEffectsTable(db: Kysely<Database>): Promise<void> {
  await sql`create table if not exists test_effects (n serial primary key, event_id text not null, worker text)`.execute(db);
}

export async function effects(db: Kysely<Database>): Promise<{ event_id: string; worker: string | null }[]> {
  const result = await sql<{ event_id: string; worker: string | null }>`select event_id, worker from test_effects order by n`.execute(db);
  return result.rows;
}

/** Handlers that record one effect per processed event (for the given types), in the event's transaction. */
export function countingHandlers(
  types: string[],
  options: { worker?: string; afterEffect?: (event: Stripe.Event) => Promise<void> | void } = {},
): HandlerRegistry {
  const registry: Record<string, unknown> = {};
  for (const type of types) {
    registry[type] = async (event: Stripe.Event, ctx: { db: Kysely<Database> }) => {
      await sql`insert into test_effects (event_id, worker) values (${event.id}, ${options.worker ?? null})`.execute(ctx.db);
      await options.afterEffect?.(event);
    };
  }
  return registry;
}

/** Polls `check` until it returns true (no timing assertion: the test's own timeout bounds it). */
export async function waitFor(check: () => Promise<boolean> | boolean, intervalMs = 50): Promise<void> {
  for (;;) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A connected account with Express-equivalent controller properties (as the sellers module creates them). */
export async function createExpressAccount(emulator: TestEmulator, metadata: Record<string, string> = {}): Promise<Stripe.Account> {
  return emulator.stripe.accounts.create({ ...EXPRESS_ACCOUNT, country: 'US', metadata });
}

/**
 * Starts test/helpers/worker-child.ts (a worker in a process of its own) on `databaseUrl`, and
 * resolves once it hangs inside its `hangAt`-th apply, with its worker id and a way to kill it there.
 */
export async function startHangingWorker(databaseUrl: string, leaseMs: number, hangAt = 1): Promise<{ workerId: string; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-child.ts', databaseUrl, String(leaseMs), String(hangAt)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const workerId = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /IN_HANDLER (\S+) (\S+)/.exec(out);
      if (match) resolve(match[2]!);
    });
    child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  const kill = async () => {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  return { workerId, kill };
}

/** For a file that counts effects: the table made before its tests, and the inbox and the table emptied before each. */
export function useEffectsTable(w: { readonly db: Kysely<Database> }): void {
  beforeAll(async () => {
    await createEffectsTable(w.db);
  });
  beforeEach(async () => {
    await w.db.deleteFrom('stripe_events').execute();
    await sql`delete from test_effects`.execute(w.db);
  });
}
