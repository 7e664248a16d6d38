// `npm run migrate` (up to latest) and `npm run migrate -- down` (undo the newest migration).
// Production's release command runs the first before new code takes traffic.
import { loadConfig } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateDown, migrateToLatest } from '../db/migrate.ts';
import { runCli } from './run.ts';

await runCli(async () => {
  const direction = process.argv[2] ?? 'up';
  if (direction !== 'up' && direction !== 'down') throw new Error('usage: npm run migrate [-- up|down]');
  const config = loadConfig();
  const database = await connectDatabase(config);
  try {
    const applied = direction === 'up' ? await migrateToLatest(database.db) : await migrateDown(database.db);
    console.log(applied.length === 0 ? 'Nothing to migrate.' : applied.join('\n'));
  } finally {
    await database.close();
  }
});
