// Search: catalogue pages of the production web process over 10,000 listings (20 sellers), against
// the bare page route in the same run with the same load, BENCH_ROUNDS rounds of
// BENCH_SEARCH_SECONDS each (medians of the rounds):
// - a popular search (`/?q=ceramic`: 2,300 matches ranked), as buyers mostly meet it: from the page cache;
// - varied searches: 640 different requests (words × order × seller) taken in turn, more than the
//   cache keeps, so nearly every one reads the database: the query's own cost;
// - deep sorted pages: pages 50 to 100 of price-up and newest-first, also in turn (keyset: no
//   deeper than page 1 should cost).
// Reports p99 page time and requests per second against the bare route's.
import { createThrowawayDatabase } from './support/database.ts';
import { getPage, getPages, median, seconds, type LoadResult } from './support/load.ts';
import { fmt, verdict, type Check } from './support/report.ts';
import { analyze, seedCatalogueListings, seedMarketplace } from './support/seed.ts';
import { startBenchServer, startProductionWeb } from './support/servers.ts';

const CONNECTIONS = 10;
const LISTINGS = 10_000;
const WORDS = ['mug', 'ceramic', 'wool', 'glass vase', 'oak or walnut', 'linen', '"candle holder"', 'bowl -walnut'];
const SORTS = ['', 'newest', 'price_asc', 'price_desc'];

/** The address of page `n` (1-based) of `path`, found by following its "More listings" links. */
async function deepPage(base: string, path: string, n: number): Promise<string> {
  let url = path;
  for (let page = 1; page < n; page++) {
    const body = await (await fetch(`${base}${url}`)).text();
    const next = /href="([^"]+)" rel="next"/.exec(body)?.[1]?.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
    if (next === undefined) throw new Error(`${path} has fewer than ${n} pages`);
    url = next;
  }
  return url;
}

export async function benchSearch(): Promise<Check[]> {
  const runSeconds = seconds('BENCH_SEARCH_SECONDS', 10);
  const rounds = seconds('BENCH_ROUNDS', 3);
  const deepest = seconds('BENCH_SEARCH_DEEPEST', 100);
  const database = await createThrowawayDatabase('bench_search');
  await seedMarketplace(database.handle.db, { sellers: 20, buyers: 1, listingsPerSeller: 0 });
  await seedCatalogueListings(database.handle.db, LISTINGS);
  await analyze(database.handle.db);
  const sellers = (await database.handle.db.selectFrom('sellers').select('id').execute()).map((s) => s.id);
  const servers = await Promise.all([startProductionWeb(database.url), startBenchServer('bare-page', database.url)]);
  const [ours, bare] = servers.map((server) => server.url!) as [string, string];
  try {
    const varied = WORDS.flatMap((q) => SORTS.flatMap((sort) => sellers.map((seller) => `/?${new URLSearchParams({ q, sort, seller }).toString()}`)));
    const deep: string[] = [];
    const shallowest = Math.max(2, Math.floor(deepest / 2));
    for (const sort of ['price_asc', 'newest']) {
      let url = await deepPage(ours, `/?sort=${sort}`, shallowest);
      for (let page = shallowest; page <= deepest; page++) {
        deep.push(url);
        url = await deepPage(ours, url, 2);
      }
    }
    const popular = await (await fetch(`${ours}/?q=ceramic`)).text();
    const shown = (popular.match(/data-listing-id=/g) ?? []).length;
    if (shown === 0) throw new Error('the search shows no listings: the benchmark would measure an empty page');
    console.log(
      `\nSearch — ${LISTINGS.toLocaleString('en')} listings, ${CONNECTIONS} connections, ${rounds} round(s) of ${runSeconds} s per page kind; varied: ${varied.length} requests in turn; deep: pages ${shallowest}–${deepest} of two orders`,
    );

    const kinds: Record<string, () => Promise<LoadResult>> = {
      'bare route': () => getPage(`${bare}/`, { seconds: runSeconds, connections: CONNECTIONS }),
      'popular search': () => getPage(`${ours}/?q=ceramic`, { seconds: runSeconds, connections: CONNECTIONS }),
      'varied searches': () => getPages(ours, varied, { seconds: runSeconds, connections: CONNECTIONS }),
      'deep sorted pages': () => getPages(ours, deep, { seconds: runSeconds, connections: CONNECTIONS }),
    };
    for (const run of Object.values(kinds)) await run(); // warm-up: JIT, connections, plans
    const results: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(kinds).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(kinds)) results[name]!.push(await run());
    }
    const bareRuns = results['bare route']!;
    const checks: Check[] = [];
    for (const [name, runs] of Object.entries(results)) {
      const failed = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      const ratio = median(runs.map((r, i) => r.rps / bareRuns[i]!.rps));
      const p99 = median(runs.map((r) => r.p99));
      console.log(
        `  ${name.padEnd(18)} ${fmt(median(runs.map((r) => r.rps)), 0).padStart(6)} req/s   p50 ${fmt(median(runs.map((r) => r.p50)))} ms   p99 ${fmt(p99)} ms (bare ${fmt(median(bareRuns.map((r) => r.p99)))} ms)   ${name === 'bare route' ? '' : `ours / bare ${fmt(ratio, 2)}   `}failed ${failed}`,
      );
      if (name === 'popular search')
        checks.push({ name: 'Popular search vs bare route', value: fmt(ratio, 2), goal: '≥ 0.25', met: ratio >= 0.25 && failed === 0 });
      if (name !== 'bare route')
        checks.push({
          name: `Search p99, ${name}`,
          value: `${fmt(p99)} ms (${fmt(ratio, 2)} of bare req/s)`,
          goal: 'reported',
          met: failed === 0 ? undefined : false,
        });
    }
    console.log(`  popular search / bare ${checks[0]?.value ?? 'n/a'} (goal ≥ 0.25: ${verdict(checks[0]?.met)})`);
    return checks;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
  }
}
