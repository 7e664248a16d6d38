// The buyer's name form and the email-change form against the real app, database and emulator:
// saving the name never writes an email back (review #10), asking to move to an address answers
// the same whether or not it has an account (review #7), and a confirmed change stands even when
// Stripe refuses to hear of it (review #4).
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { confirmEmailChange, requestEmailChange } from '../../src/accounts/use-cases.ts';
import { connectPostgres } from '../../src/db/connect.ts';
import { ensureBuyerCustomer } from '../../src/customers/use-cases.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
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

// The app runs on a pool of its own with the hook, and the test acts "meanwhile" through the file's
// own pool (on PGlite, one connection, the app shares the file's and the race is not run).
const w = useWorld({ emulator: true, db: (database) => (isPglite() ? database.db : connectPostgres(database.url!).db.withPlugin(hook)) });

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

describe('the buyer saves their name', () => {
  it.skipIf(isPglite())('while an email change is confirmed: the new email stays (the name form writes the name only)', async () => {
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

describe('asking to move the account to another address', () => {
  /** What the person sees after asking: where they are sent, and the page there. */
  async function ask(client: TestClient, email: string) {
    const response = await client.post('/account/email', { email, currentPassword: TEST_PASSWORD });
    const page = await client.get(response.location ?? '/account');
    return {
      status: response.statusCode,
      location: response.location,
      flash: /We have emailed a link to [^<]*/.exec(page.body)?.[0].replace(email, '<address>'),
    };
  }
  /** The statements requestEmailChange runs, as "<kind> <first table>". */
  async function statementsFor(userId: string, newEmail: string): Promise<string[]> {
    const seen: string[] = [];
    const recorder: KyselyPlugin = {
      transformQuery: ({ node }) => {
        seen.push(`${node.kind} ${/"table":\{.*?"name":"(\w+)"/.exec(JSON.stringify(node))?.[1] ?? '?'}`);
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    await requestEmailChange(w.db.withPlugin(recorder), { userId, currentPassword: TEST_PASSWORD, newEmail });
    return seen;
  }

  it('answers alike whether or not another account has the address, and sends nothing to a taken one', async () => {
    const { client, userId, email } = await w.signIn('buyer');
    const owner = await createTestUser(w.db, 'seller');
    const free = `free-${Date.now()}@example.test`;

    const taken = await ask(client, owner.email.toUpperCase());
    const fresh = await ask(client, free);
    expect(taken).toEqual(fresh);
    expect(fresh).toMatchObject({
      status: 303,
      location: '/account',
      flash: 'We have emailed a link to <address>. Your account keeps its current address until you open it.',
    });

    const outbox = await w.db.selectFrom('email_outbox').select(['to_address', 'template']).where('template', '=', 'email-change-confirm').execute();
    expect(outbox.map((m) => m.to_address.toLowerCase())).toContain(free);
    expect(outbox.map((m) => m.to_address.toLowerCase())).not.toContain(owner.email.toLowerCase());
    const requests = await w.db.selectFrom('email_change_requests').select('new_email').where('user_id', '=', userId).execute();
    expect(requests.map((r) => r.new_email)).toEqual([free]);
    expect((await w.db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirstOrThrow()).email).toBe(email);

    // No early answer for a taken address: the same statements run, and for it they roll back.
    expect(await statementsFor(userId, owner.email)).toEqual(await statementsFor(userId, `also-free-${Date.now()}@example.test`));
  });
});

describe('confirming a new address when Stripe will not take it', () => {
  it('the change stands and the page says so; Stripe is left to hear of it later', async () => {
    const { userId } = await w.signIn('buyer');
    const customerId = await ensureBuyerCustomer(w.db, w.stripe, userId);
    await w.stripe.customers.del(customerId); // e.g. removed in Stripe's Dashboard: every update now answers 404
    const newEmail = `after-stripe-${Date.now()}@example.test`;
    const token = await emailChangeToken(userId, newEmail);

    const confirmed = await new TestClient(w.app).post('/email-change/confirm', { token });
    expect([confirmed.statusCode, confirmed.location]).toEqual([303, '/login']);
    expect((await w.db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirstOrThrow()).email).toBe(newEmail);
    const note = await w.db
      .selectFrom('buyer_customers')
      .select(['details_version', 'details_synced_version'])
      .where('buyer_id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(note.details_synced_version).toBeLessThan(note.details_version);
  });
});
