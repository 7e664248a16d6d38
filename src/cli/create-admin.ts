// `npm run admin:create -- --email a@b.c --password '…' [--name 'Ann Admin']`
import { parseArgs } from 'node:util';
import { MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { createUser } from '../auth/users.ts';
import { loadConfig } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { runCli } from './run.ts';

await runCli(async () => {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } } });
  if (values.email === undefined || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email)) throw new Error('--email must be an email address');
  if (values.password === undefined || values.password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`--password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const config = loadConfig();
  const database = await connectDatabase(config);
  try {
    await migrateToLatest(database.db);
    const created = await createUser(database.db, {
      email: values.email, password: values.password, role: 'admin', displayName: values.name ?? 'Admin',
    });
    if (!created.ok) throw new Error(`An account with ${values.email} already exists`);
    console.log(`Admin ${created.user.email} created.`);
  } finally {
    await database.close();
  }
});
