/**
 * The balance ledger shared by every resource: balance transactions per account, and the
 * `Stripe.Balance` computed from them. Pending credits become available when the clock passes
 * their `available_on` (checked at every tick), which emits `balance.available`.
 */
import type Stripe from 'stripe';
import { newId } from './ids.ts';
import { DAY, startOfDay, type Clock } from './clock.ts';
import type { Collection } from './store.ts';
import type { Events } from './events.ts';

/** Default availability delay for the platform account, in days. */
export const PLATFORM_DELAY_DAYS = 2;

export interface PostEntry {
  /** Account whose balance moves (platform or connected). */
  account: string;
  /** Gross amount in minor units; negative for debits. */
  amount: number;
  currency: string;
  type: Stripe.BalanceTransaction.Type;
  /** Id of the object that caused it (`ch_…`, `py_…`, `tr_…`, `po_…`, `re_…`, `fee_…`, `du_…`). */
  source?: string | null;
  /** Fee taken from this transaction (positive); net = amount - fee. */
  fee?: number;
  fee_details?: Stripe.BalanceTransaction.FeeDetail[];
  description?: string | null;
  reporting_category?: string;
  /**
   * When the funds become available. Defaults: debits (amount <= 0) → now, available at once;
   * credits → start of today (UTC) + the account's delay days. `immediate: true` forces now
   * (e.g. `pm_card_bypassPending`).
   */
  available_on?: number;
  immediate?: boolean;
}

function reportingCategory(type: string): string {
  switch (type) {
    case 'charge':
    case 'payment':
      return 'charge';
    case 'refund':
    case 'payment_refund':
      return 'refund';
    case 'payout':
      return 'payout';
    case 'transfer':
      return 'transfer';
    case 'transfer_refund':
      return 'transfer_reversal';
    case 'application_fee':
      return 'platform_earning';
    case 'application_fee_refund':
      return 'platform_earning_refund';
    case 'adjustment':
      return 'dispute';
    case 'stripe_fee':
      return 'fee';
    default:
      return 'other_adjustment';
  }
}

export class Ledger {
  /** Availability delay (days) for an account; the accounts module installs the real resolver. */
  delayDays: (account: string) => number = () => PLATFORM_DELAY_DAYS;

  constructor(
    readonly transactions: Collection<Stripe.BalanceTransaction>,
    private readonly clock: Clock,
    private readonly events: () => Events,
    private readonly platformAccount: string,
  ) {}

  /** Record a balance transaction and return it. */
  post(e: PostEntry): Stripe.BalanceTransaction {
    const now = this.clock.now();
    const fee = e.fee ?? 0;
    const availableOn = e.available_on ?? (e.immediate || e.amount - fee <= 0 ? now : startOfDay(now) + this.delayDays(e.account) * DAY);
    const txn: Stripe.BalanceTransaction = {
      id: newId('txn'),
      object: 'balance_transaction',
      amount: e.amount,
      available_on: availableOn,
      balance_type: 'payments',
      created: now,
      currency: e.currency.toLowerCase(),
      description: e.description ?? null,
      exchange_rate: null,
      fee,
      fee_details: e.fee_details ?? [],
      net: e.amount - fee,
      reporting_category: e.reporting_category ?? reportingCategory(e.type),
      source: e.source ?? null,
      status: availableOn <= now ? 'available' : 'pending',
      type: e.type,
    };
    return this.transactions.insert(e.account, txn);
  }

  /** Net available amount of an account in a currency. */
  available(account: string, currency: string): number {
    return this.sum(account, currency.toLowerCase(), 'available');
  }

  pending(account: string, currency: string): number {
    return this.sum(account, currency.toLowerCase(), 'pending');
  }

  private sum(account: string, currency: string, status: string): number {
    let total = 0;
    // The filter sees the stored objects: only matching ones are copied.
    for (const t of this.transactions.list(account, (x) => x.currency === currency && x.status === status)) total += t.net;
    return total;
  }

  /** Currencies the account has ever held. */
  currencies(account: string): string[] {
    return [...new Set(this.transactions.list(account).map((t) => t.currency))].sort();
  }

  /** `GET /v1/balance` for an account. Always lists `usd` (the default currency) at least. */
  balance(account: string): Stripe.Balance {
    const currencies = this.currencies(account);
    if (!currencies.includes('usd')) currencies.unshift('usd');
    const available: Stripe.Balance.Available[] = [];
    const pending: Stripe.Balance.Pending[] = [];
    for (const c of currencies) {
      const a = this.available(account, c);
      const pd = this.pending(account, c);
      available.push({ amount: a, currency: c, source_types: { card: a } });
      pending.push({ amount: pd, currency: c, source_types: { card: pd } });
    }
    const bal: Stripe.Balance = { object: 'balance', available, livemode: false, pending };
    if (account === this.platformAccount) bal.connect_reserved = currencies.map((c) => ({ amount: 0, currency: c }));
    return bal;
  }

  /** Ticker: pending → available when `available_on` has passed; emits `balance.available`. */
  release(now: number): void {
    const changed = new Set<string>();
    // Runs on every tick: the filter sees the stored objects, so only due ones are copied.
    for (const t of this.transactions.list(undefined, (x) => x.status === 'pending' && x.available_on <= now)) {
      t.status = 'available';
      this.transactions.save(t);
      const owner = this.transactions.ownerOf(t.id);
      if (owner) changed.add(owner);
    }
    for (const account of changed) {
      this.events().emit({ type: 'balance.available', object: this.balance(account), account, request: { id: null, idempotency_key: null } });
    }
  }
}
