// The one Database interface: every table the app reads or writes, as Kysely sees it.
// Migrations in ../../migrations create these tables; test/db/schema.test.ts fails when the two
// differ (a table, a column, its type or nullability, or a union type and its CHECK constraint).
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** A timestamp column the database fills in; Date when read, optional when written. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type Role = 'buyer' | 'seller' | 'admin';

export interface UsersTable {
  id: Generated<string>;
  /** Stored as typed; uniqueness and look-ups use lower(email). */
  email: string;
  password_hash: string;
  role: Role;
  display_name: string;
  /** displayNameKey(display_name): unique among sellers (src/auth/display-names.ts). */
  name_key: string;
  created_at: CreatedAt;
}

export interface SessionsTable {
  /** Public half of the session token; the secret half is only ever stored as a SHA-256 hash. */
  id: string;
  user_id: string;
  secret_hash: Uint8Array;
  created_at: CreatedAt;
  expires_at: Timestamp;
}

export interface LoginFailuresTable {
  id: Generated<number>;
  /** Trimmed and lowercased, whether or not an account has it. */
  email: string;
  /** The client address (see src/http/client-address.ts). */
  address: string;
  attempted_at: CreatedAt;
}

/** A sign-up answered "this email already has an account", by client address (src/auth/signup.ts). */
export interface SignupProbesTable {
  id: Generated<number>;
  address: string;
  attempted_at: CreatedAt;
}

/** An address an account has signed in from (the login throttle trusts it for that account). */
export interface LoginFamiliarAddressesTable {
  user_id: string;
  address: string;
  last_success_at: Timestamp;
}

export type AccountState = 'not_started' | 'onboarding_incomplete' | 'pending_verification' | 'restricted' | 'enabled' | 'rejected';

/** The raw requirement facts a seller's state was derived from (stored as jsonb on sellers). */
export interface StoredRequirements {
  currently_due: string[];
  past_due: string[];
  eventually_due: string[];
  pending_verification: string[];
  errors: { requirement: string; code: string; reason: string }[];
  capabilities: Record<string, string>;
}

