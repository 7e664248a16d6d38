// List pages at scale: the admin orders list and the webhook event log (first pages, deep pages
// 90 % of the way down, and their filters) and the admin home, timed through the production web
// process against two throwaway databases side by side: one with BENCH_LIST_ROWS_SMALL (default
// 1,000) orders and inbox events, one with BENCH_LIST_ROWS (default 1,000,000). Each page is
// requested BENCH_LIST_REQUESTS times per size (after 3 warm-ups), alternating small and large, and
// the medians are compared. Alternating matters: measured one size after the other, the large size
// ran while PostgreSQL was still writing out the million rows just loaded, and the ratio measured
// that, not the page. Goal: the orders and event-log first and deep pages at the large size within
// 1.5× of the small size — a page costs what it shows, not what the table holds.
import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { createThrowawayDatabase } from './support/database.ts';
import { median, seconds } from './support/load.ts';
import { fmt, verdict, type Check } from './support/report.ts';
import { analyze, seedAdminCookie, seedEvents, seedMarketplace, seedOrders } from './support/seed.ts';
import { startProductionWeb } from './support/servers.ts';

export interface Page {
  name: string;
  /** Part of the acceptance goal (orders and event log, first and deep). */
  goal: boolean;
  /** The page's path for the current data (deep pages need a cursor from it). */
  path: (db: Kysely<Database>) => Promise<string>;
  /** Rows the page must show, so a broken page cannot pass for a fast one. */
  marker: RegExp;
}

const ORDER_ROW = /data-order-id=/g;
const EVENT_ROW = /data-event-id=/g;

