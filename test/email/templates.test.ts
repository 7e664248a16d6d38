// Every message renders in text and HTML from its stored data: amounts formatted per currency,
// absolute links, user text escaped in HTML and left alone in text, and data that does not fit its
// template refused rather than sent with blanks.
import { describe, expect, it } from 'vitest';
import { EMAIL_TEMPLATE_NAMES, renderEmail, type EmailTemplates } from '../../src/email/templates.ts';

const base = { baseUrl: 'https://market.example' };
const orderId = '6f1c2a8e-1d2b-4c3d-9e8f-0a1b2c3d4e5f';

const samples: { [K in keyof EmailTemplates]: EmailTemplates[K] } = {
  'order-receipt': {
    orderId,
    title: 'Mug & saucer',
    quantity: 2,
    amount: 4800,
    currency: 'usd',
    sellerName: 'Clay Studio',
    paidAt: '2026-11-29T14:05:00.000Z',
  },
  'new-sale': {
    orderId,
    title: 'Mug & saucer',
    quantity: 1,
    amount: 2400,
    currency: 'usd',
    applicationFee: 240,
    buyerEmail: 'buyer@example.test',
    shipTo: { name: 'Ada Buyer', lines: ['1 High Street', 'London N1 1AA', 'United Kingdom'] },
  },
  'order-shipped': { orderId, title: 'Mug', carrier: 'Royal Mail', trackingNumber: 'RM123456789GB' },
  'refund-issued': { orderId, title: 'Mug', amount: 500, currency: 'jpy', refundedTotal: 500, orderAmount: 1500 },
  'dispute-opened': {
    audience: 'seller',
    disputeId: 'dp_123',
    orderId,
    title: 'Mug',
    amount: 2400,
    currency: 'eur',
    reason: 'product not received',
    evidenceDueBy: '2026-12-09T23:59:59.000Z',
  },
  'payout-paid': { payoutId: 'po_123', amount: 9000, currency: 'gbp', arrivalDate: '2026-12-01T00:00:00.000Z' },
  'onboarding-action-needed': {
    summary: 'Stripe needs more information before the deadline.',
    due: ['Date of birth', 'An identity document (passport, ID card or driving licence)'],
    deadline: '2026-12-15T00:00:00.000Z',
    pastDue: false,
  },
  'password-reset': { resetPath: '/reset-password/abc.def', expiresAt: '2026-11-29T15:05:00.000Z' },
  'email-change-confirm': { confirmPath: '/email-change/confirm?token=abc.def', newEmail: 'new@example.test', expiresAt: '2026-11-30T15:05:00.000Z' },
  'email-changed': { newEmailHint: 'n…@example.test', changedAt: '2026-11-30T15:05:00.000Z' },
  'refund-requested': { orderId, title: 'Mug & saucer', amount: 2400, currency: 'usd', reason: 'Arrived <broken>.\nPhotos attached.' },
};

describe('email templates', () => {
  it.each(EMAIL_TEMPLATE_NAMES)('%s renders a subject, a text body and an HTML body', (name) => {
    const email = renderEmail(name, samples[name], base);
    expect(email.subject.length).toBeGreaterThan(5);
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.text.length).toBeGreaterThan(20);
    expect(email.html).toMatch(/^<!doctype html>/);
    expect(email.html).toContain(`<title>${email.subject.replaceAll('&', '&amp;')}</title>`);
    // Every link is absolute, to this site.
    for (const link of email.text.match(/https?:\/\/\S+/g) ?? []) expect(link.startsWith('https://market.example/')).toBe(true);
    for (const [, href] of email.html.matchAll(/href="([^"]+)"/g)) expect(href!.startsWith('https://market.example/')).toBe(true);
  });

  it('the receipt says what was bought, for how much, from whom, with a link to the order', () => {
    const email = renderEmail('order-receipt', samples['order-receipt'], base);
    expect(email.subject).toBe('Your receipt: Mug & saucer');
    expect(email.text).toContain('Mug & saucer × 2');
    expect(email.text).toContain('Paid: $48.00 on 29 November 2026');
    expect(email.text).toContain('Sold by: Clay Studio');
    expect(email.text).toContain(`https://market.example/orders/${orderId}`);
    expect(email.html).toContain('Mug &amp; saucer × 2');
  });

  it("the seller's new-sale message carries the ship-to address when there is one", () => {
    const withAddress = renderEmail('new-sale', samples['new-sale'], base);
    expect(withAddress.subject).toBe('New sale: Mug & saucer (ship to Ada Buyer)');
    expect(withAddress.text).toContain('Ship to:\nAda Buyer\n1 High Street\nLondon N1 1AA\nUnited Kingdom');
    expect(withAddress.html).toContain('Ada Buyer<br>1 High Street<br>London N1 1AA<br>United Kingdom');
    const without = renderEmail('new-sale', { ...samples['new-sale'], shipTo: null }, base);
    expect(without.subject).toBe('New sale: Mug & saucer');
    expect(without.text).toContain('No shipping address was collected for this order.');
  });

  it("the seller hears of a refund request: the order, the buyer's reason (escaped in HTML) and where to answer it", () => {
    const email = renderEmail('refund-requested', samples['refund-requested'], base);
    expect(email.subject).toBe('Refund requested: Mug & saucer');
    expect(email.text).toContain('Paid: $24.00');
    expect(email.text).toContain('Arrived <broken>.\nPhotos attached.');
    expect(email.text).toContain(`https://market.example/seller/orders/${orderId}`);
    expect(email.html).toContain('Arrived &lt;broken&gt;.');
  });

  it('the old address is told its account moved, without the whole new address', () => {
    const email = renderEmail('email-changed', samples['email-changed'], base);
    expect(email.text).toContain('changed on 30 November 2026');
    expect(email.text).toContain('n…@example.test');
  });

  it("formats money in the order's currency (zero-decimal yen, pounds)", () => {
    expect(renderEmail('refund-issued', samples['refund-issued'], base).text).toContain('We have refunded ¥500 for Mug.');
    expect(renderEmail('payout-paid', samples['payout-paid'], base).subject).toBe('Payout of £90.00 sent to your bank');
  });

  it('the dispute message differs for the seller and for admins', () => {
    const seller = renderEmail('dispute-opened', samples['dispute-opened'], base);
    const admin = renderEmail('dispute-opened', { ...samples['dispute-opened'], audience: 'admin' }, base);
    expect(seller.text).toContain('one of your orders');
    expect(seller.text).toContain('https://market.example/seller/orders');
    expect(admin.text).toContain('https://market.example/admin/disputes/dp_123');
    expect(admin.text).not.toContain('/seller/orders');
  });

  it('escapes user text in HTML and the subject never carries a line break', () => {
    const hostile = {
      ...samples['order-receipt'],
      title: '<script>alert(1)</script>\r\nBcc: victim@example.test',
      sellerName: '"><img src=x onerror=alert(1)>',
    };
    const email = renderEmail('order-receipt', hostile, base);
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img src=x');
    expect(email.html).toContain('&lt;script&gt;');
    expect(email.subject).toBe('Your receipt: <script>alert(1)</script> Bcc: victim@example.test');
  });

  it('refuses data that does not fit its template instead of sending blanks', () => {
    const { sellerName: _, ...missing } = samples['order-receipt'];
    expect(() => renderEmail('order-receipt', missing, base)).toThrow(/sellerName/);
    expect(() => renderEmail('no-such-message', {}, base)).toThrow(/no email template named no-such-message/);
  });
});