export interface SellersTable {
  /** Same as users.id: the seller is the user. */
  id: string;
  stripe_account_id: ColumnType<string | null, string | null | undefined, string | null>;
  account_country: ColumnType<string | null, string | null | undefined, string | null>;
  account_email: ColumnType<string | null, string | null | undefined, string | null>;
  account_requested_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  account_state: ColumnType<AccountState, AccountState | undefined, AccountState>;
  charges_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  payouts_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  details_submitted: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  requirements_deadline: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Write as JSON.stringify(...): pg would turn a top-level array into a PostgreSQL array. */
  requirements: ColumnType<Partial<StoredRequirements>, string | undefined, string>;
  /** When the Stripe object behind the stored state was true; older snapshots never overwrite. */
  state_observed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type BillingInterval = 'one_off' | 'month' | 'year';
export type ListingKind = 'physical' | 'digital';

/** Where a physical order goes (see migrations/20261130_2340_shipping.ts), as Stripe's shipping details carry it. */
export interface ShipTo {
  name: string;
  line1: string;
  line2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

/** A physical order after payment: awaiting_shipment → shipped → delivered (null for digital orders). */
export type FulfilmentStatus = 'awaiting_shipment' | 'shipped' | 'delivered';
export type FulfilmentStep = 'shipped' | 'delivered';

export interface ListingsTable {
  id: Generated<string>;
  seller_id: string;
  title: string;
  description: ColumnType<string, string | undefined, string>;
  /** Integer minor units of `currency`. */
  price_amount: number;
  currency: string;
  /** null = unlimited. */
  stock: number | null;
  billing_interval: ColumnType<BillingInterval, BillingInterval | undefined, BillingInterval>;
  /** Physical goods are shipped (an address is collected); digital ones are not. */
  kind: ListingKind;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The title's (weight A) and description's (B) words, generated by PostgreSQL: never written (migrations/20261130_2345_search_catalogue.ts). */
  search_vector: ColumnType<string, never, never>;
}

export type StripeEventStatus = 'pending' | 'processing' | 'done' | 'failed' | 'dead' | 'ignored';
export type StripeEventSource = 'platform' | 'connect' | 'backfill';

/** The webhook inbox (see migrations/20261127_2000_stripe_events.ts). */
export interface StripeEventsTable {
  id: string;
  type: string;
  account: string | null;
  created: Timestamp;
  livemode: boolean;
  api_version: string | null;
  source: StripeEventSource;
  /** The event as JSON PostgreSQL can hold (see jsonbSafe in src/webhooks/inbox.ts). Write as a JSON string. */
  payload: ColumnType<unknown, string, string>;
  /** The delivered body's exact bytes, kept only when the jsonb copy had to replace a string (see inboxRow); otherwise null. */
  raw_body: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  status: ColumnType<StripeEventStatus, StripeEventStatus | undefined, StripeEventStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  /** When it is due; while `processing`, the lease expiry. */
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  locked_by: ColumnType<string | null, string | null | undefined, string | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  received_at: CreatedAt;
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The Stripe Customer the event is about, if any (see customerOfEvent in src/webhooks/inbox.ts). */
  customer_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** When a deleted buyer's details were removed from payload (eraseStoredEventsOfDeletedBuyers). */
  personal_data_erased_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface StripeBackfillCursorsTable {
  /** 'platform' or a connected account id. */
  scope: string;
  listed_through: Timestamp;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type OrderStatus = 'pending' | 'paid' | 'payment_failed' | 'canceled' | 'partially_refunded' | 'refunded';
export type OrderFlow = 'hosted' | 'custom' | 'saved_card';
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

/** Platform default (seller_id null) per currency, and per-seller overrides (see src/orders/fees.ts). */
export interface FeePoliciesTable {
  id: Generated<string>;
  seller_id: Nullable<string>;
  /** null = any currency (then fixed_amount is 0). */
  currency: Nullable<string>;
  basis_points: number;
  /** Minor units of `currency`. */
  fixed_amount: ColumnType<number, number | undefined, number>;
  on_behalf_of: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** One buyer buying a quantity of one listing of one seller (see src/orders/). Amounts in minor units. */
export interface OrdersTable {
  id: Generated<string>;
  buyer_id: string;
  seller_id: string;
  listing_id: string;
  checkout_attempt_id: string;
  flow: OrderFlow;
  title: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  currency: string;
  application_fee_amount: number;
  fee_policy_id: Nullable<string>;
  fee_basis_points: number;
  fee_fixed_amount: number;
  on_behalf_of: ColumnType<boolean, boolean | undefined, boolean>;
  destination_account: string;
  buyer_email: string;
  stock_reserved: ColumnType<boolean, boolean | undefined, boolean>;
  status: ColumnType<OrderStatus, OrderStatus | undefined, OrderStatus>;
  failure_code: Nullable<string>;
  failure_message: Nullable<string>;
  stripe_checkout_session_id: Nullable<string>;
  stripe_checkout_url: Nullable<string>;
  checkout_expires_at: Nullable<Date>;
  stripe_payment_intent_id: Nullable<string>;
  stripe_charge_id: Nullable<string>;
  stripe_transfer_id: Nullable<string>;
  stripe_application_fee_id: Nullable<string>;
  stripe_fee_amount: Nullable<number>;
  seller_net_amount: Nullable<number>;
  amount_refunded: ColumnType<number, number | undefined, number>;
  disputed: ColumnType<boolean, boolean | undefined, boolean>;
  /** The dispute's Stripe status, written as Stripe sends it (see DisputeStatus). */
  dispute_status: ColumnType<DisputeStatus | null, string | null | undefined, string | null>;
  paid_at: Nullable<Date>;
  /** The saved card a one-click (`saved_card`) order is paid with; null for the other flows. */
  payment_method_id: Nullable<string>;
  /** The custom flow's "save this card for next time". */
  save_payment_method: ColumnType<boolean, boolean | undefined, boolean>;
  /** Hosted Checkout: the buyer's Customer the session pays as (saved cards offered, saving allowed); null: the email only. */
  stripe_customer_id: Nullable<string>;
  /** Copied from the listing when the order is placed. */
  kind: ListingKind;
  /** Where to ship a physical order; null until known (and for digital orders). Write as JSON.stringify(...). */
  ship_to: ColumnType<ShipTo | null, string | null | undefined, string | null>;
  /** Custom flow, physical goods: when `paymentIntents.create` was first sent; from then on `ship_to` is fixed. */
  payment_intent_requested_at: Nullable<Date>;
  fulfilment_status: Nullable<FulfilmentStatus>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** One fulfilment step of an order, by its seller (at most one of each per order). */
export interface OrderFulfilmentStepsTable {
  id: Generated<number>;
  order_id: string;
  step: FulfilmentStep;
  carrier: string | null;
  tracking_number: string | null;
  actor_id: string | null;
  created_at: CreatedAt;
}

/** What caused an order's status change (see src/orders/rules.ts). */
export type OrderTransitionSource = 'webhook' | 'completion_page' | 'checkout' | 'reconcile' | 'admin';

export interface OrderTransitionsTable {
  id: Generated<number>;
  order_id: string;
  from_status: OrderStatus;
  to_status: OrderStatus;
  source: OrderTransitionSource;
  stripe_event_id: Nullable<string>;
  reason: Nullable<string>;
  created_at: CreatedAt;
}

// ---- Platform admin (issue 7): see migrations/20261127_4000_admin_money.ts ----

export interface AdminAuditLogTable {
  id: Generated<number>;
  actor_id: string | null;
  actor_email: string;
  /** e.g. 'refund.create', 'payouts.pause', 'fee_policy.update'. */
  action: string;
  target_type: string;
  target_id: string;
  /** Write as JSON.stringify(...). */
  before: ColumnType<unknown, string | null, string | null>;
  after: ColumnType<unknown, string | null, string | null>;
  created_at: CreatedAt;
}

export interface PlatformSettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SellerPayoutSettingsTable {
  seller_id: string;
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  previous_schedule: ColumnType<unknown, string | null | undefined, string | null>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type PayoutRequestStatus = 'requested' | 'created' | 'rejected';

export interface PayoutRequestsTable {
  id: string;
  seller_id: string;
  account: string;
  amount: number;
  currency: string;
  status: ColumnType<PayoutRequestStatus, PayoutRequestStatus | undefined, PayoutRequestStatus>;
  stripe_payout_id: Nullable<string>;
  error_message: Nullable<string>;
  requested_by: Nullable<string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/**
 * Stripe's payout statuses. Written as the SDK types them (string); the CHECK constraint refuses one
 * this list lacks, so a new Stripe status fails loudly (see migrations/20261128_1300_enum_checks.ts).
 */
export type PayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';

export interface PayoutsTable {
  id: string;
  account: string;
  seller_id: Nullable<string>;
  amount: number;
  currency: string;
  status: ColumnType<PayoutStatus, string, string>;
  automatic: boolean;
  method: ColumnType<string, string | undefined, string>;
  arrival_date: Nullable<Date>;
  failure_code: Nullable<string>;
  failure_message: Nullable<string>;
  stripe_created: Timestamp;
  observed_at: Timestamp;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type RefundStatus = 'requested' | 'rejected' | 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export interface RefundsTable {
  id: string;
  order_id: string;
  amount: number;
  currency: string;
  reason: Nullable<'duplicate' | 'fraudulent' | 'requested_by_customer'>;
  reverse_transfer: boolean;
  refund_application_fee: boolean;
  status: ColumnType<RefundStatus, RefundStatus | undefined, RefundStatus>;
  stripe_refund_id: Nullable<string>;
  transfer_reversal_amount: Nullable<number>;
  failure_reason: Nullable<string>;
  error_message: Nullable<string>;
  requested_by: Nullable<string>;
  observed_at: Nullable<Date>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Stripe's dispute statuses, written as the SDK gives them (like PayoutStatus). */
export type DisputeStatus =
  | 'warning_needs_response'
  | 'warning_under_review'
  | 'warning_closed'
  | 'needs_response'
  | 'under_review'
  | 'appeal_needs_response'
  | 'appeal_under_review'
  | 'won'
  | 'lost'
  | 'prevented';

export interface DisputesTable {
  id: string;
  order_id: Nullable<string>;
  charge_id: string;
  amount: number;
  currency: string;
  reason: string;
  status: ColumnType<DisputeStatus, string, string>;
  evidence_due_by: Nullable<Date>;
  evidence_submitted: ColumnType<boolean, boolean | undefined, boolean>;
  evidence_draft: ColumnType<unknown, string | null | undefined, string | null>;
  recovery_reversal_id: Nullable<string>;
  recovered_amount: ColumnType<number, number | undefined, number>;
  recovery_error: Nullable<string>;
  repayment_transfer_id: Nullable<string>;
  repaid_amount: ColumnType<number, number | undefined, number>;
  dispute_fee: ColumnType<number, number | undefined, number>;
  funds_withdrawn: ColumnType<boolean, boolean | undefined, boolean>;
  funds_reinstated: ColumnType<boolean, boolean | undefined, boolean>;
  stripe_created: Timestamp;
  observed_at: Timestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface OrderMoneyTable {
  order_id: string;
  fee_refunded: ColumnType<number, number | undefined, number>;
  transfer_reversed: ColumnType<number, number | undefined, number>;
  charge_refunded: ColumnType<number, number | undefined, number>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

// ---- Listing pictures and the email outbox (issue 16): see migrations/20261129_5000_listing_images.ts
// and migrations/20261129_5100_email_outbox.ts ----

export interface ListingImagesTable {
  id: string;
  listing_id: string;
  /** 0..7, unique per listing: the order buyers see them in (0 is the cover). */
  position: number;
  /** SHA-256 of the uploaded bytes, hex. */
  content_hash: string;
  thumb_key: string;
  thumb_width: number;
  thumb_height: number;
  large_key: string;
  large_width: number;
  large_height: number;
  /** Size of the upload as received. */
  bytes: number;
  created_at: CreatedAt;
}

export type EmailStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead' | 'unknown';
export type EmailTransportName = 'smtp' | 'mailbox';

export interface EmailOutboxTable {
  id: Generated<string>;
  dedupe_key: string;
  template: string;
  to_address: string;
  /** The template's data. Write as JSON.stringify(...). */
  data: ColumnType<unknown, string, string>;
  status: ColumnType<EmailStatus, EmailStatus | undefined, EmailStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_by: Nullable<string>;
  locked_until: Nullable<Date>;
  send_started_at: Nullable<Date>;
  sent_at: Nullable<Date>;
  transport: Nullable<EmailTransportName>;
  message_id: Nullable<string>;
  subject: Nullable<string>;
  text_body: Nullable<string>;
  html_body: Nullable<string>;
  last_error: Nullable<string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Requests refused for a bad signature, per endpoint and minute (the webhook health warnings). */
export interface WebhookSignatureFailuresTable {
  source: 'platform' | 'connect';
  minute: Timestamp;
  failures: number;
  last_reason: string;
  last_at: Timestamp;
}

/** Whole-table totals computed by the worker for the admin home (see src/admin/summary.ts). */
export interface AdminSummariesTable {
  name: string;
  /** Write as JSON.stringify(...). */
  value: ColumnType<unknown, string, string>;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The buyer's platform Stripe Customer (src/customers): the row is the intent, the id its result. */
export interface BuyerCustomersTable {
  buyer_id: string;
  stripe_customer_id: ColumnType<string | null, string | null | undefined, string | null>;
  requested_email: string;
  requested_name: string;
  requested_at: ColumnType<Date, Date | string | undefined, Date | string>;
  details_version: ColumnType<number, number | undefined, number>;
  details_synced_version: ColumnType<number, number | undefined, number>;
  default_payment_method_id: ColumnType<string | null, string | null | undefined, string | null>;
  default_observed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When Stripe confirmed the Customer deleted, after the buyer deleted their account (migrations/20261201_0140_buyer_customer_deletion.ts). */
  stripe_deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type SavedCardStatus = 'attached' | 'detached';

/** A buyer's card at Stripe, as far as we show it: brand, last 4 and expiry, nothing more. */
export interface BuyerPaymentMethodsTable {
  id: string;
  buyer_id: string;
  stripe_customer_id: string;
  status: SavedCardStatus;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  /** When the Stripe read this row reflects began: an older read never overwrites it. */
  observed_at: Timestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type CardSetupFlow = 'element' | 'checkout';
export type CardSetupStatus = 'pending' | 'succeeded' | 'failed';

/** One "add a card" attempt (the form's nonce) and its outcome. */
export interface CardSetupsTable {
  id: string;
  buyer_id: string;
  flow: CardSetupFlow;
  stripe_setup_intent_id: ColumnType<string | null, string | null | undefined, string | null>;
  stripe_checkout_session_id: ColumnType<string | null, string | null | undefined, string | null>;
  checkout_url: ColumnType<string | null, string | null | undefined, string | null>;
  status: ColumnType<CardSetupStatus, CardSetupStatus | undefined, CardSetupStatus>;
  failure_message: ColumnType<string | null, string | null | undefined, string | null>;
  payment_method_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

// ---- Subscriptions (issue 13): see migrations/20261130_1300_subscriptions.ts ----

export type PlanInterval = 'month' | 'year';
export type PlanStatus = 'active' | 'archived';

/** A seller's plan: a Product and its current recurring Price on the platform. */
export interface PlansTable {
  id: Generated<string>;
  seller_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  /** Minor units of `currency`: the current price. */
  amount: number;
  currency: string;
  interval: PlanInterval;
  trial_days: Nullable<number>;
  status: ColumnType<PlanStatus, PlanStatus | undefined, PlanStatus>;
  lookup_key: string;
  stripe_product_id: Nullable<string>;
  /** Bumped by a price change; the Price's idempotency key is `plan:<id>:price:<version>`. */
  price_version: ColumnType<number, number | undefined, number>;
  /** null while the current version's Price is not recorded yet. */
  stripe_price_id: Nullable<string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `pending` = recorded by us, not yet at Stripe; the others are Stripe's subscription statuses. */
export type SubscriptionStatus = 'pending' | 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled' | 'paused';
export type SubscriptionFlow = 'hosted' | 'custom';

export interface SubscriptionsTable {
  id: Generated<string>;
  buyer_id: string;
  seller_id: string;
  plan_id: string;
  flow: SubscriptionFlow;
  status: ColumnType<SubscriptionStatus, SubscriptionStatus | undefined, SubscriptionStatus>;
  amount: number;
  currency: string;
  interval: PlanInterval;
  destination_account: string;
  fee_policy_id: Nullable<string>;
  /** The fee policy's percentage when subscribed (1000 = 10 %): sent as application_fee_percent. */
  fee_basis_points: number;
  stripe_customer_id: Nullable<string>;
  stripe_price_id: Nullable<string>;
  stripe_subscription_id: Nullable<string>;
  stripe_checkout_session_id: Nullable<string>;
  stripe_checkout_url: Nullable<string>;
  latest_invoice_id: Nullable<string>;
  cancel_at_period_end: ColumnType<boolean, boolean | undefined, boolean>;
  current_period_start: Nullable<Date>;
  current_period_end: Nullable<Date>;
  trial_end: Nullable<Date>;
  canceled_at: Nullable<Date>;
  ended_at: Nullable<Date>;
  /** When the Stripe snapshot behind the row was read; an older one never overwrites it. */
  observed_at: Nullable<Date>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';

/** Stripe's invoices of our subscriptions, with their payment's money facts. */
export interface InvoicesTable {
  id: string;
  stripe_subscription_id: string;
  subscription_id: Nullable<string>;
  status: InvoiceStatus;
  billing_reason: Nullable<string>;
  number: Nullable<string>;
  amount_due: number;
  amount_paid: ColumnType<number, number | undefined, number>;
  currency: string;
  hosted_invoice_url: Nullable<string>;
  invoice_pdf: Nullable<string>;
  attempt_count: ColumnType<number, number | undefined, number>;
  next_payment_attempt: Nullable<Date>;
  /** The payment awaits the buyer's authentication (3D Secure). */
  action_required: ColumnType<boolean, boolean | undefined, boolean>;
  payment_error: Nullable<string>;
  period_start: Nullable<Date>;
  period_end: Nullable<Date>;
  stripe_payment_intent_id: Nullable<string>;
  stripe_charge_id: Nullable<string>;
  stripe_transfer_id: Nullable<string>;
  stripe_application_fee_id: Nullable<string>;
  stripe_fee_amount: Nullable<number>;
  application_fee_amount: Nullable<number>;
  seller_net_amount: Nullable<number>;
  amount_refunded: ColumnType<number, number | undefined, number>;
  fee_refunded: ColumnType<number, number | undefined, number>;
  transfer_reversed: ColumnType<number, number | undefined, number>;
  stripe_created: Timestamp;
  paid_at: Nullable<Date>;
  observed_at: Timestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface InvoiceRefundsTable {
  /** The admin form's nonce: the same form twice is the same refund (key `invoice-refund:<id>`). */
  id: string;
  invoice_id: string;
  amount: number;
  currency: string;
  reverse_transfer: boolean;
  refund_application_fee: boolean;
  status: ColumnType<RefundStatus, RefundStatus | undefined, RefundStatus>;
  stripe_refund_id: Nullable<string>;
  error_message: Nullable<string>;
  requested_by: Nullable<string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SellerPortalConfigurationsTable {
  seller_id: string;
  stripe_configuration_id: Nullable<string>;
  fingerprint: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

// ---- Accounts (issue 16, point 5): see migrations/20261130_1616_account_tokens.ts ----

/** An emailed password-reset link: single-use, an hour long; only the secret's SHA-256 is kept. */
export interface PasswordResetTokensTable {
  id: string;
  user_id: string;
  secret_hash: Uint8Array;
  expires_at: Timestamp;
  used_at: Nullable<Date>;
  created_at: CreatedAt;
}

/** A new email address waiting for its owner to confirm it by the emailed link. */
export interface EmailChangeRequestsTable {
  id: string;
  user_id: string;
  new_email: string;
  secret_hash: Uint8Array;
  expires_at: Timestamp;
  used_at: Nullable<Date>;
  created_at: CreatedAt;
}

/** A buyer who deleted their account: the users row stays (orders point at it), emptied of personal data. */
export interface AccountDeletionsTable {
  user_id: string;
  deleted_at: CreatedAt;
}

export type RefundRequestStatus = 'requested' | 'approved' | 'declined';

/** A buyer's request for a refund of a paid order (see migrations/20261130_1626_refund_requests.ts). */
export interface RefundRequestsTable {
  id: Generated<string>;
  order_id: string;
  buyer_id: string;
  reason: string;
  status: ColumnType<RefundRequestStatus, RefundRequestStatus | undefined, RefundRequestStatus>;
  decided_by: Nullable<string>;
  decided_by_role: Nullable<'seller' | 'admin'>;
  decision_reason: Nullable<string>;
  decided_at: Nullable<Date>;
  refund_id: Nullable<string>;
  created_at: CreatedAt;
}

/** A suspended seller (see migrations/20261130_1636_moderation.ts); no row = not suspended. */
export interface SellerSuspensionsTable {
  seller_id: string;
  reason: string;
  suspended_by: Nullable<string>;
  suspended_at: CreatedAt;
}

/** A listing an admin took down, with the reason the seller is shown. */
export interface ListingTakedownsTable {
  listing_id: string;
  reason: string;
  taken_down_by: Nullable<string>;
  taken_down_at: CreatedAt;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
  login_familiar_addresses: LoginFamiliarAddressesTable;
  signup_probes: SignupProbesTable;
  sellers: SellersTable;
  listings: ListingsTable;
  fee_policies: FeePoliciesTable;
  orders: OrdersTable;
  order_transitions: OrderTransitionsTable;
  order_fulfilment_steps: OrderFulfilmentStepsTable;
  stripe_events: StripeEventsTable;
  stripe_backfill_cursors: StripeBackfillCursorsTable;
  admin_audit_log: AdminAuditLogTable;
  platform_settings: PlatformSettingsTable;
  seller_payout_settings: SellerPayoutSettingsTable;
  payout_requests: PayoutRequestsTable;
  payouts: PayoutsTable;
  refunds: RefundsTable;
  disputes: DisputesTable;
  order_money: OrderMoneyTable;
  listing_images: ListingImagesTable;
  email_outbox: EmailOutboxTable;
  webhook_signature_failures: WebhookSignatureFailuresTable;
  admin_summaries: AdminSummariesTable;
  buyer_customers: BuyerCustomersTable;
  buyer_payment_methods: BuyerPaymentMethodsTable;
  card_setups: CardSetupsTable;
  plans: PlansTable;
  subscriptions: SubscriptionsTable;
  invoices: InvoicesTable;
  invoice_refunds: InvoiceRefundsTable;
  seller_portal_configurations: SellerPortalConfigurationsTable;
  password_reset_tokens: PasswordResetTokensTable;
  email_change_requests: EmailChangeRequestsTable;
  account_deletions: AccountDeletionsTable;
  refund_requests: RefundRequestsTable;
  seller_suspensions: SellerSuspensionsTable;
  listing_takedowns: ListingTakedownsTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type Seller = Selectable<SellersTable>;
export type Listing = Selectable<ListingsTable>;
export type StripeEventRow = Selectable<StripeEventsTable>;
export type Order = Selectable<OrdersTable>;
export type FeePolicy = Selectable<FeePoliciesTable>;
export type AuditEntry = Selectable<AdminAuditLogTable>;
export type PayoutRow = Selectable<PayoutsTable>;
export type PayoutRequest = Selectable<PayoutRequestsTable>;
export type RefundRow = Selectable<RefundsTable>;
export type DisputeRow = Selectable<DisputesTable>;
export type ListingImage = Selectable<ListingImagesTable>;
export type EmailOutboxRow = Selectable<EmailOutboxTable>;
export type BuyerCustomer = Selectable<BuyerCustomersTable>;
export type SavedCard = Selectable<BuyerPaymentMethodsTable>;
export type CardSetup = Selectable<CardSetupsTable>;
export type Plan = Selectable<PlansTable>;
export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type InvoiceRow = Selectable<InvoicesTable>;
export type InvoiceRefundRow = Selectable<InvoiceRefundsTable>;
export type RefundRequest = Selectable<RefundRequestsTable>;