/** The keyset cursor of the row 90 % of the way down a list, in the format the page links use. */
async function deepCursor(db: Kysely<Database>, table: 'orders' | 'stripe_events', where: ReturnType<typeof sql>): Promise<string> {
  const at = table === 'orders' ? sql.ref('created_at') : sql.ref('received_at');
  const count = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where ${where}`.execute(db);
  const offset = Math.floor(count.rows[0]!.n * 0.9);
  const row = await sql<{
    at: Date;
    id: string;
  }>`select ${at} as at, id from ${sql.table(table)} where ${where} order by ${at} desc, id desc offset ${offset} limit 1`.execute(db);
  const { at: time, id } = row.rows[0]!;
  return encodeURIComponent(`${time.toISOString()}|${id}`);
}

export const PAGES: Page[] = [
  { name: 'orders, first page', goal: true, marker: ORDER_ROW, path: async () => '/admin/orders' },
  { name: 'orders, deep page', goal: true, marker: ORDER_ROW, path: async (db) => `/admin/orders?before=${await deepCursor(db, 'orders', sql`true`)}` },
  { name: 'orders ?status=pending, first', goal: false, marker: ORDER_ROW, path: async () => '/admin/orders?status=pending' },
  {
    name: 'orders ?status=pending, deep',
    goal: false,
    marker: ORDER_ROW,
    path: async (db) => `/admin/orders?status=pending&before=${await deepCursor(db, 'orders', sql`status = 'pending'`)}`,
  },
  {
    name: 'orders ?seller=…, deep',
    goal: false,
    marker: ORDER_ROW,
    path: async (db) => {
      const seller = (await db.selectFrom('sellers').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow()).id;
      return `/admin/orders?seller=${seller}&before=${await deepCursor(db, 'orders', sql`seller_id = ${seller}`)}`;
    },
  },
  { name: 'event log, first page', goal: true, marker: EVENT_ROW, path: async () => '/admin/events' },
  {
    name: 'event log, deep page',
    goal: true,
    marker: EVENT_ROW,
    path: async (db) => `/admin/events?before=${await deepCursor(db, 'stripe_events', sql`true`)}`,
  },
  { name: 'event log ?status=failed, first', goal: false, marker: EVENT_ROW, path: async () => '/admin/events?status=failed' },
  {
    name: 'event log ?type=payout.paid, deep',
    goal: false,
    marker: EVENT_ROW,
    path: async (db) => `/admin/events?type=payout.paid&before=${await deepCursor(db, 'stripe_events', sql`type = 'payout.paid'`)}`,
  },
  {
    name: 'event log ?account=…, deep',
    goal: false,
    marker: EVENT_ROW,
    path: async (db) => `/admin/events?account=acct_seed000001&before=${await deepCursor(db, 'stripe_events', sql`account = 'acct_seed000001'`)}`,
  },
  { name: 'admin home', goal: false, marker: /data-testid="webhook-health"/g, path: async () => '/admin' },
];

/** One request: its round trip, after checking it answered with the rows it must show. */
async function requestPage(url: string, cookie: string, marker: RegExp): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { cookie, accept: 'text/html' } });
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200 || (body.match(marker) ?? []).length === 0) throw new Error(`${url} answered ${response.status} without the rows it should show`);
  return elapsed;
}

interface Side {
  rows: number;
  database: Awaited<ReturnType<typeof createThrowawayDatabase>>;
  web: Awaited<ReturnType<typeof startProductionWeb>>;
  cookie: string;
}

async function seedSide(rows: number): Promise<Omit<Side, 'web'>> {
  const database = await createThrowawayDatabase('bench_lists');
  const db = database.handle.db;
  const started = performance.now();
  await seedMarketplace(db, { sellers: 20, buyers: 200, listingsPerSeller: 5 });
  const cookie = await seedAdminCookie(db);
  await seedOrders(db, 1, rows);
  await seedEvents(db, 1, rows);
  await analyze(db);
  console.log(`  seeded ${rows.toLocaleString('en-US')} orders and events (${fmt((performance.now() - started) / 1000, 0)} s)`);
  return { rows, database, cookie };
}

export async function benchLists(): Promise<Check[]> {
  const small = seconds('BENCH_LIST_ROWS_SMALL', 1_000);
  const large = seconds('BENCH_LIST_ROWS', 1_000_000);
  const requests = seconds('BENCH_LIST_REQUESTS', 20);
  console.log(
    `\nList pages — median of ${requests} requests per page and size, alternating ${small.toLocaleString('en-US')} and ${large.toLocaleString('en-US')} orders and events`,
  );
  const seeded: Omit<Side, 'web'>[] = [];
  const webs: Side['web'][] = [];
  try {
    for (const rows of [small, large]) seeded.push(await seedSide(rows));
    for (const side of seeded) webs.push(await startProductionWeb(side.database.url));
    const sides: Side[] = seeded.map((side, i) => ({ ...side, web: webs[i]! }));
    // Both databases written out before timing, so no checkpoint of the bulk load lands in it.
    await sql`checkpoint`.execute(sides[0]!.database.handle.db);
    const timings = new Map<string, number[]>();
    for (const page of PAGES) {
      const urls = await Promise.all(sides.map(async (side) => `${side.web.url}${await page.path(side.database.handle.db)}`));
      const times: number[][] = sides.map(() => []);
      for (let i = 0; i < requests + 3; i++) {
        for (const [s, side] of sides.entries()) {
          const ms = await requestPage(urls[s]!, side.cookie, page.marker);
          if (i >= 3) times[s]!.push(ms);
        }
      }
      timings.set(page.name, times.map(median));
    }
    console.log(`  ${'page'.padEnd(36)} ${small.toLocaleString('en-US').padStart(9)} rows ${large.toLocaleString('en-US').padStart(11)} rows   ratio`);
    const checks: Check[] = [];
    for (const page of PAGES) {
      const [atSmall, atLarge] = timings.get(page.name)!;
      const ratio = atLarge! / atSmall!;
      console.log(
        `  ${page.name.padEnd(36)} ${fmt(atSmall).padStart(9)} ms ${fmt(atLarge).padStart(11)} ms   ${fmt(ratio, 2)}${page.goal ? ` (goal ≤ 1.5: ${verdict(ratio <= 1.5)})` : ''}`,
      );
      if (page.goal)
        checks.push({
          name: `Admin ${page.name} at ${large.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} rows`,
          value: `${fmt(ratio, 2)}× (${fmt(atSmall)} → ${fmt(atLarge)} ms)`,
          goal: '≤ 1.5×',
          met: ratio <= 1.5,
        });
    }
    return checks;
  } finally {
    for (const web of webs) await web.stop();
    for (const side of seeded) await side.database.drop();
  }
}
