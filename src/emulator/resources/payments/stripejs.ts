/**
 * A minimal Stripe.js stand-in, served by the emulator at `/js/v3.js` (alias `/js/v3`).
 * Load it instead of https://js.stripe.com/v3 in offline mode:
 *
 *   <script src="http://127.0.0.1:12111/js/v3.js"></script>
 *   const stripe = Stripe('pk_test_…');
 *   const elements = stripe.elements({ clientSecret });
 *   const payment = elements.create('payment');
 *   payment.mount('#payment-element');          // renders a card-number input
 *   const { error } = await stripe.confirmPayment({ elements, confirmParams: { return_url } });
 *
 * Supported: `Stripe(pk)`, `stripe.elements({clientSecret})`, `elements.create('payment'|'card')`,
 * `element.mount(selectorOrNode)`, `element.unmount()`, `element.destroy()`, `element.on(event, cb)`
 * (`ready`, `change`), `elements.submit()`, `elements.getElement(type)`,
 * `stripe.confirmPayment({elements, clientSecret?, confirmParams:{return_url, receipt_email}, redirect?})`
 * (`redirect: 'if_required'` resolves `{paymentIntent}` instead of redirecting when no 3DS is needed),
 * `stripe.confirmSetup({elements, clientSecret?, confirmParams:{return_url}, redirect?})` (same
 * rules for a SetupIntent: `seti_…_secret_…`, resolves `{setupIntent}`),
 * `stripe.confirmCardPayment(clientSecret, {payment_method: {card: element}, return_url?})` and
 * `stripe.confirmCardSetup(clientSecret, {payment_method: {card: element}, return_url?})`
 * (resolve `{paymentIntent}` / `{setupIntent}` or `{error}`; when the card needs 3DS the page goes
 * to the challenge page, which returns to `return_url` or to the current page, where real
 * Stripe.js would show a modal instead), `stripe.retrievePaymentIntent(clientSecret)`,
 * `stripe.retrieveSetupIntent(clientSecret)`.
 *
 * An invoice's PaymentIntent is confirmed like any other, with the client secret of
 * `invoice.confirmation_secret` (subscriptions with `payment_behavior: 'default_incomplete'`);
 * paying it pays the invoice and activates the subscription.
 *
 * The card number goes only to the emulator (`POST /hosted/js/payment_intents/:id/confirm`, a
 * form-encoded "simple" CORS request authenticated with the publishable key and the client
 * secret, like Stripe.js), never to the page's own server. 3DS cards redirect to the emulator's
 * challenge page, which then returns to `return_url`; declines resolve `{error}` without redirect.
 */
