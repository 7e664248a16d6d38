/**
 * Payouts (manual and automatic), balance and balance transactions per account.
 * Automatic payouts run at UTC midnights on the account's schedule (daily / weekly on
 * `weekly_anchor` / monthly on `monthly_anchor`), paying out the whole available balance per
 * currency, unless the interval is `manual`. Payouts arrive (pending → paid) at `arrival_date`.
 */
import type Stripe from 'stripe';
import type { EmulatorCore, ApiRequest } from '../../core/core.ts';
import { p, str, int, mergeMetadata } from '../../core/params.ts';
import { invalidRequest, StripeError } from '../../core/errors.ts';
import { DAY, startOfDay } from '../../core/clock.ts';
import { accountsOf } from './model.ts';

/** Standard payouts arrive this many days after creation (at midnight UTC). */
export const STANDARD_ARRIVAL_DAYS = 1;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export function payoutsOf(core: EmulatorCore) {
  return core.collection<Stripe.Payout>('payout');
}

export interface CreatePayout {
  account: string;
  amount: number;
  currency: string;
  method: 'standard' | 'instant';
  automatic: boolean;
  description?: string | null;
  statement_descriptor?: string | null;
  metadata?: Record<string, string>;
}

/** Create a payout, debit the ledger and emit `payout.created` (on the account). */
export function createPayout(core: EmulatorCore, input: CreatePayout): Stripe.Payout {
  const acct = core.getAccount(input.account);
  const bank = acct?.external_accounts?.data.find((x) => x.currency === input.currency) ?? acct?.external_accounts?.data[0];
  const now = core.now();
  const id = core.newId('po');
  const txn = core.postLedger({
    account: input.account,
    amount: -input.amount,
    currency: input.currency,
    type: 'payout',
    source: id,
    description: input.automatic ? 'STRIPE PAYOUT' : (input.description ?? null),
  });
  const payout: Stripe.Payout = {
    id,
    object: 'payout',
    amount: input.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: input.method === 'instant' ? now : startOfDay(now) + STANDARD_ARRIVAL_DAYS * DAY,
    automatic: input.automatic,
    balance_transaction: txn.id,
    created: now,
    currency: input.currency,
    description: input.description ?? (input.automatic ? 'STRIPE PAYOUT' : null),
    destination: bank?.id ?? null,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: input.metadata ?? {},
    method: input.method,
    original_payout: null,
    payout_method: null,
    reconciliation_status: input.automatic ? 'in_progress' : 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: input.statement_descriptor ?? null,
    status: 'pending',
    trace_id: null,
    type: 'bank_account',
  };
  const saved = payoutsOf(core).insert(input.account, payout);
  core.emitEvent({ type: 'payout.created', object: saved, account: input.account });
  return saved;
}

function scheduleDue(schedule: Stripe.Account.Settings.Payouts.Schedule | undefined, midnight: number): boolean {
  if (!schedule) return false;
  const d = new Date(midnight * 1000);
  switch (schedule.interval) {
    case 'daily':
      return true;
    case 'weekly': {
      const day = WEEKDAYS[d.getUTCDay()] ?? '';
      if (schedule.weekly_payout_days?.length) return schedule.weekly_payout_days.includes(day);
      return day === (schedule.weekly_anchor ?? 'monday');
    }
    case 'monthly': {
      // Anchors past the end of a month (29–31) pay out on its last day.
      const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      const days = schedule.monthly_payout_days?.length ? schedule.monthly_payout_days : [schedule.monthly_anchor ?? 1];
      return days.some((anchor) => d.getUTCDate() === Math.min(anchor, lastDay));
    }
    default:
      return false;
  }
}

