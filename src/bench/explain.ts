// `npm run explain [-- --rows 100000]`: the query plans behind each admin list page, for review.
// Seeds a throwaway database (on DATABASE_URL's server) with that many orders and inbox events,
// opens each page of the list benchmark (./lists.ts) through the real app with a query log, and
// prints EXPLAIN (ANALYZE, BUFFERS) of every SELECT the page ran. A sequential scan of orders or
// stripe_events, or a filter that reads and discards many rows, is flagged: at a million rows
// that is the page that slows down.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { createStripeClient } from '../stripe/client.ts';
import { PAGES } from './lists.ts';
import { createThrowawayDatabase } from './support/database.ts';
import { analyze, seedAdminCookie, seedEvents, seedMarketplace, seedOrders } from './support/seed.ts';

const rowsFlag = process.argv.indexOf('--rows');
const rows = rowsFlag >= 0 ? Number(process.argv[rowsFlag + 1]) : 100_000;
if (!Number.isInteger(rows) || rows < 100) throw new Error('--rows must be a whole number of at least 100');

const database = await createThrowawayDatabase('explain');
const pool = new pg.Pool({ connectionString: database.url, max: 4 });
const captured: CompiledQuery[] = [];
const db = new Kysely<Database>({
  dialect: new PostgresDialect({ pool }),
  log: (event) => {
    if (event.level === 'query') captured.push(event.query);
  },
});
try {
  console.log(`Seeding ${rows.toLocaleString('en-US')} orders and inbox events…`);
  await seedMarketplace(database.handle.db, { sellers: 20, buyers: 200, listingsPerSeller: 5 });
  await seedOrders(database.handle.db, 1, rows);
  await seedEvents(database.handle.db, 1, rows);
  await analyze(database.handle.db);
  const cookie = await seedAdminCookie(database.handle.db);

  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'explain-')), LOG_LEVEL: 'silent', DATABASE_URL: database.url });
  const stripe = createStripeClient({ secretKey: 'sk_test_explain', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
  const app = await buildApp({ config, db, stripe, logger: false });
  for (const page of PAGES) {
    const path = await page.path(database.handle.db);
    captured.length = 0;
    const response = await app.inject({ method: 'GET', url: path, headers: { cookie, accept: 'text/html' } });
    console.log(`\n${'='.repeat(100)}\n${page.name}: GET ${decodeURIComponent(path)} → ${response.statusCode}`);
    for (const query of captured.filter((q) => /^\s*(with|select)\b/i.test(q.sql) && !/from "sessions"/.test(q.sql))) {
      const plan = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${query.sql}`, [...query.parameters]);
      const lines = plan.rows.map((r) => r['QUERY PLAN']);
      const seqScan = lines.some((l) => /Seq Scan on (orders|stripe_events)\b/.test(l));
      const discarded = Math.max(0, ...lines.map((l) => Number(/Rows Removed by Filter: (\d+)/.exec(l)?.[1] ?? 0)));
      const flags = [...(seqScan ? ['⚠ sequential scan of a large table'] : []), ...(discarded > 1000 ? [`⚠ a filter discarded ${discarded} rows`] : [])];
      console.log(`\n-- ${query.sql.replace(/\s+/g, ' ').slice(0, 400)}${flags.map((f) => `\n-- ${f}`).join('')}`);
      for (const line of lines) console.log(`   ${line}`);
    }
  }
  await app.close();
} finally {
  await db.destroy();
  await database.drop();
}
