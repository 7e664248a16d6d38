// The messages the marketplace sends, what each needs to say, and how they are rendered: a
// Handlebars text body and HTML body per message under views/email/, and a subject line here.
// Data is stored in the outbox as it was when the cause committed (amounts in minor units, dates as
// ISO strings, links as paths); rendering happens when the message is sent, with the site's address.
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatMoney } from '../money.ts';

export interface ShipTo {
  name: string;
  lines: string[];
}

export interface EmailTemplates {
  'order-receipt': { orderId: string; title: string; quantity: number; amount: number; currency: string; sellerName: string; paidAt: string };
  'new-sale': {
    orderId: string;
    title: string;
    quantity: number;
    amount: number;
    currency: string;
    applicationFee: number;
    buyerEmail: string;
    shipTo: ShipTo | null;
  };
  'order-shipped': { orderId: string; title: string; carrier: string; trackingNumber: string };
  'refund-issued': { orderId: string; title: string; amount: number; currency: string; refundedTotal: number; orderAmount: number };
  'dispute-opened': {
    audience: 'seller' | 'admin';
    disputeId: string;
    orderId: string;
    title: string;
    amount: number;
    currency: string;
    reason: string;
    evidenceDueBy: string | null;
  };
  'payout-paid': { payoutId: string; amount: number; currency: string; arrivalDate: string | null };
  'onboarding-action-needed': { summary: string; due: string[]; deadline: string | null; pastDue: boolean };
  'password-reset': { resetPath: string; expiresAt: string };
  'email-change-confirm': { confirmPath: string; newEmail: string; expiresAt: string };
  /** To the OLD address once a change is confirmed; the new one only partly shown (`n…@example.com`). */
  'email-changed': { newEmailHint: string; changedAt: string };
  /** To the seller: a buyer asks for a refund of an order. */
  'refund-requested': { orderId: string; title: string; amount: number; currency: string; reason: string };
}

export type EmailTemplateName = keyof EmailTemplates;

export const EMAIL_TEMPLATE_NAMES: readonly EmailTemplateName[] = [
  'order-receipt',
  'new-sale',
  'order-shipped',
  'refund-issued',
  'dispute-opened',
  'payout-paid',
  'onboarding-action-needed',
  'password-reset',
  'email-change-confirm',
  'email-changed',
  'refund-requested',
];

/** Subject lines: short, and saying what happened before the reader opens the message. */
const SUBJECTS: Record<EmailTemplateName, string> = {
  'order-receipt': 'Your receipt: {{title}}',
  'new-sale': 'New sale: {{title}}{{#if shipTo}} (ship to {{shipTo.name}}){{/if}}',
  'order-shipped': 'Your order has shipped: {{title}}',
  'refund-issued': 'Refund of {{money amount currency}} for {{title}}',
  'dispute-opened': 'Dispute opened: {{money amount currency}} for {{title}}',
  'payout-paid': 'Payout of {{money amount currency}} sent to your bank',
  'onboarding-action-needed': 'Action needed: Stripe needs more information to keep your payouts going',
  'password-reset': 'Reset your Marketplace password',
  'email-change-confirm': 'Confirm your new email address',
  'email-changed': 'Your Marketplace email address was changed',
  'refund-requested': 'Refund requested: {{title}}',
};

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const EMAIL_VIEWS = fileURLToPath(new URL('../../views/email/', import.meta.url));

const html = Handlebars.create();
// Plain text is not HTML: nothing to escape (and &amp; in a text message would be wrong).
const text = Handlebars.create();
for (const hbs of [html, text]) {
  hbs.registerHelper('money', (amount: unknown, currency: unknown) =>
    typeof amount === 'number' && typeof currency === 'string' ? formatMoney(amount, currency) : '',
  );
  hbs.registerHelper('date', (value: unknown) => formatDate(value, true));
  hbs.registerHelper('day', (value: unknown) => formatDate(value, false));
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('shortId', (id: unknown) => (typeof id === 'string' ? id.slice(0, 8) : ''));
}

type Compiled = (context: object) => string;
const cache = new Map<string, Compiled>();

function compiled(kind: 'text' | 'html' | 'subject', name: string, source?: string): Compiled {
  const key = `${kind}:${name}`;
  let template = cache.get(key);
  if (template === undefined) {
    const body = source ?? readFileSync(`${EMAIL_VIEWS}${name}.${kind}.hbs`, 'utf8');
    template = (kind === 'html' ? html : text).compile(body, { strict: true, noEscape: kind !== 'html' });
    cache.set(key, template);
  }
  return template;
}

/**
 * Renders a stored message. `strict` templates throw on a missing field, so a message whose data
 * does not fit its template fails to send (and is retried, then dead) instead of going out with
 * blanks. `baseUrl` is the site's public address, for links.
 */
export function renderEmail(name: string, data: unknown, context: { baseUrl: string }): RenderedEmail {
  if (!(EMAIL_TEMPLATE_NAMES as readonly string[]).includes(name)) throw new Error(`no email template named ${name}`);
  const values = { ...(data as object), baseUrl: context.baseUrl };
  const subject = compiled(
    'subject',
    name,
    SUBJECTS[name as EmailTemplateName],
  )(values)
    .replace(/[\r\n\t]+/g, ' ')
    .trim()
    .slice(0, 200);
  const body = compiled('html', name)(values);
  return {
    subject,
    text:
      compiled(
        'text',
        name,
      )(values)
        .replace(/\n{3,}/g, '\n\n')
        .trim() + '\n',
    html: compiled('html', 'layout')({ subject, body: new Handlebars.SafeString(body), baseUrl: context.baseUrl }),
  };
}

function formatDate(value: unknown, withTime: boolean): string {
  const date = typeof value === 'string' || typeof value === 'number' || value instanceof Date ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) return '';
  return date.toLocaleString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
    ...(withTime ? { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } : {}),
  });
}
