// Signed Stripe events for the load generators: every event has a fresh id and a valid signature
// made with the SDK's own test-header helper, exactly what Stripe would send.
//  - charge.succeeded (platform endpoint): a destination charge shaped as Stripe sends it, ~2 KB.
//    Our worker's handler looks for the order in its metadata and has none to find; the sync
//    engine stores the charge without calling Stripe (a succeeded charge is final).
//  - account.updated (Connect endpoint): an account that is not one of our sellers, so the handler
//    reads the sellers table and stops.
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { emptyFutureRequirements, emptyRequirements } from '../../emulator/resources/connect/model.ts';

export const API_VERSION = '2026-10-28.endive';
const signer = new Stripe('sk_test_bench_signing_only');
const run = randomBytes(3).toString('hex');
let sequence = 0;

export interface SignedEvent {
  path: '/webhooks/stripe' | '/webhooks/stripe/connect';
  body: string;
  signature: string;
}

export function sign(body: string, secret: string): string {
  return signer.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: Math.floor(Date.now() / 1000) });
}

function envelope(type: string, object: Record<string, unknown>, account: string | undefined): Record<string, unknown> {
  sequence += 1;
  return {
    id: `evt_bench${run}${sequence.toString(36).padStart(8, '0')}`,
    object: 'event',
    api_version: API_VERSION,
    created: Math.floor(Date.now() / 1000),
    ...(account !== undefined ? { account } : {}),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export function chargeSucceeded(secret: string): SignedEvent {
  const n = (sequence + 1).toString(36).padStart(10, '0');
  const created = Math.floor(Date.now() / 1000);
  const charge = {
    id: `ch_bench${run}${n}`,
    object: 'charge',
    amount: 4200,
    amount_captured: 4200,
    amount_refunded: 0,
    application: null,
    application_fee: `fee_bench${run}${n}`,
    application_fee_amount: 420,
    balance_transaction: `txn_bench${run}${n}`,
    billing_details: {
      address: { city: null, country: 'US', line1: null, line2: null, postal_code: '94103', state: null },
      email: 'buyer@example.test',
      name: 'Jenny Rosen',
      phone: null,
    },
    calculated_statement_descriptor: 'MARKETPLACE',
    captured: true,
    created,
    currency: 'usd',
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
    outcome: {
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      risk_score: 32,
      seller_message: 'Payment complete.',
      type: 'authorized',
    },
    paid: true,
    payment_intent: `pi_bench${run}${n}`,
    payment_method: `pm_bench${run}${n}`,
    payment_method_details: {
      card: {
        brand: 'visa',
        checks: { address_line1_check: null, address_postal_code_check: 'pass', cvc_check: 'pass' },
        country: 'US',
        exp_month: 8,
        exp_year: 2030,
        fingerprint: 'Xt5EWLLDS7FJjR1c',
        funding: 'credit',
        installments: null,
        last4: '4242',
        mandate: null,
        network: 'visa',
        three_d_secure: null,
        wallet: null,
      },
      type: 'card',
    },
    receipt_email: null,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/bench/${n}`,
    refunded: false,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer: `tr_bench${run}${n}`,
    transfer_data: { amount: null, destination: 'acct_bench000001' },
    transfer_group: `group_pi_bench${run}${n}`,
  };
  const body = JSON.stringify(envelope('charge.succeeded', charge, undefined));
  return { path: '/webhooks/stripe', body, signature: sign(body, secret) };
}

export function accountUpdated(secret: string): SignedEvent {
  const account = `acct_bench${(sequence % 1000).toString().padStart(6, '0')}`;
  const object = {
    id: account,
    object: 'account',
    type: 'express',
    country: 'US',
    default_currency: 'usd',
    email: null,
    charges_enabled: true,
    payouts_enabled: true,
    details_submitted: true,
    capabilities: { card_payments: 'active', transfers: 'active' },
    controller: {
      fees: { payer: 'application' },
      losses: { payments: 'application' },
      stripe_dashboard: { type: 'express' },
      requirement_collection: 'stripe',
      type: 'application',
    },
    requirements: emptyRequirements(),
    future_requirements: emptyFutureRequirements(),
    metadata: {},
    created: Math.floor(Date.now() / 1000) - 86_400,
  };
  const body = JSON.stringify(envelope('account.updated', object, account));
  return { path: '/webhooks/stripe/connect', body, signature: sign(body, secret) };
}
