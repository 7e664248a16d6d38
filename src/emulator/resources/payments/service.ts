/**
 * The payments domain: PaymentMethods, PaymentIntents, Charges, destination-charge money movement
 * (transfers, application fees), Refunds, Transfers & reversals, Application-fee refunds and
 * Disputes. HTTP bindings live in routes.ts; this file is callable in-process (hosted pages and
 * the Stripe.js stand-in use it directly).
 *
 * ## The money model (destination charges), and where it comes from
 *
 * docs.stripe.com/connect/marketplace/tasks/app-fees: "When creating charges with an
 * application_fee_amount, the full charge amount is immediately transferred from the platform to
 * the transfer_data[destination] account after the charge is captured. The application_fee_amount
 * (capped at the full amount of the charge) is then transferred back to the platform."
 * docs.stripe.com/connect/destination-charges: the platform's balance "is debited for the cost of
 * the Stripe fees, refunds, and chargebacks".
 *
 * So a 10 000 usd destination charge with application_fee_amount 1 000 posts:
 *   platform   charge          +10 000  fee 320 (2.9 % + 30, fees.ts)  net  9 680   source ch_
 *   platform   transfer        −10 000                                  net −10 000 source tr_
 *   platform   application_fee  +1 000                                  net  1 000  source fee_
 *   connected  payment         +10 000  fee 1 000 (application_fee)     net  9 000   source py_
 * Platform total +680 (= 1 000 fee − 320 Stripe fee), connected +9 000. The platform's three
 * entries share the charge's `available_on` (they settle together, pending until then); the
 * connected account's payment follows that account's own delay. With `transfer_data[amount]`
 * the transfer is that amount and there is no fee on the connected side unless an application fee
 * is also set.
 *
 * Refunds (stripe-facts §5; docs.stripe.com/api/refunds/create): the platform pays the refund
 * (`refund`, −amount, Stripe's processing fee is not returned). `reverse_transfer` reverses the
 * transfer in proportion to the refunded amount (platform `transfer_refund` +x, connected
 * `payment_refund` −x, `trr_` + `pyr_`), `refund_application_fee` refunds the fee in proportion
 * (platform `application_fee_refund` −y, connected `application_fee_refund` +y, `fr_`); a refund that
 * completes the charge returns whatever remains of both. How Stripe shows the fee refund on the
 * connected side (separate entry vs. folded into the payment refund) is UNCONFIRMED; totals match.
 *
 * Disputes (docs.stripe.com/disputes/connect): platform `adjustment` −amount with a 1 500 dispute
 * fee (net −11 500, "Chargeback withdrawal for ch_…"); on a win `adjustment` +amount, fee −1 500
 * (net +11 500, "Chargeback reversal for ch_…"). Inquiries (1976) move no money.
 */
import type Stripe from 'stripe';
import { randomToken } from '../../core/ids.ts';
import { StripeError, invalidRequest, cardError } from '../../core/errors.ts';
import type { EmulatorCore } from '../../core/core.ts';
import type { Collection } from '../../core/store.ts';
import { DAY } from '../../core/clock.ts';
import { cardForTestPaymentMethod, type TestCard } from './cards.ts';
import {
  DISPUTE_FEE,
  DISPUTE_FEE_REFUNDED_ON_WIN,
  MAX_AMOUNT,
  disputeFeeDetails,
  formatMoney,
  minimumAmount,
  proportionalShare,
  stripeFee,
  stripeFeeDetails,
} from './fees.ts';
import { EVIDENCE_FIELDS, apiList, billingDetails, buildPaymentMethod, chargeCardDetails, declineOutcome, emptyEvidence, successOutcome } from './objects.ts';

/** The platform's Connect application id (`application` on fees). */
export const PLATFORM_APPLICATION = 'ca_emulatorPlatformApplication0';
/** How long disputes wait for evidence (test mode shows roughly a week or more). */
export const DISPUTE_EVIDENCE_DAYS = 7;

type TextEvidenceKey = Exclude<keyof Stripe.Dispute.Evidence, 'enhanced_evidence' | 'shipping_address'>;
function isTextEvidenceKey(k: string): k is TextEvidenceKey {
  return EVIDENCE_FIELDS.includes(k);
}

export const MISSING_PAYMENT_METHOD =
  "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.";

export interface PaymentIntentInternal {
  threeDS?: 'pending' | 'passed';
  checkoutSession?: string;
}

export interface CreateIntentInput {
  account: string;
  amount: number;
  currency: string;
  application_fee_amount?: number | undefined;
  transfer_data?: { destination?: string | undefined; amount?: number | undefined } | undefined;
  on_behalf_of?: string | undefined;
  metadata?: Record<string, string> | undefined;
  description?: string | undefined;
  receipt_email?: string | undefined;
  customer?: string | undefined;
  capture_method?: Stripe.PaymentIntent.CaptureMethod | undefined;
  automatic_payment_methods?: { enabled: boolean; allow_redirects?: 'always' | 'never' | undefined } | undefined;
  payment_method?: string | undefined;
  transfer_group?: string | undefined;
  statement_descriptor?: string | undefined;
  statement_descriptor_suffix?: string | undefined;
  /** Field names for errors (Checkout reports `payment_intent_data[...]`). */
  paramPrefix?: string | undefined;
}

export type ConfirmResult =
  | { kind: 'succeeded' | 'requires_capture' | 'requires_action' | 'processing'; pi: Stripe.PaymentIntent }
  | { kind: 'declined'; pi: Stripe.PaymentIntent; error: StripeError };

export class Payments {
  readonly pms: Collection<Stripe.PaymentMethod>;
  readonly pis: Collection<Stripe.PaymentIntent>;
  readonly charges: Collection<Stripe.Charge>;
  readonly refunds: Collection<Stripe.Refund>;
  readonly transfers: Collection<Stripe.Transfer>;
  readonly reversals: Collection<Stripe.TransferReversal>;
  readonly fees: Collection<Stripe.ApplicationFee>;
  readonly feeRefunds: Collection<Stripe.FeeRefund>;
  readonly disputes: Collection<Stripe.Dispute>;
  readonly btxns: Collection<Stripe.BalanceTransaction>;

  constructor(readonly core: EmulatorCore) {
    this.pms = core.collection<Stripe.PaymentMethod>('payment_method', 'PaymentMethod');
    this.pis = core.collection<Stripe.PaymentIntent>('payment_intent', 'payment_intent');
    this.charges = core.collection<Stripe.Charge>('charge', 'charge');
    this.refunds = core.collection<Stripe.Refund>('refund', 'refund');
    this.transfers = core.collection<Stripe.Transfer>('transfer', 'transfer');
    this.reversals = core.collection<Stripe.TransferReversal>('transfer_reversal', 'transfer reversal');
    this.fees = core.collection<Stripe.ApplicationFee>('application_fee', 'application fee');
    this.feeRefunds = core.collection<Stripe.FeeRefund>('fee_refund', 'fee refund');
    this.disputes = core.collection<Stripe.Dispute>('dispute', 'dispute');
    this.btxns = core.collection<Stripe.BalanceTransaction>('balance_transaction', 'balance transaction');
  }

