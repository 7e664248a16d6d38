/**
 * Builders for the SDK-typed objects of the payments module (PaymentMethod, Charge pieces, …).
 * Pure functions: no store access.
 */
import type Stripe from 'stripe';
import { createHash } from 'node:crypto';
import type { TestCard } from './cards.ts';

export const EMPTY_ADDRESS: Stripe.Address = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };

export function billingDetails(email: string | null = null, name: string | null = null): Stripe.PaymentMethod.BillingDetails {
  return { address: { ...EMPTY_ADDRESS }, email, name, phone: null, tax_id: null };
}

/** Stable per-number fingerprint (never the number itself). */
export function fingerprint(number: string): string {
  return createHash('sha256').update(`emulator-card:${number}`).digest('base64url').slice(0, 16);
}

export const EXP_MONTH = 12;
export const EXP_YEAR = 2034;

export function buildPaymentMethod(opts: {
  id: string;
  card: TestCard;
  created: number;
  email?: string | null;
  metadata?: Record<string, string>;
}): Stripe.PaymentMethod {
  const { card } = opts;
  return {
    id: opts.id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: billingDetails(opts.email ?? null),
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: card.brand,
      exp_month: EXP_MONTH,
      exp_year: EXP_YEAR,
      fingerprint: fingerprint(card.number),
      funding: card.funding,
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: opts.created,
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: opts.metadata ?? {},
    type: 'card',
  };
}

export function chargeCardDetails(card: TestCard, amount: number, authenticated: boolean): Stripe.Charge.PaymentMethodDetails {
  return {
    type: 'card',
    card: {
      amount_authorized: amount,
      authorization_code: null,
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      electronic_commerce_indicator: authenticated ? '05' : null,
      exp_month: EXP_MONTH,
      exp_year: EXP_YEAR,
      fingerprint: fingerprint(card.number),
      funding: card.funding,
      installments: null,
      last4: card.last4,
      mandate: null,
      network: card.brand,
      network_transaction_id: null,
      regulated_status: 'unregulated',
      three_d_secure: authenticated
        ? {
            authentication_flow: 'challenge',
            electronic_commerce_indicator: '05',
            exemption_indicator: null,
            result: 'authenticated',
            result_reason: null,
            transaction_id: null,
            version: '2.2.0',
          }
        : null,
      transaction_link_id: null,
      wallet: null,
    },
  };
}

export function successOutcome(): Stripe.Charge.Outcome {
  return {
    advice_code: null,
    network_advice_code: null,
    network_decline_code: null,
    network_status: 'approved_by_network',
    reason: null,
    risk_level: 'normal',
    risk_score: 20,
    seller_message: 'Payment complete.',
    type: 'authorized',
  };
}

export function declineOutcome(declineCode: string): Stripe.Charge.Outcome {
  return {
    advice_code: declineCode === 'insufficient_funds' ? 'try_again_later' : 'do_not_try_again',
    network_advice_code: null,
    network_decline_code: null,
    network_status: 'declined_by_network',
    reason: declineCode,
    risk_level: 'normal',
    risk_score: 20,
    seller_message: 'The bank did not return any further details with this decline.',
    type: 'issuer_declined',
  };
}

export function emptyEvidence(): Stripe.Dispute.Evidence {
  return {
    access_activity_log: null,
    billing_address: null,
    cancellation_policy: null,
    cancellation_policy_disclosure: null,
    cancellation_rebuttal: null,
    customer_communication: null,
    customer_email_address: null,
    customer_name: null,
    customer_purchase_ip: null,
    customer_signature: null,
    duplicate_charge_documentation: null,
    duplicate_charge_explanation: null,
    duplicate_charge_id: null,
    enhanced_evidence: {},
    product_description: null,
    receipt: null,
    refund_policy: null,
    refund_policy_disclosure: null,
    refund_refusal_explanation: null,
    service_date: null,
    service_documentation: null,
    shipping_address: null,
    shipping_carrier: null,
    shipping_date: null,
    shipping_documentation: null,
    shipping_tracking_number: null,
    uncategorized_file: null,
    uncategorized_text: null,
  };
}

/** Evidence fields that take a string (the file ones take a `file_…` id, also a string). */
export const EVIDENCE_FIELDS = Object.keys(emptyEvidence()).filter((k) => k !== 'enhanced_evidence' && k !== 'shipping_address');

export function apiList<T>(data: T[], url: string): Stripe.ApiList<T> {
  return { object: 'list', data, has_more: false, url };
}
