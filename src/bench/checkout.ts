// Checkout creation: server time to turn a buy into a Checkout Session against the in-process
// emulator — buyWithCheckout (the order's transaction, then the Stripe call with nothing open, then
// the short write of its answer), the work behind POST /checkout/:listingId — p50 and p99 over
// BENCH_CHECKOUTS orders, one at a time. In this process with the emulator (no HTTP load to share a
// loop with). Uses DATABASE_URL if set (a throwaway database on that server, dropped afterwards), else PGlite.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createUser } from '../auth/users.ts';
import { loadConfig } from '../config.ts';
import { connectPglite, connectPostgres, type DatabaseHandle } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { startEmulator } from '../emulator/index.ts';
import { buyWithCheckout } from '../orders/use-cases.ts';
import { PENDING_ORDERS_PER_BUYER } from '../orders/rules.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../sellers/use-cases.ts';
import { createStripeClient } from '../stripe/client.ts';

const CHECKOUTS = Number(process.env.BENCH_CHECKOUTS ?? 300);

async function database(): Promise<{ handle: DatabaseHandle; where: string; drop: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl === undefined) return { handle: await connectPglite(), where: 'PGlite (in memory)', drop: async () => {} };
  const name = `bench_checkout_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = connectPostgres(url.toString(), { max: 20 });
  return {
    handle,
    where: `PostgreSQL at ${url.host}`,
    drop: async () => {
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const db = await database();
  await migrateToLatest(db.handle.db);
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1' });
  const stripe = createStripeClient({ secretKey: 'sk_test_bench', emulator: { host: '127.0.0.1', port: emulator.port }, maxNetworkRetries: 0 });
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-checkout-')), LOG_LEVEL: 'silent' });

  try {
    // An enabled seller with a real (emulated) Connect account, 50 listings, and buyers enough that
    // none reaches the cap on orders awaiting payment (PENDING_ORDERS_PER_BUYER).
    const seller = await createUser(db.handle.db, {
      email: 'bench-seller@example.test',
      password: 'bench-password-1',
      role: 'seller',
      displayName: 'Bench Seller',
    });
    const buyer = await createUser(db.handle.db, {
      email: 'bench-buyer@example.test',
      password: 'bench-password-1',
      role: 'buyer',
      displayName: 'Bench Buyer',
    });
    if (!seller.ok || !buyer.ok) throw new Error('could not create bench users');
    const { accountId } = await ensureConnectedAccount(db.handle.db, stripe, { sellerId: seller.user.id, country: 'US', email: seller.user.email });
    await fetch(`${emulator.url}/_emulator/accounts/${accountId}/onboarding`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'verified' }),
    });
    await syncAccountFromStripe(db.handle.db, stripe, accountId);
    const listings = await db.handle.db
      .insertInto('listings')
      .values(
        Array.from({ length: 50 }, (_, i) => ({
          seller_id: seller.user.id,
          title: `Bench listing ${i + 1}`,
          description: 'A thing to buy.',
          price_amount: 1000 + i * 37,
          currency: 'usd',
          stock: null,
          kind: 'digital' as const,
        })),
      )
      .returning('id')
      .execute();

    // Further buyers share the first one's password hash: hashing 300 passwords would only slow the set-up.
    const buyers = [
      buyer.user,
      ...(await db.handle.db
        .insertInto('users')
        .values(
          Array.from({ length: Math.ceil(CHECKOUTS / PENDING_ORDERS_PER_BUYER) }, (_, i) => ({
            email: `bench-buyer-${i + 2}@example.test`,
            password_hash: buyer.user.password_hash,
            role: 'buyer' as const,
            display_name: `Bench Buyer ${i + 2}`,
            name_key: `bench buyer ${i + 2}`,
          })),
        )
        .returningAll()
        .execute()),
    ];

    console.log(`\nCheckout creation — ${db.where}; emulator in this process; ${new Date().toISOString()}`);
    const times: number[] = [];
    let failures = 0;
    let firstFailure: unknown;
    for (let i = 0; i < CHECKOUTS; i++) {
      const listing = listings[i % listings.length]!;
      const shopper = buyers[Math.floor(i / PENDING_ORDERS_PER_BUYER)]!;
      const started = performance.now();
      const bought = await buyWithCheckout(db.handle.db, stripe, {
        buyerId: shopper.id,
        buyerEmail: shopper.email,
        listingId: listing.id,
        quantity: 1,
        attemptId: randomUUID(),
        publicUrl: config.publicUrl,
      }).catch((error: unknown) => {
        firstFailure ??= error;
        return undefined;
      });
      times.push(performance.now() - started);
      if (bought === undefined) failures += 1;
    }
    times.sort((a, b) => a - b);
    console.log(`  ${CHECKOUTS} orders, one at a time (order transaction + Checkout Session):`);
    console.log(
      `  p50 ${percentile(times, 50).toFixed(1)} ms   p99 ${percentile(times, 99).toFixed(1)} ms   max ${times.at(-1)?.toFixed(1)} ms   failures ${failures}`,
    );
    // A failure is a finding, not noise: say what it was (a silent count once hid a cap on pending orders).
    if (firstFailure !== undefined)
      console.log(`  first failure: ${firstFailure instanceof Error ? `${firstFailure.name}: ${firstFailure.message}` : String(firstFailure)}`);
  } finally {
    await emulator.stop();
    await db.handle.close();
    await db.drop();
  }
}

export const benchCheckout = main;