  get platform(): string {
    return this.core.platformAccount;
  }

  now(): number {
    return this.core.now();
  }

  // ============================================================================================
  // PaymentMethods
  // ============================================================================================

  /** Create a card PaymentMethod from a test card (used for `pm_card_*` and typed numbers). */
  createCardPaymentMethod(account: string, card: TestCard, opts: { email?: string | null; metadata?: Record<string, string> } = {}): Stripe.PaymentMethod {
    const pm = buildPaymentMethod({ id: this.core.newId('pm'), card, created: this.now(), email: opts.email ?? null, metadata: opts.metadata ?? {} });
    return this.pms.insert(account, pm, { internal: { card } });
  }

  /** Resolve a `payment_method` parameter: a `pm_card_*` test id (cloned into a new pm_) or a stored pm_. */
  resolvePaymentMethod(account: string, id: string, param = 'payment_method'): Stripe.PaymentMethod {
    const test = cardForTestPaymentMethod(id);
    if (test) return this.createCardPaymentMethod(account, test);
    const pm = this.pms.get(id, account);
    if (!pm) throw invalidRequest(`No such PaymentMethod: '${id}'`, { code: 'resource_missing', param });
    return pm;
  }

  cardOf(pmId: string): TestCard {
    const internal = this.pms.internal(pmId);
    const card = internal.card as TestCard | undefined;
    if (!card) throw new Error(`payment method ${pmId} has no card`);
    return card;
  }

  /** Retrieve, including the `pm_card_*` ids (shown as they would be if cloned). */
  retrievePaymentMethod(account: string, id: string): Stripe.PaymentMethod {
    const test = cardForTestPaymentMethod(id);
    if (test) return buildPaymentMethod({ id, card: test, created: this.now() });
    return this.pms.require(id, account);
  }

  // ============================================================================================
  // Validation helpers
  // ============================================================================================

  private validateAmount(amount: number, currency: string, param = 'amount'): void {
    const min = minimumAmount(currency);
    if (amount < min) {
      throw invalidRequest(`Amount must be at least ${formatMoney(min, currency)} ${currency}`, { code: 'amount_too_small', param });
    }
    if (amount > MAX_AMOUNT) {
      throw invalidRequest(`Amount must be no more than ${formatMoney(MAX_AMOUNT, currency)}`, { code: 'amount_too_large', param });
    }
  }

  private validateCurrency(currency: string, param = 'currency'): string {
    const c = currency.toLowerCase();
    if (!/^[a-z]{3}$/.test(c)) throw invalidRequest(`Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, …`, { param });
    return c;
  }

  /** The destination of a transfer must exist and have an active `transfers` capability. */
  requireTransferDestination(destination: string, param: string): Stripe.Account {
    const acct = this.core.getAccount(destination);
    if (!acct || destination === this.platform) {
      throw invalidRequest(`No such destination: '${destination}'`, { code: 'resource_missing', param });
    }
    const cap = acct.capabilities?.transfers;
    const legacy = acct.capabilities?.legacy_payments;
    if (cap !== 'active' && legacy !== 'active') {
      throw invalidRequest('Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments', {
        code: 'insufficient_capabilities_for_transfer',
        param,
      });
    }
    return acct;
  }

  /** Shared checks for PaymentIntent/Checkout `application_fee_amount`, `transfer_data`, `on_behalf_of`. */
  validateConnectParams(input: {
    account: string;
    amount: number | null;
    application_fee_amount?: number | undefined;
    transfer_data?: { destination?: string | undefined; amount?: number | undefined } | undefined;
    on_behalf_of?: string | undefined;
    prefix?: string | undefined;
  }): void {
    const pname = (k: string, sub?: string): string => (input.prefix ? `${input.prefix}[${k}]${sub ? `[${sub}]` : ''}` : sub ? `${k}[${sub}]` : k);
    if (input.transfer_data) {
      if (!input.transfer_data.destination) throw invalidRequest(`Missing required param: ${pname('transfer_data', 'destination')}.`, { code: 'parameter_missing', param: pname('transfer_data', 'destination') });
      if (input.account !== this.platform) {
        throw invalidRequest('Destination charges cannot be created on a connected account (do not send the Stripe-Account header).', { param: pname('transfer_data', 'destination') });
      }
      this.requireTransferDestination(input.transfer_data.destination, pname('transfer_data', 'destination'));
      if (input.transfer_data.amount !== undefined && input.amount !== null && input.transfer_data.amount > input.amount) {
        throw invalidRequest(`The transfer amount (${formatMoney(input.transfer_data.amount, 'usd')}) must be less than or equal to the payment amount.`, { param: pname('transfer_data', 'amount') });
      }
    }
    if (input.application_fee_amount !== undefined) {
      if (!input.transfer_data && input.account === this.platform) {
        throw invalidRequest(
          'Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).',
          { param: pname('application_fee_amount') },
        );
      }
      if (input.amount !== null && input.application_fee_amount > input.amount) {
        throw invalidRequest(`The application fee (${input.application_fee_amount}) must be less than or equal to the amount (${input.amount}).`, {
          param: pname('application_fee_amount'),
        });
      }
    }
    if (input.on_behalf_of) {
      const acct = this.core.getAccount(input.on_behalf_of);
      if (!acct) throw invalidRequest(`No such account: '${input.on_behalf_of}'`, { code: 'resource_missing', param: pname('on_behalf_of') });
    }
  }

  // ============================================================================================
  // PaymentIntents
  // ============================================================================================

