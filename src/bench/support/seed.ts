// Data for the page benchmarks and the EXPLAIN script, written straight into a throwaway database:
// users, enabled sellers and their listings, an admin with a session, and any number of orders and
// inbox events made by generate_series in batches (a million of each takes a minute or two, not an
// hour of inserts from JavaScript). Row g of either table is g seconds older than the first, so
// growing a table adds older rows and the newest pages stay the same.
import { sql, type Kysely } from 'kysely';
import { displayNameKey } from '../../auth/display-names.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { createSession, SESSION_COOKIE } from '../../auth/sessions.ts';
import type { Database } from '../../db/schema.ts';

/** The moment row 0 was created; fixed per process so growth appends strictly older rows. */
const BASE = new Date(Math.floor(Date.now() / 1000) * 1000);
const BATCH = 100_000;

export async function seedMarketplace(db: Kysely<Database>, options: { sellers: number; buyers: number; listingsPerSeller: number }): Promise<void> {
  const passwordHash = await hashPassword('bench-password-not-used');
  await sql`
    insert into users (email, password_hash, role, display_name, name_key)
    select 'seller' || g || '@bench.example', ${passwordHash}, 'seller', 'Bench seller ' || lpad(g::text, 4, '0'), 'benchseller' || lpad(g::text, 4, '0')
      from generate_series(1, ${options.sellers}) g`.execute(db);
  await sql`
    insert into users (email, password_hash, role, display_name, name_key)
    select 'buyer' || g || '@bench.example', ${passwordHash}, 'buyer', 'Bench buyer ' || g, 'benchbuyer' || g from generate_series(1, ${options.buyers}) g`.execute(
    db,
  );
  await sql`
    insert into sellers (id, stripe_account_id, account_country, account_state, charges_enabled, payouts_enabled, details_submitted, state_observed_at)
    select id, 'acct_seed' || lpad(row_number() over (order by email)::text, 6, '0'), 'US', 'enabled', true, true, true, now()
      from users where role = 'seller'`.execute(db);
  await sql`
    insert into listings (seller_id, title, description, price_amount, currency, stock, kind, created_at)
    select s.id, 'Bench listing ' || g || ' of ' || u.display_name, 'Something worth buying, described in a sentence or two.', 1000 + g * 37, 'usd', case when g % 3 = 0 then null else 100 end, 'digital',
           ${BASE}::timestamptz - (g || ' minutes')::interval
      from sellers s join users u on u.id = s.id, generate_series(1, ${options.listingsPerSeller}) g`.execute(db);
}

