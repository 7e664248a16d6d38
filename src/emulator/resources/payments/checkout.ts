/**
 * Checkout Sessions (`mode: 'payment'`, `ui_mode: 'hosted_page'`): API routes, expiry ticker and
 * the hosted Checkout page stand-in.
 *
 * The session's PaymentIntent is created when the buyer first presses Pay (as Stripe does since
 * API version 2022-08-01, `payment_intent` is null until then) with the session's
 * `payment_intent_data`, and reused for further attempts after a decline or a failed 3DS.
 * Card payments are never asynchronous, so `checkout.session.async_payment_succeeded/failed`
 * are not emitted (they only follow delayed payment methods).
 */
import type Stripe from 'stripe';
import type { EmulatorCore, PageRequest, PageResponse } from '../../core/core.ts';
import { p, PAYMENT_METHOD_TYPES_REMOVED, str, int, obj, arr, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import { html, raw, type RawHtml } from '../../core/html.ts';
import { page } from './layout.ts';
import { randomToken } from '../../core/ids.ts';
import type { Payments } from './service.ts';
import { lookupCardNumber, TEST_CARDS } from './cards.ts';
import { formatMoney } from './fees.ts';
import { metadataOf } from './routes.ts';

interface SessionInternal {
  lineItems: Stripe.LineItem[];
  paymentIntentData: {
    application_fee_amount?: number;
    transfer_data?: { destination?: string; amount?: number };
    on_behalf_of?: string;
    metadata?: Record<string, string>;
    description?: string;
    capture_method?: Stripe.PaymentIntent.CaptureMethod;
    transfer_group?: string;
    receipt_email?: string;
    statement_descriptor?: string;
    statement_descriptor_suffix?: string;
  };
  account: string;
}

const MIN_EXPIRY = 30 * 60;
const MAX_EXPIRY = 24 * 3600;

export class CheckoutSessions {
  readonly sessions;

  constructor(
    private readonly core: EmulatorCore,
    private readonly pay: Payments,
  ) {
    this.sessions = core.collection<Stripe.Checkout.Session>('checkout.session', 'checkout.session');
  }

  internal(id: string): SessionInternal {
    return this.sessions.internal(id) as unknown as SessionInternal;
  }

  create(account: string, pr: Params): Stripe.Checkout.Session {
    const core = this.core;
    const now = core.now();
    const mode = str(pr, 'mode');
    if (mode !== 'payment') {
      throw invalidRequest(`The emulator supports Checkout in \`payment\` mode only (got \`${mode}\`).`, { param: 'mode' });
    }
    const uiMode = str(pr, 'ui_mode') ?? 'hosted_page';
    if (uiMode !== 'hosted_page') {
      throw invalidRequest(`The emulator supports \`ui_mode: hosted_page\` only (got \`${uiMode}\`).`, { param: 'ui_mode' });
    }
    const rawItems = arr(pr, 'line_items') ?? [];
    if (rawItems.length === 0) throw invalidRequest('You must provide `line_items` when `mode` is `payment`.', { code: 'parameter_missing', param: 'line_items' });
    const id = `cs_test_${randomToken(58)}`;
    let currency: string | undefined;
    const items: Stripe.LineItem[] = rawItems.map((raw, i) => {
      const li = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
      if (str(li, 'price')) throw invalidRequest(`No such price: '${str(li, 'price')}'`, { code: 'resource_missing', param: `line_items[${i}][price]` });
      const pd = obj(li, 'price_data');
      if (!pd) throw missingParam(`line_items[${i}][price_data]`);
      const cur = str(pd, 'currency')?.toLowerCase();
      if (!cur) throw missingParam(`line_items[${i}][price_data][currency]`);
      if (currency && cur !== currency) throw invalidRequest('All line items must use the same currency.', { param: `line_items[${i}][price_data][currency]` });
      currency = cur;
      const unit = int(pd, 'unit_amount');
      if (unit === undefined) throw missingParam(`line_items[${i}][price_data][unit_amount]`);
      const product = obj(pd, 'product_data');
      const name = product ? str(product, 'name') : undefined;
      if (!name) throw missingParam(`line_items[${i}][price_data][product_data][name]`);
      const quantity = int(li, 'quantity');
      if (quantity === undefined) throw missingParam(`line_items[${i}][quantity]`);
      if (quantity < 1) throw invalidRequest('Quantity must be at least 1.', { param: `line_items[${i}][quantity]` });
      const productId = core.newId('prod');
      const price: Stripe.Price = {
        id: core.newId('price'),
        object: 'price',
        active: false,
        billing_scheme: 'per_unit',
        created: now,
        currency: cur,
        custom_unit_amount: null,
        livemode: false,
        lookup_key: null,
        metadata: {},
        nickname: null,
        product: productId,
        recurring: null,
        tax_behavior: (str(pd, 'tax_behavior') as Stripe.Price.TaxBehavior | undefined) ?? 'unspecified',
        tiers_mode: null,
        transform_quantity: null,
        type: 'one_time',
        unit_amount: unit,
        unit_amount_decimal: null,
      };
      const line: Stripe.LineItem = {
        id: core.newId('li'),
        object: 'item',
        adjustable_quantity: null,
        amount_discount: 0,
        amount_subtotal: unit * quantity,
        amount_tax: 0,
        amount_total: unit * quantity,
        currency: cur,
        description: name,
        metadata: {},
        price,
        quantity,
      };
      return line;
    });
    const total = items.reduce((n, li) => n + li.amount_total, 0);
    const cur = currency ?? 'usd';
    const pid = obj(pr, 'payment_intent_data') ?? {};
    const tdRaw = obj(pid, 'transfer_data');
    const pidInternal: SessionInternal['paymentIntentData'] = {};
    const fee = int(pid, 'application_fee_amount');
    if (fee !== undefined) pidInternal.application_fee_amount = fee;
    if (tdRaw) {
      const td: { destination?: string; amount?: number } = {};
      const d = str(tdRaw, 'destination');
      const a = int(tdRaw, 'amount');
      if (d) td.destination = d;
      if (a !== undefined) td.amount = a;
      pidInternal.transfer_data = td;
    }
    const obo = str(pid, 'on_behalf_of');
    if (obo) pidInternal.on_behalf_of = obo;
    const pmd = metadataOf(pid);
    if (pmd) pidInternal.metadata = pmd;
    for (const k of ['description', 'transfer_group', 'receipt_email', 'statement_descriptor', 'statement_descriptor_suffix'] as const) {
      const v = str(pid, k);
      if (v) pidInternal[k] = v;
    }
    const cm = str(pid, 'capture_method');
    if (cm) pidInternal.capture_method = cm as Stripe.PaymentIntent.CaptureMethod;
    this.pay.validateConnectParams({
      account,
      amount: total,
      application_fee_amount: pidInternal.application_fee_amount,
      transfer_data: pidInternal.transfer_data,
      on_behalf_of: pidInternal.on_behalf_of,
      prefix: 'payment_intent_data',
    });

    const expiresAt = int(pr, 'expires_at') ?? now + MAX_EXPIRY;
    if (expiresAt < now + MIN_EXPIRY) {
      throw invalidRequest('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', { param: 'expires_at' });
    }
    if (expiresAt > now + MAX_EXPIRY) {
      throw invalidRequest('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', { param: 'expires_at' });
    }
    const successUrl = str(pr, 'success_url') ?? null;
    const cancelUrl = str(pr, 'cancel_url') ?? null;
    for (const [k, v] of [['success_url', successUrl], ['cancel_url', cancelUrl]] as const) {
      if (v !== null && !/^https?:\/\//i.test(v)) throw invalidRequest(`Not a valid URL`, { code: 'url_invalid', param: k });
    }
    const customerEmail = str(pr, 'customer_email') ?? null;
    const session: Stripe.Checkout.Session = {
      id,
      object: 'checkout.session',
      adaptive_pricing: { enabled: false },
      after_expiration: null,
      allow_promotion_codes: null,
      allowed_payment_method_types: null,
      amount_subtotal: total,
      amount_total: total,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: null,
      cancel_url: cancelUrl,
      client_reference_id: str(pr, 'client_reference_id') ?? null,
      client_secret: null,
      collected_information: null,
      consent: null,
      consent_collection: null,
      created: now,
      currency: cur,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: str(pr, 'customer') ?? null,
      customer_account: null,
      customer_creation: 'if_required',
      customer_details: customerEmail ? { address: null, business_name: null, email: customerEmail, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: null } : null,
      customer_email: customerEmail,
      discounts: [],
      expires_at: expiresAt,
      integration_identifier: null,
      invoice: null,
      invoice_creation: { enabled: false, invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null } },
      livemode: false,
      locale: null,
      managed_payments: null,
      metadata: metadataOf(pr) ?? {},
      mode: 'payment',
      origin_context: null,
      payment_intent: null,
      payment_link: null,
      payment_method_collection: 'if_required',
      payment_method_configuration_details: null,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      permissions: null,
      phone_number_collection: { enabled: false },
      presentment_details: undefined,
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      submit_type: null,
      subscription: null,
      success_url: successUrl,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted_page',
      url: core.pageUrl(`/hosted/checkout/${id}`),
      wallet_options: null,
    };
    delete session.presentment_details;
    const internal: SessionInternal = { lineItems: items, paymentIntentData: pidInternal, account };
    this.sessions.insert(account, session, { internal: internal as unknown as Record<string, unknown> });
    return session;
  }

  withLineItems(session: Stripe.Checkout.Session): Stripe.Checkout.Session {
    const items = this.internal(session.id).lineItems;
    return { ...session, line_items: { object: 'list', data: items, has_more: false, url: `/v1/checkout/sessions/${session.id}/line_items` } };
  }

  expire(id: string, account: string, viaTicker: boolean): Stripe.Checkout.Session {
    let s = this.sessions.require(id, account);
    if (s.status !== 'open') {
      throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired (this one is ${s.status}).`, { param: 'session' });
    }
    if (s.payment_intent) {
      const pi = this.pay.pis.get(String(s.payment_intent), account);
      if (pi && !['succeeded', 'canceled', 'processing', 'requires_capture'].includes(pi.status)) this.pay.cancelIntent(account, pi.id, 'abandoned');
    }
    s.status = 'expired';
    s.url = null;
    s = this.sessions.save(s);
    this.core.emitEvent({ type: 'checkout.session.expired', object: s, account, ...(viaTicker ? { request: { id: null, idempotency_key: null } } : {}) });
    return s;
  }

  /** Ticker: open sessions past `expires_at` expire. */
  expireDue(now: number): void {
    for (const s of this.sessions.list(undefined, (x) => x.status === 'open' && x.expires_at <= now)) {
      this.expire(s.id, this.sessions.ownerOf(s.id) ?? this.core.platformAccount, true);
    }
  }

  /** Create (first attempt) or reuse the session's PaymentIntent. */
  private intentFor(session: Stripe.Checkout.Session, email: string | null): Stripe.PaymentIntent {
    const internal = this.internal(session.id);
    if (session.payment_intent) {
      const pi = this.pay.requireIntent(String(session.payment_intent), internal.account);
      if (email && pi.receipt_email !== email) {
        pi.receipt_email = email;
        return this.pay.pis.save(pi);
      }
      return pi;
    }
    const d = internal.paymentIntentData;
    const pi = this.pay.createIntent({
      account: internal.account,
      amount: session.amount_total ?? 0,
      currency: session.currency ?? 'usd',
      application_fee_amount: d.application_fee_amount,
      transfer_data: d.transfer_data,
      on_behalf_of: d.on_behalf_of,
      metadata: d.metadata,
      description: d.description,
      receipt_email: d.receipt_email ?? email ?? undefined,
      customer: typeof session.customer === 'string' ? session.customer : undefined,
      capture_method: d.capture_method ?? 'automatic_async',
      transfer_group: d.transfer_group,
      statement_descriptor: d.statement_descriptor,
      statement_descriptor_suffix: d.statement_descriptor_suffix,
      paramPrefix: 'payment_intent_data',
    });
    this.pay.pis.setInternal(pi.id, { checkoutSession: session.id });
    session.payment_intent = pi.id;
    this.sessions.save(session);
    return pi;
  }

  /** Mark the session paid/complete once its PaymentIntent succeeded (or is authorised). */
  complete(sessionId: string): Stripe.Checkout.Session {
    let s = this.sessions.require(sessionId);
    if (s.status !== 'open') return s;
    const account = this.internal(sessionId).account;
    const pi = this.pay.requireIntent(String(s.payment_intent), account);
    const pm = pi.payment_method ? this.pay.pms.get(String(pi.payment_method), account) : undefined;
    const email = s.customer_details?.email ?? pi.receipt_email ?? s.customer_email ?? null;
    s.status = 'complete';
    s.payment_status = pi.status === 'succeeded' || pi.status === 'requires_capture' ? 'paid' : 'unpaid';
    s.customer_details = { address: null, business_name: null, email, individual_name: null, name: pm?.billing_details.name ?? null, phone: null, tax_exempt: 'none', tax_ids: [] };
    s.url = null;
    s = this.sessions.save(s);
    this.core.emitEvent({ type: 'checkout.session.completed', object: s, account });
    return s;
  }

  successRedirect(s: Stripe.Checkout.Session): string {
    if (s.success_url) return s.success_url.replace(/\{CHECKOUT_SESSION_ID\}/g, s.id);
    return this.core.pageUrl(`/hosted/checkout/${s.id}/complete`);
  }

  /** Pay with a typed card number. Returns where the browser goes next, or an error to show. */
  pay_(sessionId: string, cardNumber: string, email: string | null): { redirect: string } | { error: string } {
    let session = this.sessions.require(sessionId);
    if (session.status !== 'open') return { error: `This Checkout Session is ${session.status}.` };
    const found = lookupCardNumber(cardNumber);
    if (!found.ok) return { error: found.message };
    const account = this.internal(sessionId).account;
    if (email) {
      session.customer_details = { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: null };
      session = this.sessions.save(session);
    }
    const pi = this.intentFor(session, email);
    const pm = this.pay.createCardPaymentMethod(account, found.card, { email });
    const result = this.pay.confirmIntent(account, pi.id, { pm, return_url: this.core.pageUrl(`/hosted/checkout/${sessionId}/return`) });
    if (result.kind === 'declined') return { error: result.error.message };
    if (result.kind === 'requires_action') return { redirect: result.pi.next_action?.redirect_to_url?.url ?? '' };
    const done = this.complete(sessionId);
    return { redirect: this.successRedirect(done) };
  }
}

// ---------------------------------------------------------------------------------------------
// Routes and pages
// ---------------------------------------------------------------------------------------------

export function registerCheckout(core: EmulatorCore, pay: Payments): CheckoutSessions {
  const cs = new CheckoutSessions(core, pay);

  const pidSpec = p.object({
    application_fee_amount: p.integer,
    transfer_data: p.object({ destination: p.string, amount: p.integer }, ['destination']),
    on_behalf_of: p.string,
    metadata: p.hash,
    description: p.string,
    capture_method: p.enum('automatic', 'automatic_async', 'manual'),
    transfer_group: p.string,
    receipt_email: p.string,
    statement_descriptor: p.string,
    statement_descriptor_suffix: p.string,
    setup_future_usage: p.enum('on_session', 'off_session'),
    shipping: p.any,
  });
  core.route(
    'POST',
    '/v1/checkout/sessions',
    {
      params: {
        mode: p.enum('payment', 'setup', 'subscription'),
        ui_mode: p.enum('hosted_page', 'embedded_page', 'elements', 'form'),
        line_items: p.array({
          price: p.string,
          quantity: p.integer,
          price_data: p.object({
            currency: p.string,
            unit_amount: p.integer,
            unit_amount_decimal: p.string,
            tax_behavior: p.enum('exclusive', 'inclusive', 'unspecified'),
            product: p.string,
            product_data: p.object({ name: p.string, description: p.string, images: p.array(p.string), metadata: p.hash, tax_code: p.string }),
          }),
          adjustable_quantity: p.any,
          tax_rates: p.array(p.string),
        }),
        payment_intent_data: pidSpec,
        metadata: p.hash,
        client_reference_id: p.string,
        customer_email: p.string,
        customer: p.string,
        customer_creation: p.enum('always', 'if_required'),
        success_url: p.string,
        cancel_url: p.string,
        expires_at: p.integer,
        payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
        excluded_payment_method_types: p.array(p.string),
        currency: p.string,
        locale: p.string,
        submit_type: p.enum('auto', 'book', 'donate', 'pay', 'subscribe'),
        billing_address_collection: p.enum('auto', 'required'),
        allow_promotion_codes: p.boolean,
        automatic_tax: p.any,
        phone_number_collection: p.any,
        custom_text: p.any,
      },
      required: ['mode'],
    },
    (req) => cs.create(req.account, req.params),
  );
  const expandsLineItems = (params: Params): boolean => (arr(params, 'expand') ?? []).some((e) => e === 'line_items');
  core.route('GET', '/v1/checkout/sessions/:id', {}, (req) => {
    const s = cs.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    return expandsLineItems(req.params) ? cs.withLineItems(s) : s;
  });
  core.route('POST', '/v1/checkout/sessions/:id', { params: { metadata: p.hash } }, (req) => {
    const s = cs.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    s.metadata = mergeMetadata(s.metadata ?? {}, req.params);
    return cs.sessions.save(s);
  });
  core.route('GET', '/v1/checkout/sessions', { list: true, params: { payment_intent: p.string, status: p.enum('open', 'complete', 'expired'), customer: p.string, customer_details: p.any, payment_link: p.string, subscription: p.string } }, (req) => {
    const pi = str(req.params, 'payment_intent');
    const status = str(req.params, 'status');
    return core.paginate(req, cs.sessions.list(req.account, (s) => (pi ? s.payment_intent === pi : true) && (status ? s.status === status : true)));
  });
  core.route('GET', '/v1/checkout/sessions/:id/line_items', { list: true }, (req) => {
    const s = cs.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    const items = cs.internal(s.id).lineItems.map((li) => ({ ...li, created: s.created }));
    const listPage = core.paginate(req, items, `/v1/checkout/sessions/${s.id}/line_items`);
    return { ...listPage, data: listPage.data.map(({ created: _c, ...li }) => li) };
  });
  core.route('POST', '/v1/checkout/sessions/:id/expire', {}, (req) => {
    const s = cs.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    return cs.expire(s.id, req.account, false);
  });

  core.onTick('checkout-session-expiry', (now) => cs.expireDue(now));

  // --- hosted Checkout page ----------------------------------------------------------------
  const render = (s: Stripe.Checkout.Session, error?: string, email?: string): PageResponse => {
    const items = cs.internal(s.id).lineItems;
    const cur = s.currency ?? 'usd';
    if (s.status !== 'open') {
      return {
        status: s.status === 'expired' ? 410 : 200,
        html: page(
          'Checkout',
          html`<h1 data-testid="checkout-closed">This Checkout Session is ${s.status}.</h1>
            <p class="muted">Session <code>${s.id}</code></p>`,
        ),
      };
    }
    const rows: RawHtml[] = items.map(
      (li) => html`<tr><td>${li.description}</td><td>× ${li.quantity}</td><td style="text-align:right">${formatMoney(li.amount_total, cur)}</td></tr>`,
    );
    const cards: RawHtml[] = Object.values(TEST_CARDS).map((c) => html`<li><code>${c.number}</code> — ${c.label}</li>`);
    const body = html`<h1>Pay ${formatMoney(s.amount_total ?? 0, cur)}</h1>
      <table data-testid="line-items">${rows}<tr><th>Total</th><th></th><th style="text-align:right" data-testid="total">${formatMoney(s.amount_total ?? 0, cur)}</th></tr></table>
      ${error ? html`<p role="alert" data-testid="error" style="color:#df1b41">${error}</p>` : raw('')}
      <form method="post" action="/hosted/checkout/${s.id}">
        <label>Email <input type="email" name="email" value="${email ?? s.customer_details?.email ?? s.customer_email ?? ''}" required></label>
        <label>Card number <input name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required></label>
        <button class="primary" type="submit" data-testid="pay">Pay ${formatMoney(s.amount_total ?? 0, cur)}</button>
      </form>
      <form method="post" action="/hosted/checkout/${s.id}/cancel"><button type="submit" data-testid="cancel">Cancel and go back</button></form>
      <details><summary class="muted">Test cards</summary><ul class="muted">${cards}</ul></details>`;
    return { status: error ? 402 : 200, html: page('Checkout', body) };
  };
  const sessionFor = (req: PageRequest): Stripe.Checkout.Session | undefined => cs.sessions.get(req.pathParams.id ?? '');
  const notFound = (): PageResponse => ({ status: 404, html: page('Checkout', html`<h1>Unknown Checkout Session</h1>`) });

  core.page('GET', '/hosted/checkout/:id', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    const error = typeof req.query.error === 'string' ? req.query.error : undefined;
    return render(s, error);
  });
  core.page('POST', '/hosted/checkout/:id', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    const number = typeof req.form.card_number === 'string' ? req.form.card_number : '';
    const email = typeof req.form.email === 'string' && req.form.email ? req.form.email : null;
    if (!number) return render(s, 'Your card number is incomplete.', email ?? undefined);
    const out = cs.pay_(s.id, number, email);
    if ('error' in out) return render(cs.sessions.require(s.id), out.error, email ?? undefined);
    return { redirect: out.redirect };
  });
  const cancel = (req: PageRequest): PageResponse => {
    const s = sessionFor(req);
    if (!s) return notFound();
    if (s.cancel_url) return { redirect: s.cancel_url.replace(/\{CHECKOUT_SESSION_ID\}/g, s.id) };
    return { html: page('Checkout', html`<h1>Payment canceled</h1><p class="muted">No cancel_url was set for <code>${s.id}</code>.</p>`) };
  };
  core.page('POST', '/hosted/checkout/:id/cancel', cancel);
  core.page('GET', '/hosted/checkout/:id/cancel', cancel);
  /** Where the 3DS page sends the buyer back to. */
  core.page('GET', '/hosted/checkout/:id/return', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    if (s.status === 'complete') return { redirect: cs.successRedirect(s) };
    const account = cs.internal(s.id).account;
    const pi = s.payment_intent ? pay.pis.get(String(s.payment_intent), account) : undefined;
    if (pi && (pi.status === 'succeeded' || pi.status === 'requires_capture')) return { redirect: cs.successRedirect(cs.complete(s.id)) };
    const message = pi?.last_payment_error?.message ?? 'We are unable to authenticate your payment method. Please choose a different payment method and try again.';
    return { redirect: `/hosted/checkout/${s.id}?error=${encodeURIComponent(message)}` };
  });
  core.page('GET', '/hosted/checkout/:id/complete', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    return { html: page('Checkout', html`<h1 data-testid="checkout-complete">Thanks for your payment</h1><p class="muted">Session <code>${s.id}</code> is ${s.status}.</p>`) };
  });
  return cs;
}
