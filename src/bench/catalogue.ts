// Catalogue: GET / of the production web process (20 enabled sellers, 100 listings; the page shows
// its first 24) against a bare route answering a small fixed page, in the same run with the same
// load, BENCH_ROUNDS rounds of BENCH_CATALOGUE_SECONDS each, median of the per-round ratios.
// Goal: ours ≥ 0.25 of the bare route's requests per second.
import { createThrowawayDatabase } from './support/database.ts';
import { getPage, median, seconds, type LoadResult } from './support/load.ts';
import { fmt, verdict, type Check } from './support/report.ts';
import { seedMarketplace } from './support/seed.ts';
import { startBenchServer, startProductionWeb } from './support/servers.ts';

const CONNECTIONS = 10;

export async function benchCatalogue(): Promise<Check[]> {
  const runSeconds = seconds('BENCH_CATALOGUE_SECONDS', 10);
  const rounds = seconds('BENCH_ROUNDS', 3);
  const database = await createThrowawayDatabase('bench_catalogue');
  await seedMarketplace(database.handle.db, { sellers: 20, buyers: 1, listingsPerSeller: 5 });
  const servers = await Promise.all([startProductionWeb(database.url), startBenchServer('bare-page', database.url)]);
  const [ours, bare] = servers;
  try {
    const page = await (await fetch(`${ours.url}/`)).text();
    const shown = (page.match(/data-listing-id=/g) ?? []).length;
    if (shown === 0) throw new Error('the catalogue shows no listings: the benchmark would measure an empty page');
    console.log(`\nCatalogue — ${CONNECTIONS} connections, ${rounds} round(s) of ${runSeconds} s per server; the page shows ${shown} listings`);
    await getPage(`${ours.url}/`, { seconds: 2, connections: CONNECTIONS });
    await getPage(`${bare.url}/`, { seconds: 2, connections: CONNECTIONS });
    const results: Record<'ours' | 'bare', LoadResult[]> = { ours: [], bare: [] };
    for (let round = 0; round < rounds; round++) {
      results.ours.push(await getPage(`${ours.url}/`, { seconds: runSeconds, connections: CONNECTIONS }));
      results.bare.push(await getPage(`${bare.url}/`, { seconds: runSeconds, connections: CONNECTIONS }));
    }
    for (const [name, runs] of Object.entries(results)) {
      const failed = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      console.log(
        `  ${name.padEnd(9)} ${fmt(median(runs.map((r) => r.rps)), 0).padStart(6)} req/s (median; rounds ${runs.map((r) => r.rps.toFixed(0)).join(', ')})   p50 ${fmt(median(runs.map((r) => r.p50)))} ms   p99 ${fmt(median(runs.map((r) => r.p99)))} ms   failed ${failed}`,
      );
    }
    const ratio = median(results.ours.map((r, i) => r.rps / results.bare[i]!.rps));
    const failures = results.ours.reduce((n, r) => n + r.non2xx + r.errors, 0);
    console.log(`  ours / bare ${fmt(ratio, 2)} (goal ≥ 0.25: ${verdict(ratio >= 0.25)})`);
    return [{ name: 'Catalogue vs bare route', value: fmt(ratio, 2), goal: '≥ 0.25', met: ratio >= 0.25 && failures === 0 }];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
  }
}