export function registerPayouts(core: EmulatorCore): void {
  const payouts = payoutsOf(core);
  const accounts = accountsOf(core);
  const txns = core.ledger.transactions;

  const requirePayout = (req: ApiRequest): Stripe.Payout => payouts.require(req.pathParams.id ?? '', req.account, 'id');

  core.route(
    'POST',
    '/v1/payouts',
    {
      required: ['amount', 'currency'],
      params: {
        amount: p.integer,
        currency: p.string,
        description: p.string,
        destination: p.string,
        metadata: p.hash,
        method: p.enum('standard', 'instant'),
        payout_method: p.string,
        source_type: p.enum('bank_account', 'card', 'fpx'),
        statement_descriptor: p.string,
      },
    },
    (req) => {
      const amount = int(req.params, 'amount') ?? 0;
      const currency = (str(req.params, 'currency') ?? '').toLowerCase();
      if (amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
      const acct = accounts.get(req.account);
      if (!acct) throw invalidRequest('No such account', { param: 'account' });
      if (!acct.payouts_enabled) {
        throw invalidRequest('Payouts are not enabled on this account. The account must finish onboarding (payouts_enabled is false).', {
          code: 'payouts_not_allowed',
        });
      }
      const dest = str(req.params, 'destination');
      if (dest && !acct.external_accounts?.data.some((x) => x.id === dest)) {
        throw new StripeError({
          status: 404,
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'destination',
          message: `No such external account: '${dest}'`,
        });
      }
      if (!acct.external_accounts?.data.some((x) => x.currency === currency)) {
        throw invalidRequest(`This account has no external account in ${currency.toUpperCase()}.`, { param: 'currency' });
      }
      const available = core.ledger.available(req.account, currency);
      if (amount > available) {
        throw invalidRequest(
          'You have insufficient funds in your Stripe account. One likely reason you have insufficient funds is that your funds are automatically being paid out; try enabling manual payouts by going to https://dashboard.stripe.com/account/payouts.',
          { code: 'balance_insufficient', param: 'amount' },
        );
      }
      return createPayout(core, {
        account: req.account,
        amount,
        currency,
        method: (str(req.params, 'method') as 'standard' | 'instant' | undefined) ?? 'standard',
        automatic: false,
        description: str(req.params, 'description') ?? null,
        statement_descriptor: str(req.params, 'statement_descriptor') ?? null,
        metadata: mergeMetadata({}, req.params),
      });
    },
  );

  core.route(
    'GET',
    '/v1/payouts',
    {
      list: true,
      params: { status: p.enum('pending', 'paid', 'failed', 'canceled', 'in_transit'), arrival_date: p.range, destination: p.string, payout_method: p.string },
    },
    (req) => {
      const status = str(req.params, 'status');
      const dest = str(req.params, 'destination');
      const ad = req.params.arrival_date;
      const list = payouts.list(req.account, (po) => {
        if (status && po.status !== status) return false;
        if (dest && po.destination !== dest) return false;
        if (typeof ad === 'number' && po.arrival_date !== ad) return false;
        if (ad && typeof ad === 'object' && !Array.isArray(ad)) {
          if (typeof ad.gt === 'number' && !(po.arrival_date > ad.gt)) return false;
          if (typeof ad.gte === 'number' && !(po.arrival_date >= ad.gte)) return false;
          if (typeof ad.lt === 'number' && !(po.arrival_date < ad.lt)) return false;
          if (typeof ad.lte === 'number' && !(po.arrival_date <= ad.lte)) return false;
        }
        return true;
      });
      return core.paginate(req, list, '/v1/payouts');
    },
  );

  core.route('GET', '/v1/payouts/:id', {}, (req) => requirePayout(req));

  core.route('POST', '/v1/payouts/:id', { params: { metadata: p.hash } }, (req) => {
    const before = requirePayout(req);
    const next = { ...before, metadata: mergeMetadata(before.metadata ?? {}, req.params) };
    const saved = payouts.save(next);
    if (JSON.stringify(before.metadata) !== JSON.stringify(saved.metadata)) {
      core.emitEvent({
        type: 'payout.updated',
        object: saved,
        previousAttributes: { metadata: before.metadata },
        account: req.isPlatform ? null : req.account,
      });
    }
    return saved;
  });

  core.route('POST', '/v1/payouts/:id/cancel', {}, (req) => {
    const before = requirePayout(req);
    if (before.status !== 'pending' || before.automatic) {
      throw invalidRequest(`Payouts can only be canceled while they are pending and were created manually. This payout is ${before.status}.`);
    }
    const refund = core.postLedger({
      account: req.account,
      amount: before.amount,
      currency: before.currency,
      type: 'payout_cancel',
      source: before.id,
      immediate: true,
    });
    const saved = payouts.save({ ...before, status: 'canceled', reversed_by: null, failure_balance_transaction: refund.id });
    const account = req.isPlatform ? null : req.account;
    core.emitEvent({ type: 'payout.updated', object: saved, previousAttributes: { status: 'pending' }, account });
    core.emitEvent({ type: 'payout.canceled', object: saved, account });
    return saved;
  });

  core.route('GET', '/v1/balance', {}, (req) => core.ledger.balance(req.account));

  core.route('GET', '/v1/balance_transactions', { list: true, params: { type: p.string, source: p.string, currency: p.string, payout: p.string } }, (req) => {
    const type = str(req.params, 'type');
    const source = str(req.params, 'source');
    const currency = str(req.params, 'currency')?.toLowerCase();
    const payout = str(req.params, 'payout');
    const list = txns.list(req.account, (t) => {
      if (type && t.type !== type) return false;
      if (source && t.source !== source) return false;
      if (currency && t.currency !== currency) return false;
      if (payout && t.source !== payout) return false;
      return true;
    });
    return core.paginate(req, list, '/v1/balance_transactions');
  });

  core.route('GET', '/v1/balance_transactions/:id', {}, (req) => txns.require(req.pathParams.id ?? '', req.account, 'id'));

  // Scheduled work: arrivals, then automatic payouts at midnight.
  core.onTick('payouts', (now, info) => {
    for (const po of payouts.list(undefined, (x) => x.status === 'pending' && x.arrival_date <= now)) {
      const owner = payouts.ownerOf(po.id) ?? core.platformAccount;
      const paid = payouts.save({ ...po, status: 'paid', reconciliation_status: po.automatic ? 'completed' : po.reconciliation_status });
      const account = owner === core.platformAccount ? null : owner;
      core.emitEvent({ type: 'payout.updated', object: paid, previousAttributes: { status: 'pending' }, account });
      core.emitEvent({ type: 'payout.paid', object: paid, account });
    }
    if (!info.midnight) return;
    for (const acct of accounts.list(core.platformAccount)) {
      if (!acct.payouts_enabled) continue;
      const schedule = acct.settings?.payouts?.schedule;
      if (!scheduleDue(schedule, now)) continue;
      for (const currency of core.ledger.currencies(acct.id)) {
        const available = core.ledger.available(acct.id, currency);
        if (available <= 0) continue;
        createPayout(core, { account: acct.id, amount: available, currency, method: 'standard', automatic: true });
      }
    }
  });
}
