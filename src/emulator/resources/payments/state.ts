/**
 * The payments module's shared state: its collections over the one store, the core (clock,
 * ledger, events) and the extension points other modules (billing) hook into. Every family file
 * (intents, charges, refunds, …) takes it as its first argument.
 */
import type Stripe from 'stripe';
import type { EmulatorCore, ApiRequest } from '../../core/core.ts';
import type { Collection } from '../../core/store.ts';
import type { TestCard } from './cards.ts';

/** Called after a PaymentIntent's status changed and its event was emitted. */
export type IntentListener = (pi: Stripe.PaymentIntent, account: string) => void;

/**
 * Called when a Checkout Session is about to complete, before `checkout.session.completed` is
 * emitted: a listener may set fields on `session` (e.g. `subscription`, `invoice`); they are saved
 * and are in the event.
 */
export type CheckoutCompletingListener = (session: Stripe.Checkout.Session, pi: Stripe.PaymentIntent | undefined, account: string) => void;

/** A Checkout `mode` other than `payment`, provided by another module (billing). */
export interface CheckoutModeExtension {
  /** Builds and stores the session for `POST /v1/checkout/sessions` with this mode (use `createCheckoutSession`). */
  create(req: ApiRequest): Stripe.Checkout.Session;
  /**
   * The buyer pays on the hosted page; default: a PaymentIntent for `amount_total`, as in payment
   * mode. `card` is null only when `cardOptional` said so and the buyer left the number empty.
   */
  payWithCard?(session: Stripe.Checkout.Session, card: TestCard | null, email: string | null): { redirect: string } | { error: string };
  /** Whether the hosted page may be submitted without a card (e.g. a free trial that collects none). */
  cardOptional?(session: Stripe.Checkout.Session): boolean;
}

export interface PaymentHooks {
  /** A PaymentIntent succeeded (captured), after `payment_intent.succeeded`. */
  intentSucceeded: IntentListener[];
  /** A payment attempt failed (decline, failed 3DS), after `payment_intent.payment_failed`. */
  intentPaymentFailed: IntentListener[];
  checkoutCompleting: CheckoutCompletingListener[];
}

export interface Payments {
  readonly core: EmulatorCore;
  readonly platform: string;
  readonly pms: Collection<Stripe.PaymentMethod>;
  readonly pis: Collection<Stripe.PaymentIntent>;
  readonly charges: Collection<Stripe.Charge>;
  readonly refunds: Collection<Stripe.Refund>;
  readonly transfers: Collection<Stripe.Transfer>;
  readonly reversals: Collection<Stripe.TransferReversal>;
  readonly fees: Collection<Stripe.ApplicationFee>;
  readonly feeRefunds: Collection<Stripe.FeeRefund>;
  readonly disputes: Collection<Stripe.Dispute>;
  readonly sessions: Collection<Stripe.Checkout.Session>;
  readonly btxns: Collection<Stripe.BalanceTransaction>;
  readonly hooks: PaymentHooks;
  /** Checkout modes handled elsewhere (`subscription`, `setup`), by mode. */
  readonly checkoutModes: Map<string, CheckoutModeExtension>;
  /**
   * Resolves `line_items[][price]` ids in payment mode (stored Prices and Products belong to
   * billing), with the product's name for the line item; unset or undefined → "No such price".
   */
  priceLookup: ((account: string, priceId: string) => { price: Stripe.Price; productName: string } | undefined) | undefined;
  /** Whether `customer` is one of the account's live customers (Customers belong to billing); unset: not checked. */
  customerLookup: ((account: string, customerId: string) => boolean) | undefined;
}

export function createPayments(core: EmulatorCore): Payments {
  return {
    core,
    platform: core.platformAccount,
    pms: core.collection<Stripe.PaymentMethod>('payment_method', 'PaymentMethod'),
    pis: core.collection<Stripe.PaymentIntent>('payment_intent', 'payment_intent'),
    charges: core.collection<Stripe.Charge>('charge', 'charge'),
    refunds: core.collection<Stripe.Refund>('refund', 'refund'),
    transfers: core.collection<Stripe.Transfer>('transfer', 'transfer'),
    reversals: core.collection<Stripe.TransferReversal>('transfer_reversal', 'transfer reversal'),
    fees: core.collection<Stripe.ApplicationFee>('application_fee', 'application fee'),
    feeRefunds: core.collection<Stripe.FeeRefund>('fee_refund', 'fee refund'),
    disputes: core.collection<Stripe.Dispute>('dispute', 'dispute'),
    sessions: core.collection<Stripe.Checkout.Session>('checkout.session', 'checkout.session'),
    btxns: core.collection<Stripe.BalanceTransaction>('balance_transaction', 'balance transaction'),
    hooks: { intentSucceeded: [], intentPaymentFailed: [], checkoutCompleting: [] },
    checkoutModes: new Map(),
    priceLookup: undefined,
    customerLookup: undefined,
  };
}
