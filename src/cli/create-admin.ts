// `npm run admin:create -- --email a@b.c --password '…' [--name 'Ann Admin']`
import { parseArgs } from 'node:util';
import { displayNameProblem } from '../auth/display-names.ts';
import { passwordWeakness } from '../auth/password-strength.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { createUser } from '../auth/users.ts';
import { loadConfig } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { runCli } from './run.ts';

// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

await runCli(async () => {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } } });
  if (values.email === undefined || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email)) throw new Error('--email must be an email address');
  if (values.password === undefined || values.password.length < MIN_PASSWORD_LENGTH || values.password.length > MAX_PASSWORD_LENGTH) {
    throw new Error(`--password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
  // The checks sign-up applies (src/auth/signup.ts), for the account that matters most.
  const name = values.name ?? 'Admin';
  if (CONTROL_CHARACTER.test(name) || CONTROL_CHARACTER.test(values.password)) throw new Error('--name and --password must not contain control characters');
  const nameProblem = displayNameProblem(name, 'admin');
  if (nameProblem !== null) throw new Error(`--name: ${nameProblem}`);
  const weakness = await passwordWeakness(values.password, { email: values.email, displayName: name });
  if (weakness !== null) throw new Error(`--password: ${weakness}`);
  const config = loadConfig();
  const database = await connectDatabase(config);
  try {
    await migrateToLatest(database.db);
    const created = await createUser(database.db, {
      email: values.email,
      password: values.password,
      role: 'admin',
      displayName: name,
    });
    if (!created.ok) throw new Error(`An account with ${values.email} already exists`);
    console.log(`Admin ${created.user.email} created.`);
  } finally {
    await database.close();
  }
});