  createIntent(input: CreateIntentInput): Stripe.PaymentIntent {
    const currency = this.validateCurrency(input.currency);
    this.validateAmount(input.amount, currency);
    this.validateConnectParams({
      account: input.account,
      amount: input.amount,
      application_fee_amount: input.application_fee_amount,
      transfer_data: input.transfer_data,
      on_behalf_of: input.on_behalf_of,
      prefix: input.paramPrefix,
    });
    const id = this.core.newId('pi');
    let pm: Stripe.PaymentMethod | undefined;
    if (input.payment_method) pm = this.resolvePaymentMethod(input.account, input.payment_method);
    const pi: Stripe.PaymentIntent = {
      id,
      object: 'payment_intent',
      allowed_payment_method_types: null,
      amount: input.amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: 0,
      application: null,
      application_fee_amount: input.application_fee_amount ?? null,
      automatic_payment_methods: {
        allow_redirects: input.automatic_payment_methods?.allow_redirects ?? 'always',
        enabled: input.automatic_payment_methods?.enabled ?? true,
      },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: input.capture_method ?? 'automatic_async',
      client_secret: `${id}_secret_${randomToken(25)}`,
      confirmation_method: 'automatic',
      created: this.now(),
      currency,
      customer: input.customer ?? null,
      customer_account: null,
      description: input.description ?? null,
      excluded_payment_method_types: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      managed_payments: null,
      metadata: input.metadata ?? {},
      next_action: null,
      on_behalf_of: input.on_behalf_of ?? null,
      payment_method: pm?.id ?? null,
      payment_method_configuration_details: null,
      payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_record: null,
      processing: null,
      receipt_email: input.receipt_email ?? null,
      review: null,
      setup_future_usage: null,
      shipping: null,
      source: null,
      statement_descriptor: input.statement_descriptor ?? null,
      statement_descriptor_suffix: input.statement_descriptor_suffix ?? null,
      status: pm ? 'requires_confirmation' : 'requires_payment_method',
      transfer_data: input.transfer_data?.destination
        ? { destination: input.transfer_data.destination, ...(input.transfer_data.amount !== undefined ? { amount: input.transfer_data.amount } : {}) }
        : null,
      transfer_group: input.transfer_group ?? null,
    };
    this.pis.insert(input.account, pi, { internal: {} });
    this.core.emitEvent({ type: 'payment_intent.created', object: pi, account: input.account });
    return pi;
  }

  requireIntent(id: string, account: string): Stripe.PaymentIntent {
    return this.pis.require(id, account, 'intent');
  }

  intentInternal(id: string): PaymentIntentInternal {
    return this.pis.internal(id) as PaymentIntentInternal;
  }

  private static readonly CONFIRMABLE: Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