export const STRIPE_JS = String.raw`/* Stripe.js stand-in served by the Stripe emulator. Not the real Stripe.js. */
(function () {
  'use strict';
  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src).origin : window.location.origin;

  function piIdFromSecret(secret) {
    var i = String(secret || '').indexOf('_secret_');
    return i > 0 ? secret.slice(0, i) : null;
  }
  function post(path, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { if (fields[k] != null) body.append(k, String(fields[k])); });
    return fetch(ORIGIN + path, { method: 'POST', body: body }).then(function (r) { return r.json(); });
  }
  function setupReturnUrlWith(returnUrl, si) {
    var u = new URL(returnUrl, window.location.href);
    u.searchParams.set('setup_intent', si.id);
    u.searchParams.set('setup_intent_client_secret', si.client_secret);
    u.searchParams.set('redirect_status', si.status === 'succeeded' ? 'succeeded' : si.status === 'processing' ? 'processing' : 'failed');
    return u.toString();
  }
  function isSetupSecret(secret) { return String(secret || '').indexOf('seti_') === 0; }
  function returnUrlWith(returnUrl, pi) {
    var u = new URL(returnUrl, window.location.href);
    u.searchParams.set('payment_intent', pi.id);
    u.searchParams.set('payment_intent_client_secret', pi.client_secret);
    u.searchParams.set('redirect_status', pi.status === 'succeeded' || pi.status === 'requires_capture' ? 'succeeded' : pi.status === 'processing' ? 'processing' : 'failed');
    return u.toString();
  }

  function createElement(type, group) {
    var listeners = {};
    var input = null;
    var container = null;
    function emit(name, payload) { (listeners[name] || []).forEach(function (cb) { try { cb(payload); } catch (e) { console.error(e); } }); }
    var el = {
      _type: type,
      _value: function () { return input ? input.value.replace(/[\s-]/g, '') : ''; },
      mount: function (target) {
        container = typeof target === 'string' ? document.querySelector(target) : target;
        if (!container) throw new Error('Stripe emulator: mount target not found: ' + target);
        container.innerHTML = '';
        var wrap = document.createElement('div');
        wrap.setAttribute('data-stripe-emulator', 'payment-element');
        wrap.style.cssText = 'border:1px solid #cfd7df;border-radius:6px;padding:10px;font-family:system-ui,sans-serif';
        var label = document.createElement('label');
        label.textContent = 'Card number (Stripe emulator)';
        label.style.cssText = 'display:block;font-size:13px;color:#697386;margin-bottom:4px';
        input = document.createElement('input');
        input.name = 'stripe-emulator-card-number';
        input.setAttribute('data-testid', 'stripe-emulator-card-number');
        input.setAttribute('inputmode', 'numeric');
        input.setAttribute('autocomplete', 'cc-number');
        input.placeholder = '4242 4242 4242 4242';
        input.style.cssText = 'width:100%;box-sizing:border-box;padding:8px;font-size:15px;border:1px solid #e3e8ee;border-radius:4px';
        input.addEventListener('input', function () {
          var v = el._value();
          emit('change', { elementType: type, empty: v.length === 0, complete: v.length >= 12, value: { type: 'card' } });
        });
        label.appendChild(input);
        wrap.appendChild(label);
        container.appendChild(wrap);
        setTimeout(function () { emit('ready', { elementType: type }); }, 0);
        return el;
      },
      unmount: function () { if (container) container.innerHTML = ''; input = null; },
      destroy: function () { el.unmount(); delete group._elements[type]; },
      on: function (name, cb) { (listeners[name] = listeners[name] || []).push(cb); return el; },
      off: function (name, cb) { listeners[name] = (listeners[name] || []).filter(function (x) { return x !== cb; }); return el; },
      update: function () { return el; },
      focus: function () { if (input) input.focus(); },
      clear: function () { if (input) input.value = ''; }
    };
    return el;
  }

  function Stripe(publishableKey) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey);
    if (!publishableKey || String(publishableKey).indexOf('pk_') !== 0) {
      throw new Error('Stripe emulator: Stripe() needs a publishable key (pk_test_…).');
    }
    var key = publishableKey;
    this._key = key;

    this.elements = function (options) {
      options = options || {};
      var group = {
        _clientSecret: options.clientSecret || null,
        _elements: {},
        create: function (type) {
          if (type !== 'payment' && type !== 'card') throw new Error('Stripe emulator: only the "payment" (and "card") element is supported');
          var el = createElement(type, group);
          group._elements[type] = el;
          return el;
        },
        getElement: function (type) { return group._elements[type] || null; },
        submit: function () {
          var el = group._elements.payment || group._elements.card;
          if (!el || el._value().length === 0) return Promise.resolve({ error: { type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.' } });
          return Promise.resolve({});
        },
        update: function () { return group; },
        fetchUpdates: function () { return Promise.resolve({}); }
      };
      return group;
    };

    this.retrievePaymentIntent = function (clientSecret) {
      var id = piIdFromSecret(clientSecret);
      var q = new URLSearchParams({ key: key, client_secret: clientSecret });
      return fetch(ORIGIN + '/hosted/js/payment_intents/' + id + '?' + q.toString())
        .then(function (r) { return r.json(); })
        .then(function (b) { return b.error ? { error: b.error } : { paymentIntent: b }; });
    };

    this.retrieveSetupIntent = function (clientSecret) {
      var id = piIdFromSecret(clientSecret);
      var q = new URLSearchParams({ key: key, client_secret: clientSecret });
      return fetch(ORIGIN + '/hosted/js/setup_intents/' + id + '?' + q.toString())
        .then(function (r) { return r.json(); })
        .then(function (b) { return b.error ? { error: b.error } : { setupIntent: b }; });
    };

    // One confirmation: POST the typed card to the emulator; 3DS → the challenge page.
    function confirmWithCard(kind, clientSecret, el, returnUrl, extra) {
      if (!clientSecret) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'Stripe emulator: a client secret is required.' } });
      if (!el) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'Stripe emulator: create and mount the payment (or card) element first.' } });
      var id = piIdFromSecret(clientSecret);
      var fields = { key: key, client_secret: clientSecret, card_number: el._value(), return_url: returnUrl || null };
      Object.keys(extra || {}).forEach(function (k) { fields[k] = extra[k]; });
      return post('/hosted/js/' + kind + '/' + id + '/confirm', fields).then(function (b) {
        if (b.error) return { error: b.error };
        if (b.status === 'requires_action' && b.next_action && b.next_action.redirect_to_url) {
          window.location.assign(b.next_action.redirect_to_url.url);
          return new Promise(function () {});
        }
        return { intent: b };
      });
    }
    function cardElementOf(data) {
      var pm = data && data.payment_method;
      return pm && pm.card && typeof pm.card._value === 'function' ? pm.card : null;
    }

    this.confirmSetup = function (opts) {
      opts = opts || {};
      var elements = opts.elements;
      var clientSecret = opts.clientSecret || (elements && elements._clientSecret);
      var params = opts.confirmParams || {};
      var el = elements && (elements._elements.payment || elements._elements.card);
      if (!params.return_url && opts.redirect !== 'if_required') {
        return Promise.resolve({ error: { type: 'invalid_request_error', message: 'stripe.confirmSetup(): the confirmParams.return_url argument is required unless passing redirect: \'if_required\'' } });
      }
      if (clientSecret && !isSetupSecret(clientSecret)) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'stripe.confirmSetup(): the client secret is not a SetupIntent\'s (seti_…); use confirmPayment.' } });
      return confirmWithCard('setup_intents', clientSecret, el, params.return_url).then(function (r) {
        if (r.error) return r;
        if (opts.redirect === 'if_required') return { setupIntent: r.intent };
        window.location.assign(setupReturnUrlWith(params.return_url, r.intent));
        return new Promise(function () {});
      });
    };

    this.confirmCardSetup = function (clientSecret, data) {
      data = data || {};
      return confirmWithCard('setup_intents', clientSecret, cardElementOf(data), data.return_url || window.location.href).then(function (r) {
        return r.error ? r : { setupIntent: r.intent };
      });
    };

    this.confirmCardPayment = function (clientSecret, data) {
      data = data || {};
      return confirmWithCard('payment_intents', clientSecret, cardElementOf(data), data.return_url || window.location.href, { receipt_email: data.receipt_email || null }).then(function (r) {
        return r.error ? r : { paymentIntent: r.intent };
      });
    };

    this.confirmPayment = function (opts) {
      opts = opts || {};
      var elements = opts.elements;
      var clientSecret = opts.clientSecret || (elements && elements._clientSecret);
      var params = opts.confirmParams || {};
      var el = elements && (elements._elements.payment || elements._elements.card);
      if (!clientSecret) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'Stripe emulator: pass elements created with {clientSecret} (or clientSecret).' } });
      if (!el) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'Stripe emulator: create and mount the payment element first.' } });
      if (!params.return_url && opts.redirect !== 'if_required') {
        return Promise.resolve({ error: { type: 'invalid_request_error', message: 'stripe.confirmPayment(): the confirmParams.return_url argument is required unless passing redirect: \'if_required\'' } });
      }
      var id = piIdFromSecret(clientSecret);
      return post('/hosted/js/payment_intents/' + id + '/confirm', {
        key: key,
        client_secret: clientSecret,
        card_number: el._value(),
        return_url: params.return_url || null,
        receipt_email: params.receipt_email || null
      }).then(function (b) {
        if (b.error) return { error: b.error };
        var pi = b;
        if (pi.status === 'requires_action' && pi.next_action && pi.next_action.redirect_to_url) {
          window.location.assign(pi.next_action.redirect_to_url.url);
          return new Promise(function () {});
        }
        if (opts.redirect === 'if_required') return { paymentIntent: pi };
        window.location.assign(returnUrlWith(params.return_url, pi));
        return new Promise(function () {});
      });
    };
  }

  window.Stripe = Stripe;
})();
`;
