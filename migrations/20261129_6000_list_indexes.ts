// Indexes shaped like the queries that use them (issue 17), so a page costs what it shows, not
// what the table holds:
// - Admin lists sort newest first with the id as tie-breaker and page by keyset on (time, id): each
//   filter gets an index that ends in that sort, so a first page and a page a million rows deep
//   are both one index range read. The plans are printed by `npm run explain`.
// - The inbox's old status/type/account indexes did not end in the log's sort (and the account one
//   sorted by `created`, which no list uses): replaced. `source` answers the health page's "last
//   event from each endpoint" without scanning the table when an endpoint has gone quiet.
// - Webhook handlers find orders by the Stripe ids they carry (charge, transfer, application fee):
//   without an index each such event read the whole orders table.
// - The replaced orders_pending_idx is covered by (status, created_at, id).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index stripe_events_status`.execute(db);
  await sql`drop index stripe_events_type`.execute(db);
  await sql`drop index stripe_events_account`.execute(db);
  await sql`create index stripe_events_status_list on stripe_events (status, received_at desc, id desc)`.execute(db);
  await sql`create index stripe_events_type_list on stripe_events (type, received_at desc, id desc)`.execute(db);
  await sql`create index stripe_events_account_list on stripe_events (account, received_at desc, id desc)`.execute(db);
  await sql`create index stripe_events_source_received on stripe_events (source, received_at desc)`.execute(db);

  await sql`drop index orders_buyer_created_idx`.execute(db);
  await sql`drop index orders_seller_created_idx`.execute(db);
  await sql`drop index orders_pending_idx`.execute(db);
  await sql`create index orders_list on orders (created_at desc, id desc)`.execute(db);
  await sql`create index orders_status_list on orders (status, created_at desc, id desc)`.execute(db);
  await sql`create index orders_seller_list on orders (seller_id, created_at desc, id desc)`.execute(db);
  await sql`create index orders_buyer_list on orders (buyer_id, created_at desc, id desc)`.execute(db);
  await sql`create index orders_stripe_charge on orders (stripe_charge_id) where stripe_charge_id is not null`.execute(db);
  await sql`create index orders_stripe_transfer on orders (stripe_transfer_id) where stripe_transfer_id is not null`.execute(db);
  await sql`create index orders_stripe_application_fee on orders (stripe_application_fee_id) where stripe_application_fee_id is not null`.execute(db);

  // The admin home's open disputes (same list as CLOSED in src/disputes/disputes.ts, so the
  // planner can match the predicate), and an order page's disputes.
  await sql`create index disputes_open_due on disputes (evidence_due_by) where status not in ('won', 'lost', 'warning_closed', 'prevented')`.execute(db);
  await sql`create index disputes_order on disputes (order_id)`.execute(db);
  // The admin seller page's payouts and payout requests, and the audit log filtered by action.
  await sql`create index payouts_seller_list on payouts (seller_id, stripe_created desc, id desc)`.execute(db);
  await sql`create index payout_requests_seller_list on payout_requests (seller_id, created_at desc)`.execute(db);
  await sql`create index admin_audit_log_action on admin_audit_log (action, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'admin_audit_log_action',
    'payout_requests_seller_list',
    'payouts_seller_list',
    'disputes_order',
    'disputes_open_due',
    'orders_stripe_application_fee',
    'orders_stripe_transfer',
    'orders_stripe_charge',
    'orders_buyer_list',
    'orders_seller_list',
    'orders_status_list',
    'orders_list',
    'stripe_events_source_received',
    'stripe_events_account_list',
    'stripe_events_type_list',
    'stripe_events_status_list',
  ]) {
    await sql`drop index ${sql.ref(index)}`.execute(db);
  }
  await sql`create index orders_pending_idx on orders (created_at) where status = 'pending'`.execute(db);
  await sql`create index orders_seller_created_idx on orders (seller_id, created_at desc)`.execute(db);
  await sql`create index orders_buyer_created_idx on orders (buyer_id, created_at desc)`.execute(db);
  await sql`create index stripe_events_account on stripe_events (account, created desc)`.execute(db);
  await sql`create index stripe_events_type on stripe_events (type, received_at desc)`.execute(db);
  await sql`create index stripe_events_status on stripe_events (status, received_at desc)`.execute(db);
}
