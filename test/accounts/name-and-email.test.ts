// The buyer's name form and the email-change form against the real app, database and emulator:
// saving the name never writes an email back (review #10), asking to move to an address answers
// the same whether or not it has an account (review #7), and a confirmed change stands even when
// Stripe refuses to hear of it (review #4).
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { confirmEmailChange, requestEmailChange } from '../../src/accounts/use-cases.ts';
import { connectPostgres } from '../../src/db/connect.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';

/** Runs once, right after the app's next session look-up has answered (before the route's handler). */
let afterSessionLookup: (() => Promise<void>) | undefined;
const sessionLookups = new Set<string>();
const hook: KyselyPlugin = {
  transformQuery({ node, queryId }) {
    if (afterSessionLookup !== undefined && node.kind === 'SelectQueryNode' && JSON.stringify(node.from).includes('"sessions"'))
      sessionLookups.add(queryId.queryId);
    return node;
  },
  async transformResult({ result, queryId }) {
    const run = afterSessionLookup;
    if (sessionLookups.delete(queryId.queryId) && run !== undefined) {
      afterSessionLookup = undefined;
      await run();
    }
    return result;
  },
};

// The app runs on its own pool with the hook; the test acts "meanwhile" through the file's own pool.
describe.skipIf(isPglite())('the buyer saves their name', () => {
  const w = useWorld({ emulator: true, db: (database) => connectPostgres(database.url!).db.withPlugin(hook) });

  async function emailChangeToken(userId: string, newEmail: string): Promise<string> {
    await requestEmailChange(w.db, { userId, currentPassword: TEST_PASSWORD, newEmail });
    const row = await w.db
      .selectFrom('email_outbox')
      .select('data')
      .where('to_address', '=', newEmail)
      .where('template', '=', 'email-change-confirm')
      .executeTakeFirstOrThrow();
    return new URL((row.data as { confirmPath: string }).confirmPath, 'http://x').searchParams.get('token')!;
  }

  it('while an email change is confirmed: the new email stays (the name form writes the name only)', async () => {
    const { client, userId } = await w.signIn('buyer');
    const newEmail = `confirmed-${Date.now()}@example.test`;
    const token = await emailChangeToken(userId, newEmail);
    await client.csrfToken(); // fetched now, so the next session look-up is the save's own

    // The confirmation commits after the save's session look-up read the old email, before the save runs.
    afterSessionLookup = async () => {
      await confirmEmailChange(w.db, w.stripe, token);
    };
    const saved = await client.post('/account/details', { displayName: 'Grace Hopper', password: TEST_PASSWORD });
    expect(afterSessionLookup).toBeUndefined(); // it ran
    expect([saved.statusCode, saved.location]).toEqual([303, '/account']);

    const row = await w.db.selectFrom('users').select(['email', 'display_name']).where('id', '=', userId).executeTakeFirstOrThrow();
    expect(row).toEqual({ email: newEmail, display_name: 'Grace Hopper' });
  });
});