/** An admin and a signed-in session: the Cookie header that opens the admin pages. */
export async function seedAdminCookie(db: Kysely<Database>): Promise<string> {
  const admin = await db
    .insertInto('users')
    .values({
      email: 'admin@bench.example',
      password_hash: await hashPassword('bench-password-not-used'),
      role: 'admin',
      display_name: 'Bench admin',
      name_key: displayNameKey('Bench admin'),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const { token } = await createSession(db, admin.id);
  return `${SESSION_COOKIE}=${token}`;
}

/** Orders g = from..to (mostly paid; every status present), spread over the sellers' listings and the buyers. */
export async function seedOrders(db: Kysely<Database>, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += BATCH) {
    const end = Math.min(to, start + BATCH - 1);
    await sql`
      with b as (select array_agg(id order by id) as ids from users where role = 'buyer'),
           l as (select array_agg(l.id order by l.id) as ids, array_agg(l.seller_id order by l.id) as sellers,
                        array_agg(s.stripe_account_id order by l.id) as accounts, array_agg(l.title order by l.id) as titles
                   from listings l join sellers s on s.id = l.seller_id)
      insert into orders (buyer_id, seller_id, listing_id, checkout_attempt_id, flow, title, quantity, unit_amount, amount, currency,
                          application_fee_amount, fee_basis_points, fee_fixed_amount, destination_account, buyer_email, status,
                          stripe_payment_intent_id, amount_refunded, paid_at, created_at, updated_at, kind)
      select b.ids[1 + g % cardinality(b.ids)], l.sellers[1 + g % cardinality(l.ids)], l.ids[1 + g % cardinality(l.ids)], gen_random_uuid(),
             'hosted', l.titles[1 + g % cardinality(l.ids)], 1, 1000 + g % 5000, 1000 + g % 5000, 'usd',
             (1000 + g % 5000) / 10, 1000, 0, l.accounts[1 + g % cardinality(l.ids)], 'buyer@bench.example', st.status,
             case when st.status <> 'pending' then 'pi_seed' || g end,
             case st.status when 'refunded' then 1000 + g % 5000 when 'partially_refunded' then (1000 + g % 5000) / 2 else 0 end,
             case when st.status in ('paid', 'refunded', 'partially_refunded') then t.at end, t.at, t.at, 'digital'
        from generate_series(${start}::int, ${end}::int) g, b, l,
             lateral (select date_trunc('milliseconds', ${BASE}::timestamptz - g * interval '1 second') as at) t,
             lateral (select (array['paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'canceled', 'payment_failed', 'refunded', 'partially_refunded', 'pending'])[1 + g % 12] as status) st`.execute(
      db,
    );
  }
}

/** Inbox events g = from..to: mostly done, some ignored, one in a thousand failed, one in five thousand dead. */
export async function seedEvents(db: Kysely<Database>, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += BATCH) {
    const end = Math.min(to, start + BATCH - 1);
    await sql`
      insert into stripe_events (id, type, account, created, livemode, api_version, source, payload, status, attempts,
                                 next_attempt_at, received_at, processed_at, updated_at, last_error)
      select 'evt_seed' || lpad(g::text, 10, '0'), ty.type, case when g % 2 = 0 then 'acct_seed' || lpad((1 + g % 20)::text, 6, '0') end,
             t.at - interval '1 second', false, '2026-10-28.endive', case when g % 2 = 0 then 'connect' else 'platform' end,
             jsonb_build_object('id', 'evt_seed' || g, 'object', 'event', 'type', ty.type,
                                'data', jsonb_build_object('object', jsonb_build_object('id', 'obj_seed' || g, 'amount', g % 5000, 'currency', 'usd'))),
             st.status, 1, case when st.status = 'failed' then t.at + interval '30 days' else t.at end, t.at,
             case when st.status in ('done', 'ignored') then t.at + interval '40 milliseconds' end, t.at,
             case when st.status in ('failed', 'dead') then 'Error: seeded failure' when st.status = 'ignored' then 'no handler' end
        from generate_series(${start}::int, ${end}::int) g,
             lateral (select date_trunc('milliseconds', ${BASE}::timestamptz - g * interval '1 second') as at) t,
             lateral (select (array['account.updated', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed',
                                    'payout.paid', 'application_fee.created', 'transfer.created', 'customer.created'])[1 + g % 8] as type) ty,
             lateral (select case when g % 5000 = 17 then 'dead' when g % 1000 = 3 then 'failed' when g % 8 = 7 then 'ignored' else 'done' end as status) st`.execute(
      db,
    );
  }
}

/** Fresh statistics after a bulk load, as autovacuum would give a real table in time. */
export async function analyze(db: Kysely<Database>): Promise<void> {
  await sql`vacuum analyze`.execute(db);
}

/**
 * `listings` listings spread over the sellers already seeded, shaped to make searching and paging
 * hard: eight kinds of title and description (so a word matches in a title for some and only in
 * the description for others, and many share one rank), forty prices (hundreds of ties), seven
 * listings per created_at moment (ties there too), every eleventh sold out and every 97th
 * deactivated. One INSERT … SELECT: 10,000 take well under a second.
 */
export async function seedCatalogueListings(db: Kysely<Database>, listings: number): Promise<void> {
  await sql`
    insert into listings (seller_id, title, description, price_amount, currency, stock, active, kind, created_at)
    select s.ids[1 + g % cardinality(s.ids)],
           (array['Stoneware mug', 'Linen tea towel', 'Walnut bowl', 'Wool scarf', 'Glass vase', 'Brass candle holder', 'Oak cutting board', 'Ceramic plate'])[1 + g % 8] || ' no. ' || g,
           (array['Glazed by hand, dishwasher safe.', 'Woven on a small loom.', 'Turned from one piece of wood.', 'Knitted from local wool.',
                  'Mouth-blown and signed.', 'Cast in a family foundry.', 'Oiled and ready to use.', 'A ceramic piece for every day, like a mug or a bowl.'])[1 + (g / 8) % 8],
           500 + (g % 40) * 125, 'usd',
           case when g % 11 = 0 then 0 when g % 3 = 0 then null else 5 end,
           g % 97 <> 0,
           case when g % 4 = 0 then 'digital' else 'physical' end,
           ${BASE}::timestamptz - ((g / 7) || ' seconds')::interval
      from generate_series(1, ${listings}) g, (select array_agg(id order by id) as ids from sellers) s`.execute(db);
}