  /**
   * Confirm a PaymentIntent. Declines don't throw: they come back as `{kind:'declined', error}`
   * (the API route throws the error, like Stripe's 402; hosted pages show the message).
   */
  confirmIntent(
    account: string,
    id: string,
    opts: { payment_method?: string | undefined; return_url?: string | undefined; receipt_email?: string | undefined; capture_method?: Stripe.PaymentIntent.CaptureMethod | undefined; pm?: Stripe.PaymentMethod | undefined },
  ): ConfirmResult {
    let pi = this.requireIntent(id, account);
    if (!Payments.CONFIRMABLE.includes(pi.status)) {
      throw invalidRequest(
        `You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.`,
        { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
      );
    }
    const pm = opts.pm ?? (opts.payment_method ? this.resolvePaymentMethod(account, opts.payment_method) : pi.payment_method ? this.pms.get(String(pi.payment_method), account) : undefined);
    if (!pm) {
      throw invalidRequest(
        MISSING_PAYMENT_METHOD,
        { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
      );
    }
    const previousPm = pi.payment_method;
    pi.payment_method = pm.id;
    if (opts.receipt_email !== undefined) pi.receipt_email = opts.receipt_email;
    if (opts.capture_method !== undefined) pi.capture_method = opts.capture_method;
    pi.last_payment_error = null;
    pi.next_action = null;
    const card = this.cardOf(pm.id);
    const internal = this.intentInternal(pi.id);
    // A new payment method restarts authentication.
    if (previousPm !== pm.id && internal.threeDS === 'passed') this.pis.setInternal(pi.id, { threeDS: undefined });

    if (card.threeDS === 'required' && this.intentInternal(pi.id).threeDS !== 'passed') {
      pi.status = 'requires_action';
      const url = this.core.pageUrl(`/hosted/3ds/${pi.id}?client_secret=${encodeURIComponent(pi.client_secret ?? '')}`);
      pi.next_action = { type: 'redirect_to_url', redirect_to_url: { url, return_url: opts.return_url ?? null } };
      this.pis.setInternal(pi.id, { threeDS: 'pending', returnUrl: opts.return_url ?? null });
      pi = this.pis.save(pi);
      this.core.emitEvent({ type: 'payment_intent.requires_action', object: pi, account });
      return { kind: 'requires_action', pi };
    }
    this.pis.save(pi);
    return this.attemptCharge(account, pi.id, false);
  }

  /** Outcome of the 3DS challenge page. */
  completeAuthentication(account: string, id: string, success: boolean): ConfirmResult {
    let pi = this.requireIntent(id, account);
    if (pi.status !== 'requires_action') {
      return { kind: pi.status === 'succeeded' ? 'succeeded' : 'processing', pi };
    }
    if (success) {
      this.pis.setInternal(pi.id, { threeDS: 'passed' });
      pi.next_action = null;
      this.pis.save(pi);
      return this.attemptCharge(account, pi.id, true);
    }
    const pm = pi.payment_method ? this.pms.get(String(pi.payment_method), account) : undefined;
    this.pis.setInternal(pi.id, { threeDS: undefined });
    pi.status = 'requires_payment_method';
    pi.next_action = null;
    pi.last_payment_error = {
      code: 'payment_intent_authentication_failure',
      doc_url: 'https://stripe.com/docs/error-codes/payment-intent-authentication-failure',
      message:
        'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      ...(pm ? { payment_method: pm } : {}),
      type: 'invalid_request_error',
    };
    pi.payment_method = null;
    pi = this.pis.save(pi);
    this.core.emitEvent({ type: 'payment_intent.payment_failed', object: pi, account });
    const error = new StripeError({
      status: 400,
      type: 'invalid_request_error',
      code: 'payment_intent_authentication_failure',
      message: pi.last_payment_error?.message ?? 'Authentication failed',
      extra: { payment_intent: pi },
    });
    return { kind: 'declined', pi, error };
  }

  /** Authorise (and, unless manual capture, capture) the PaymentIntent's card. */
  private attemptCharge(account: string, id: string, authenticated: boolean): ConfirmResult {
    let pi = this.requireIntent(id, account);
    const pmId = String(pi.payment_method);
    const pm = this.pms.require(pmId, account);
    const card = this.cardOf(pmId);
    const now = this.now();
    const chargeId = this.core.newId('ch');
    const base: Stripe.Charge = {
      id: chargeId,
      object: 'charge',
      amount: pi.amount,
      amount_captured: 0,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: pi.application_fee_amount,
      balance_transaction: null,
      billing_details: billingDetails(pm.billing_details.email),
      calculated_statement_descriptor: 'STRIPE EMULATOR',
      captured: false,
      created: now,
      currency: pi.currency,
      customer: typeof pi.customer === 'string' ? pi.customer : null,
      description: pi.description,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      fraud_details: {},
      livemode: false,
      metadata: { ...pi.metadata },
      on_behalf_of: pi.on_behalf_of,
      outcome: successOutcome(),
      paid: true,
      payment_intent: pi.id,
      payment_method: pmId,
      payment_method_details: chargeCardDetails(card, pi.amount, authenticated),
      receipt_email: pi.receipt_email,
      receipt_number: null,
      receipt_url: this.core.pageUrl(`/hosted/receipts/${chargeId}`),
      refunded: false,
      review: null,
      shipping: null,
      source: null,
      source_transfer: null,
      statement_descriptor: pi.statement_descriptor,
      statement_descriptor_suffix: pi.statement_descriptor_suffix,
      status: 'succeeded',
      transfer_data: pi.transfer_data ? { amount: pi.transfer_data.amount ?? null, destination: pi.transfer_data.destination } : null,
      transfer_group: pi.transfer_group,
    };

    if (card.decline) {
      const charge: Stripe.Charge = {
        ...base,
        status: 'failed',
        paid: false,
        failure_code: 'card_declined',
        failure_message: card.decline.message,
        outcome: declineOutcome(card.decline.decline_code),
      };
      this.charges.insert(account, charge, { internal: { card, authenticated } });
      pi.status = 'requires_payment_method';
      pi.latest_charge = chargeId;
      pi.last_payment_error = {
        charge: chargeId,
        code: 'card_declined',
        decline_code: card.decline.decline_code,
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
        message: card.decline.message,
        payment_method: pm,
        type: 'card_error',
      };
      pi.payment_method = null;
      pi = this.pis.save(pi);
      this.core.emitEvent({ type: 'charge.failed', object: charge, account });
      this.core.emitEvent({ type: 'payment_intent.payment_failed', object: pi, account });
      const error = cardError(card.decline.message, {
        code: 'card_declined',
        decline_code: card.decline.decline_code,
        extra: { charge: chargeId, payment_intent: pi, payment_method: pm },
      });
      return { kind: 'declined', pi, error };
    }

    const manual = pi.capture_method === 'manual';
    let charge: Stripe.Charge = { ...base, captured: false };
    this.charges.insert(account, charge, { internal: { card, authenticated } });
    pi.latest_charge = chargeId;
    if (manual) {
      pi.status = 'requires_capture';
      pi.amount_capturable = pi.amount;
      pi = this.pis.save(pi);
      this.core.emitEvent({ type: 'charge.succeeded', object: charge, account });
      this.core.emitEvent({ type: 'payment_intent.amount_capturable_updated', object: pi, account });
      return { kind: 'requires_capture', pi };
    }
    this.pis.save(pi);
    charge = this.captureCharge(account, chargeId, pi.amount, pi.application_fee_amount);
    pi = this.requireIntent(id, account);
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    pi.amount_capturable = 0;
    pi = this.pis.save(pi);
    this.core.emitEvent({ type: 'charge.succeeded', object: charge, account });
    this.core.emitEvent({ type: 'payment_intent.succeeded', object: pi, account });
    this.afterSuccess(account, chargeId);
    return { kind: 'succeeded', pi };
  }

  /**
   * Money movement of a captured charge (see the model at the top of this file). Returns the
   * updated charge. Emits `transfer.created` / `application_fee.created`.
   */
  private captureCharge(account: string, chargeId: string, amount: number, applicationFee: number | null): Stripe.Charge {
    const charge = this.charges.require(chargeId, account);
    const card = this.charges.internal(chargeId).card as TestCard;
    const immediate = !!card.bypassPending;
    const fee = stripeFee(amount);
    const feeDetails = stripeFeeDetails(amount, charge.currency);
    const appFee = applicationFee === null ? null : Math.min(applicationFee, amount);
    const direct = account !== this.platform;
    if (direct && appFee) {
      feeDetails.push({ amount: appFee, application: PLATFORM_APPLICATION, currency: charge.currency, description: null, type: 'application_fee' });
    }
    const chargeTxn = this.core.postLedger({
      account,
      amount,
      currency: charge.currency,
      type: 'charge',
      source: chargeId,
      fee: fee + (direct && appFee ? appFee : 0),
      fee_details: feeDetails,
      description: charge.description,
      immediate,
    });
    charge.balance_transaction = chargeTxn.id;
    charge.captured = true;
    charge.amount_captured = amount;
    const availableOn = chargeTxn.available_on;

    if (charge.transfer_data && !direct) {
      const destination = String(charge.transfer_data.destination);
      const transferAmount = charge.transfer_data.amount ?? amount;
      const { transfer, payment } = this.makeTransfer({
        destination,
        amount: transferAmount,
        currency: charge.currency,
        sourceTransaction: chargeId,
        transferGroup: charge.transfer_group ?? `group_${String(charge.payment_intent)}`,
        metadata: {},
        description: null,
        platformAvailableOn: availableOn,
        immediate,
        applicationFee: appFee,
      });
      charge.transfer = transfer.id;
      charge.transfer_group = transfer.transfer_group;
      if (appFee !== null && appFee > 0) {
        const feeObj = this.makeApplicationFee({ account: destination, amount: appFee, currency: charge.currency, charge: String(payment.id), originating: chargeId, availableOn, immediate });
        charge.application_fee = feeObj.id;
      }
    } else if (direct && appFee !== null && appFee > 0) {
      const feeObj = this.makeApplicationFee({ account, amount: appFee, currency: charge.currency, charge: chargeId, originating: null, availableOn: undefined, immediate });
      charge.application_fee = feeObj.id;
    }
    return this.charges.save(charge);
  }

  /**
   * A transfer from the platform to a connected account, with its `py_` payment on the
   * destination. `applicationFee` (destination charges) becomes the fee on that payment.
   */
  makeTransfer(o: {
    destination: string;
    amount: number;
    currency: string;
    sourceTransaction: string | null;
    transferGroup: string | null;
    metadata: Record<string, string>;
    description: string | null;
    platformAvailableOn?: number | undefined;
    immediate?: boolean | undefined;
    applicationFee?: number | null | undefined;
  }): { transfer: Stripe.Transfer; payment: Stripe.Charge } {
    const now = this.now();
    const transferId = this.core.newId('tr');
    const paymentId = this.core.newId('py');
    const platformTxn = this.core.postLedger({
      account: this.platform,
      amount: -o.amount,
      currency: o.currency,
      type: 'transfer',
      source: transferId,
      description: o.description,
      ...(o.platformAvailableOn !== undefined ? { available_on: o.platformAvailableOn } : {}),
    });
    const appFee = o.applicationFee ?? 0;
    const paymentTxn = this.core.postLedger({
      account: o.destination,
      amount: o.amount,
      currency: o.currency,
      type: 'payment',
      source: paymentId,
      fee: appFee,
      fee_details: appFee > 0 ? [{ amount: appFee, application: PLATFORM_APPLICATION, currency: o.currency, description: null, type: 'application_fee' }] : [],
      immediate: !!o.immediate,
    });
    const payment: Stripe.Charge = {
      id: paymentId,
      object: 'charge',
      amount: o.amount,
      amount_captured: o.amount,
      amount_refunded: 0,
      application: PLATFORM_APPLICATION,
      application_fee: null,
      application_fee_amount: appFee > 0 ? appFee : null,
      balance_transaction: paymentTxn.id,
      billing_details: billingDetails(),
      calculated_statement_descriptor: null,
      captured: true,
      created: now,
      currency: o.currency,
      customer: null,
      description: null,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      fraud_details: {},
      livemode: false,
      metadata: {},
      on_behalf_of: null,
      outcome: null,
      paid: true,
      payment_intent: null,
      payment_method: null,
      payment_method_details: { type: 'stripe_account' },
      receipt_email: null,
      receipt_number: null,
      receipt_url: null,
      refunded: false,
      review: null,
      shipping: null,
      source: null,
      source_transfer: transferId,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: 'succeeded',
      transfer_data: null,
      transfer_group: null,
    };
    this.charges.insert(o.destination, payment, { internal: { destinationPayment: true } });
    const transfer: Stripe.Transfer = {
      id: transferId,
      object: 'transfer',
      amount: o.amount,
      amount_reversed: 0,
      balance_transaction: platformTxn.id,
      created: now,
      currency: o.currency,
      description: o.description,
      destination: o.destination,
      destination_payment: paymentId,
      livemode: false,
      metadata: o.metadata,
      reversals: apiList([], `/v1/transfers/${transferId}/reversals`),
      reversed: false,
      source_transaction: o.sourceTransaction,
      source_type: 'card',
      transfer_group: o.transferGroup,
    };
    this.transfers.insert(this.platform, transfer);
    this.core.emitEvent({ type: 'transfer.created', object: transfer });
    return { transfer, payment };
  }

  private makeApplicationFee(o: {
    account: string;
    amount: number;
    currency: string;
    charge: string;
    originating: string | null;
    availableOn: number | undefined;
    immediate: boolean;
  }): Stripe.ApplicationFee {
    const id = this.core.newId('fee');
    const txn = this.core.postLedger({
      account: this.platform,
      amount: o.amount,
      currency: o.currency,
      type: 'application_fee',
      source: id,
      immediate: o.immediate,
      ...(o.availableOn !== undefined && !o.immediate ? { available_on: o.availableOn } : {}),
    });
    const fee: Stripe.ApplicationFee = {
      id,
      object: 'application_fee',
      account: o.account,
      amount: o.amount,
      amount_refunded: 0,
      application: PLATFORM_APPLICATION,
      balance_transaction: txn.id,
      charge: o.charge,
      created: this.now(),
      currency: o.currency,
      fee_source: { charge: o.charge, type: 'charge' },
      livemode: false,
      originating_transaction: o.originating,
      refunded: false,
      refunds: apiList([], `/v1/application_fees/${id}/refunds`),
    };
    this.fees.insert(this.platform, fee);
    if (o.charge.startsWith('py_')) {
      const payment = this.charges.get(o.charge);
      if (payment) {
        payment.application_fee = id;
        this.charges.save(payment);
      }
    }
    this.core.emitEvent({ type: 'application_fee.created', object: fee });
    return fee;
  }

  /** Test-card side effects after a successful capture (disputes). */
  private afterSuccess(account: string, chargeId: string): void {
    const card = this.charges.internal(chargeId).card as TestCard | undefined;
    if (card?.dispute) this.openDispute(account, chargeId, card.dispute);
  }

  captureIntent(account: string, id: string, opts: { amount_to_capture?: number | undefined; application_fee_amount?: number | undefined; metadata?: Record<string, string> | undefined }): Stripe.PaymentIntent {
    let pi = this.requireIntent(id, account);
    if (pi.status !== 'requires_capture') {
      throw invalidRequest(
        `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
        { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
      );
    }
    const amount = opts.amount_to_capture ?? pi.amount_capturable;
    if (amount > pi.amount_capturable) {
      throw invalidRequest(`The amount to capture (${amount}) is greater than the capturable amount (${pi.amount_capturable}).`, { code: 'amount_too_large', param: 'amount_to_capture' });
    }
    if (opts.application_fee_amount !== undefined) pi.application_fee_amount = opts.application_fee_amount;
    if (opts.metadata) pi.metadata = { ...pi.metadata, ...opts.metadata };
    this.pis.save(pi);
    const chargeId = String(pi.latest_charge);
    let charge = this.captureCharge(account, chargeId, amount, pi.application_fee_amount);
    if (amount < charge.amount) {
      charge.amount_refunded = charge.amount - amount;
      this.charges.setInternal(chargeId, { released: charge.amount - amount });
      charge = this.charges.save(charge);
    }
    pi = this.requireIntent(id, account);
    pi.status = 'succeeded';
    pi.amount_received = amount;
    pi.amount_capturable = 0;
    pi = this.pis.save(pi);
    this.core.emitEvent({ type: 'charge.captured', object: charge, account });
    this.core.emitEvent({ type: 'payment_intent.succeeded', object: pi, account });
    this.afterSuccess(account, chargeId);
    return pi;
  }

  cancelIntent(account: string, id: string, reason?: Stripe.PaymentIntent.CancellationReason): Stripe.PaymentIntent {
    let pi = this.requireIntent(id, account);
    const cancellable: Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
    if (!cancellable.includes(pi.status)) {
      throw invalidRequest(
        `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
        { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
      );
    }
    if (pi.status === 'requires_capture' && pi.latest_charge) {
      const charge = this.charges.require(String(pi.latest_charge), account);
      charge.amount_refunded = charge.amount;
      charge.refunded = true;
      this.charges.save(charge);
    }
    pi.status = 'canceled';
    pi.canceled_at = this.now();
    pi.cancellation_reason = reason ?? null;
    pi.amount_capturable = 0;
    pi.next_action = null;
    pi = this.pis.save(pi);
    this.core.emitEvent({ type: 'payment_intent.canceled', object: pi, account });
    return pi;
  }

  // ============================================================================================
  // Refunds
  // ============================================================================================

  /** Refunds of a charge that still count (not failed/canceled). */
  private refundedAmount(chargeId: string): number {
    return this.refunds.list(undefined, (r) => r.charge === chargeId && r.status !== 'failed' && r.status !== 'canceled').reduce((n, r) => n + r.amount, 0);
  }

  createRefund(
    account: string,
    input: {
      charge?: string | undefined;
      payment_intent?: string | undefined;
      amount?: number | undefined;
      reason?: Stripe.RefundCreateParams.Reason | undefined;
      reverse_transfer?: boolean | undefined;
      refund_application_fee?: boolean | undefined;
      metadata?: Record<string, string> | undefined;
    },
  ): Stripe.Refund {
    let charge: Stripe.Charge;
    if (input.charge && input.payment_intent) {
      throw invalidRequest('You cannot specify both `charge` and `payment_intent`.', { code: 'parameters_exclusive', param: 'payment_intent' });
    }
    if (input.payment_intent) {
      const pi = this.pis.get(input.payment_intent, account);
      if (!pi) throw invalidRequest(`No such payment_intent: '${input.payment_intent}'`, { code: 'resource_missing', param: 'payment_intent' });
      const c = pi.latest_charge ? this.charges.get(String(pi.latest_charge), account) : undefined;
      if (!c || c.status !== 'succeeded' || !c.captured) {
        throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { param: 'payment_intent' });
      }
      charge = c;
    } else if (input.charge) {
      const c = this.charges.get(input.charge, account);
      if (!c) throw invalidRequest(`No such charge: '${input.charge}'`, { code: 'resource_missing', param: 'charge' });
      charge = c;
    } else {
      throw invalidRequest('One of the following params should be provided for this request: charge or payment_intent.', { param: 'charge' });
    }
    if (charge.status !== 'succeeded' || !charge.captured) {
      throw invalidRequest(`Charge ${charge.id} has not been captured or did not succeed.`, { code: 'charge_not_refundable', param: 'charge' });
    }
    const released = Number(this.charges.internal(charge.id).released ?? 0);
    const refundable = charge.amount - released - this.refundedAmount(charge.id);
    if (refundable <= 0) {
      throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded', extra: { charge: charge.id } });
    }
    const amount = input.amount ?? refundable;
    if (amount > refundable) {
      throw invalidRequest(
        `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(refundable, charge.currency)})`,
        { param: 'amount' },
      );
    }
    if (amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
    const dispute = this.disputes.list(undefined, (d) => d.charge === charge.id)[0];
    if (dispute && !dispute.is_charge_refundable) {
      throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed', param: 'charge' });
    }
    if ((input.reverse_transfer || input.refund_application_fee) && account !== this.platform) {
      throw invalidRequest('Only the platform that created the charge can reverse its transfer or refund its application fee.', { param: input.reverse_transfer ? 'reverse_transfer' : 'refund_application_fee' });
    }
    const isFinal = amount === refundable;
    const card = (this.charges.internal(charge.id).card as TestCard | undefined) ?? undefined;
    const id = this.core.newId('re');
    const txn = this.core.postLedger({ account, amount: -amount, currency: charge.currency, type: 'refund', source: id, description: 'REFUND FOR CHARGE' });
    const status = card?.refund === 'pending_then_succeeded' ? 'pending' : 'succeeded';
    let refund: Stripe.Refund = {
      id,
      object: 'refund',
      amount,
      balance_transaction: txn.id,
      charge: charge.id,
      created: this.now(),
      currency: charge.currency,
      customer: typeof charge.customer === 'string' ? charge.customer : null,
      customer_account: null,
      destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
      metadata: input.metadata ?? {},
      payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
      payment_method: charge.payment_method,
      reason: input.reason ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status,
      transfer_reversal: null,
    };
    if (status === 'pending') refund.pending_reason = 'processing';
    this.refunds.insert(account, refund, { internal: { behaviour: card?.refund ?? null } });

    const chargeBefore = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    this.charges.save(charge);

    let reversedTransfer: Stripe.Transfer | undefined;
    let refundedFee: Stripe.ApplicationFee | undefined;
    if (input.reverse_transfer && charge.transfer) {
      const transfer = this.transfers.require(String(charge.transfer), this.platform);
      const share = proportionalShare({ total: transfer.amount, alreadyReturned: transfer.amount_reversed, chargeAmount: charge.amount - released, refundAmount: amount, isFinal });
      if (share > 0) {
        const { transfer: t, reversal } = this.reverseTransfer(transfer.id, share, { metadata: {}, sourceRefund: id, refundFee: false });
        reversedTransfer = t;
        refund.transfer_reversal = reversal.id;
      }
    }
    if (input.refund_application_fee && charge.application_fee) {
      const fee = this.fees.require(String(charge.application_fee), this.platform);
      const share = proportionalShare({ total: fee.amount, alreadyReturned: fee.amount_refunded, chargeAmount: charge.amount - released, refundAmount: amount, isFinal });
      if (share > 0) refundedFee = this.refundFee(fee.id, share, {}).fee;
    }
    refund = this.refunds.save(refund);
    const updatedCharge = this.charges.require(charge.id, account);
    this.core.emitEvent({ type: 'refund.created', object: refund, account });
    this.core.emitEvent({ type: 'charge.refunded', object: updatedCharge, account, previousAttributes: chargeBefore.refunded === updatedCharge.refunded ? { amount_refunded: chargeBefore.amount_refunded } : chargeBefore });
    if (reversedTransfer) this.core.emitEvent({ type: 'transfer.reversed', object: reversedTransfer });
    if (refundedFee) this.core.emitEvent({ type: 'application_fee.refunded', object: refundedFee });
    return refund;
  }

  /** Ticker: 7726 refunds settle (pending → succeeded); 5126 refunds fail (succeeded → failed). */
  settleRefunds(): void {
    for (const r of this.refunds.list(undefined, (_r, internal) => internal.behaviour === 'pending_then_succeeded' || internal.behaviour === 'succeeded_then_failed')) {
      const internal = this.refunds.internal(r.id);
      if (internal.settled) continue;
      const account = this.refunds.ownerOf(r.id) ?? this.platform;
      const request = { id: null, idempotency_key: null };
      if (internal.behaviour === 'pending_then_succeeded' && r.status === 'pending') {
        const prev = { status: r.status, pending_reason: r.pending_reason };
        r.status = 'succeeded';
        delete r.pending_reason;
        const saved = this.refunds.save(r);
        this.refunds.setInternal(r.id, { settled: true });
        this.core.emitEvent({ type: 'refund.updated', object: saved, account, previousAttributes: prev, request });
      } else if (internal.behaviour === 'succeeded_then_failed' && r.status === 'succeeded') {
        const charge = this.charges.require(String(r.charge));
        const txn = this.core.postLedger({ account, amount: r.amount, currency: r.currency, type: 'refund_failure', source: r.id, description: 'REFUND FAILURE' });
        r.status = 'failed';
        r.failure_reason = 'expired_or_canceled_card';
        r.failure_balance_transaction = txn.id;
        const saved = this.refunds.save(r);
        this.refunds.setInternal(r.id, { settled: true });
        charge.amount_refunded = Math.max(0, charge.amount_refunded - r.amount);
        charge.refunded = false;
        this.charges.save(charge);
        this.core.emitEvent({ type: 'refund.failed', object: saved, account, request });
        this.core.emitEvent({ type: 'refund.updated', object: saved, account, previousAttributes: { status: 'succeeded' }, request });
      }
    }
  }

  cancelRefund(account: string, id: string): Stripe.Refund {
    const r = this.refunds.require(id, account);
    if (r.status !== 'requires_action') {
      throw invalidRequest(`Can't cancel refund ${id} in status ${r.status}. Only refunds with status requires_action can be canceled.`, { param: 'refund' });
    }
    r.status = 'canceled';
    const saved = this.refunds.save(r);
    this.core.emitEvent({ type: 'refund.updated', object: saved, account, previousAttributes: { status: 'requires_action' } });
    return saved;
  }

  // ============================================================================================
  // Transfers, reversals, application fees
  // ============================================================================================

  createTransfer(input: {
    amount: number;
    currency: string;
    destination: string;
    source_transaction?: string | undefined;
    transfer_group?: string | undefined;
    metadata?: Record<string, string> | undefined;
    description?: string | undefined;
  }): Stripe.Transfer {
    const currency = this.validateCurrency(input.currency);
    this.requireTransferDestination(input.destination, 'destination');
    if (input.amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
    let availableOn: number | undefined;
    if (input.source_transaction) {
      const charge = this.charges.get(input.source_transaction, this.platform);
      if (!charge) throw invalidRequest(`No such charge: '${input.source_transaction}'`, { code: 'resource_missing', param: 'source_transaction' });
      if (charge.currency !== currency) {
        throw invalidRequest(`The currency of source_transaction's balance transaction (${charge.currency}) must be the same as the transfer currency (${currency})`, { param: 'currency' });
      }
      const used = this.transfers.list(this.platform, (t) => t.source_transaction === charge.id).reduce((n, t) => n + t.amount - t.amount_reversed, 0);
      if (input.amount > charge.amount - used) {
        throw invalidRequest(`Transfer amount exceeds the amount available from the source transaction (${charge.amount - used}).`, { param: 'amount', code: 'amount_too_large' });
      }
      const txn = charge.balance_transaction ? this.btxns.get(String(charge.balance_transaction)) : undefined;
      if (txn && txn.status === 'pending') availableOn = txn.available_on;
    } else {
      const available = this.core.ledger.available(this.platform, currency);
      if (input.amount > available) {
        throw invalidRequest(
          'You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance',
          { code: 'balance_insufficient', param: 'amount' },
        );
      }
    }
    const { transfer } = this.makeTransfer({
      destination: input.destination,
      amount: input.amount,
      currency,
      sourceTransaction: input.source_transaction ?? null,
      transferGroup: input.transfer_group ?? null,
      metadata: input.metadata ?? {},
      description: input.description ?? null,
      platformAvailableOn: availableOn,
      immediate: availableOn === undefined,
    });
    return transfer;
  }

  /** Reverse part of a transfer (`trr_`, and a `pyr_` refund of the destination payment). */
  reverseTransfer(
    transferId: string,
    amount: number,
    opts: { metadata: Record<string, string>; sourceRefund: string | null; refundFee: boolean },
  ): { transfer: Stripe.Transfer; reversal: Stripe.TransferReversal } {
    const transfer = this.transfers.require(transferId, this.platform);
    const remaining = transfer.amount - transfer.amount_reversed;
    if (remaining <= 0) {
      throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`, { param: 'amount' });
    }
    if (amount > remaining) {
      throw invalidRequest(`Reversal amount (${formatMoney(amount, transfer.currency)}) is greater than the unreversed amount of the transfer (${formatMoney(remaining, transfer.currency)}).`, {
        param: 'amount',
      });
    }
    if (amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
    const destination = String(transfer.destination);
    const id = this.core.newId('trr');
    const pyrId = this.core.newId('pyr');
    const txn = this.core.postLedger({ account: this.platform, amount, currency: transfer.currency, type: 'transfer_refund', source: id });
    const pyrTxn = this.core.postLedger({ account: destination, amount: -amount, currency: transfer.currency, type: 'payment_refund', source: pyrId });
    const paymentId = transfer.destination_payment ? String(transfer.destination_payment) : null;
    const pyr: Stripe.Refund = {
      id: pyrId,
      object: 'refund',
      amount,
      balance_transaction: pyrTxn.id,
      charge: paymentId,
      created: this.now(),
      currency: transfer.currency,
      customer: null,
      customer_account: null,
      metadata: {},
      payment_intent: null,
      payment_method: null,
      reason: null,
      receipt_number: null,
      source_transfer_reversal: id,
      status: 'succeeded',
      transfer_reversal: null,
    };
    this.refunds.insert(destination, pyr, { internal: { destinationPaymentRefund: true } });
    if (paymentId) {
      const payment = this.charges.get(paymentId);
      if (payment) {
        payment.amount_refunded += amount;
        payment.refunded = payment.amount_refunded >= payment.amount;
        this.charges.save(payment);
      }
    }
    const reversal: Stripe.TransferReversal = {
      id,
      object: 'transfer_reversal',
      amount,
      balance_transaction: txn.id,
      created: this.now(),
      currency: transfer.currency,
      destination_payment_refund: pyrId,
      metadata: opts.metadata,
      source_refund: opts.sourceRefund,
      transfer: transfer.id,
    };
    this.reversals.insert(this.platform, reversal);
    transfer.amount_reversed += amount;
    transfer.reversed = transfer.amount_reversed >= transfer.amount;
    transfer.reversals = apiList([reversal, ...transfer.reversals.data], `/v1/transfers/${transfer.id}/reversals`);
    const saved = this.transfers.save(transfer);
    if (opts.refundFee && paymentId) {
      const payment = this.charges.get(paymentId);
      if (payment?.application_fee) {
        const fee = this.fees.require(String(payment.application_fee), this.platform);
        const share = proportionalShare({ total: fee.amount, alreadyReturned: fee.amount_refunded, chargeAmount: transfer.amount, refundAmount: amount, isFinal: transfer.reversed });
        if (share > 0) {
          const { fee: updated } = this.refundFee(fee.id, share, {});
          this.core.emitEvent({ type: 'application_fee.refunded', object: updated });
        }
      }
    }
    return { transfer: this.transfers.require(saved.id), reversal };
  }

  /** Refund part of an application fee (`fr_`): platform pays it back to the connected account. */
  refundFee(feeId: string, amount: number | undefined, metadata: Record<string, string>): { fee: Stripe.ApplicationFee; refund: Stripe.FeeRefund } {
    const fee = this.fees.require(feeId, this.platform);
    const remaining = fee.amount - fee.amount_refunded;
    if (remaining <= 0) {
      throw invalidRequest(`Application fee ${fee.id} has already been refunded.`, { code: 'charge_already_refunded', param: 'amount' });
    }
    const value = amount ?? remaining;
    if (value > remaining) {
      throw invalidRequest(`Refund amount (${formatMoney(value, fee.currency)}) is greater than unrefunded amount on fee (${formatMoney(remaining, fee.currency)})`, { param: 'amount' });
    }
    if (value <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
    const id = this.core.newId('fr');
    const txn = this.core.postLedger({ account: this.platform, amount: -value, currency: fee.currency, type: 'application_fee_refund', source: id });
    this.core.postLedger({ account: String(fee.account), amount: value, currency: fee.currency, type: 'application_fee_refund', source: id, immediate: true });
    const refund: Stripe.FeeRefund = {
      id,
      object: 'fee_refund',
      amount: value,
      balance_transaction: txn.id,
      created: this.now(),
      currency: fee.currency,
      fee: fee.id,
      metadata,
    };
    this.feeRefunds.insert(this.platform, refund);
    fee.amount_refunded += value;
    fee.refunded = fee.amount_refunded >= fee.amount;
    fee.refunds = apiList([refund, ...fee.refunds.data], `/v1/application_fees/${fee.id}/refunds`);
    return { fee: this.fees.save(fee), refund };
  }

  // ============================================================================================
  // Disputes
  // ============================================================================================

  openDispute(account: string, chargeId: string, kind: 'fraudulent' | 'product_not_received' | 'inquiry'): Stripe.Dispute {
    const charge = this.charges.require(chargeId, account);
    const now = this.now();
    const id = this.core.newId('du');
    const inquiry = kind === 'inquiry';
    const txns: Stripe.BalanceTransaction[] = [];
    if (!inquiry) {
      txns.push(
        this.core.postLedger({
          account,
          amount: -charge.amount,
          currency: charge.currency,
          type: 'adjustment',
          source: id,
          fee: DISPUTE_FEE,
          fee_details: disputeFeeDetails(DISPUTE_FEE, charge.currency),
          description: `Chargeback withdrawal for ${charge.id}`,
          reporting_category: 'dispute',
        }),
      );
    }
    const dispute: Stripe.Dispute = {
      id,
      object: 'dispute',
      amount: charge.amount,
      balance_transactions: txns,
      charge: charge.id,
      created: now,
      currency: charge.currency,
      enhanced_eligibility_types: [],
      evidence: emptyEvidence(),
      evidence_details: { due_by: now + DISPUTE_EVIDENCE_DAYS * DAY, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: 'not_submitted' },
      intended_submission_method: null,
      is_charge_refundable: inquiry,
      livemode: false,
      metadata: {},
      network_reason_code: inquiry ? null : kind === 'fraudulent' ? '10.4' : '13.1',
      payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
      reason: inquiry ? 'general' : kind,
      status: inquiry ? 'warning_needs_response' : 'needs_response',
    };
    this.disputes.insert(account, dispute);
    charge.disputed = true;
    this.charges.save(charge);
    this.core.emitEvent({ type: 'charge.dispute.created', object: dispute, account });
    if (!inquiry) this.core.emitEvent({ type: 'charge.dispute.funds_withdrawn', object: dispute, account });
    return dispute;
  }

  updateDispute(
    account: string,
    id: string,
    input: { evidence?: Record<string, string> | undefined; submit?: boolean | undefined; metadata?: Record<string, string> | undefined },
  ): Stripe.Dispute {
    let d = this.disputes.require(id, account);
    const closed = ['won', 'lost', 'warning_closed', 'prevented'].includes(d.status);
    if (closed && input.evidence) {
      throw invalidRequest(`This dispute is already closed (status: ${d.status}); evidence can no longer be submitted.`, { param: 'evidence' });
    }
    const submittedAlready = d.status === 'under_review' || d.status === 'warning_under_review';
    if (submittedAlready && input.evidence) {
      throw invalidRequest('Evidence for this dispute has already been submitted.', { param: 'evidence' });
    }
    const prev: Record<string, unknown> = {};
    if (input.metadata) {
      prev.metadata = d.metadata;
      d.metadata = input.metadata;
    }
    if (input.evidence) {
      prev.evidence = d.evidence;
      const ev: Stripe.Dispute.Evidence = { ...d.evidence };
      for (const [k, v] of Object.entries(input.evidence)) {
        if (isTextEvidenceKey(k)) ev[k] = v === '' ? null : v;
      }
      d.evidence = ev;
      d.evidence_details.has_evidence = true;
    }
    const submit = input.submit ?? true;
    if (submit && !closed && !submittedAlready && (input.evidence || d.evidence_details.has_evidence)) {
      prev.status = d.status;
      d.evidence_details.submission_count += 1;
      d.evidence_details.submission_method = 'manual';
      d.status = d.status === 'warning_needs_response' ? 'warning_under_review' : 'under_review';
    }
    d = this.disputes.save(d);
    this.core.emitEvent({ type: 'charge.dispute.updated', object: d, account, previousAttributes: prev });
    if (d.status === 'under_review' || d.status === 'warning_under_review') this.resolveDispute(account, d.id);
    return d;
  }

  /** Test-mode resolution: `uncategorized_text` decides (winning_evidence / losing_evidence). */
  private resolveDispute(account: string, id: string): void {
    const d = this.disputes.require(id, account);
    const text = d.evidence.uncategorized_text ?? '';
    const inquiry = d.status === 'warning_under_review';
    if (text.includes('winning_evidence')) this.closeDisputeAs(account, id, inquiry ? 'warning_closed' : 'won');
    else if (text.includes('losing_evidence')) this.closeDisputeAs(account, id, inquiry ? 'warning_closed' : 'lost');
  }

  closeDispute(account: string, id: string): Stripe.Dispute {
    const d = this.disputes.require(id, account);
    if (!['needs_response', 'warning_needs_response'].includes(d.status)) {
      throw invalidRequest(`This dispute cannot be closed because it has a status of ${d.status}.`, { param: 'dispute' });
    }
    return this.closeDisputeAs(account, id, d.status === 'warning_needs_response' ? 'warning_closed' : 'lost');
  }

  private closeDisputeAs(account: string, id: string, status: 'won' | 'lost' | 'warning_closed'): Stripe.Dispute {
    let d = this.disputes.require(id, account);
    const prevStatus = d.status;
    if (status === 'won') {
      const fee = DISPUTE_FEE_REFUNDED_ON_WIN ? DISPUTE_FEE : 0;
      const txn = this.core.postLedger({
        account,
        amount: d.amount,
        currency: d.currency,
        type: 'adjustment',
        source: d.id,
        fee: -fee,
        fee_details: fee ? disputeFeeDetails(-fee, d.currency) : [],
        description: `Chargeback reversal for ${String(d.charge)}`,
        reporting_category: 'dispute_reversal',
        immediate: true,
      });
      d.balance_transactions = [...d.balance_transactions, txn];
    }
    d.status = status;
    d.is_charge_refundable = false;
    d = this.disputes.save(d);
    if (status === 'won') this.core.emitEvent({ type: 'charge.dispute.funds_reinstated', object: d, account });
    this.core.emitEvent({ type: 'charge.dispute.closed', object: d, account, previousAttributes: { status: prevStatus } });
    return d;
  }
}
