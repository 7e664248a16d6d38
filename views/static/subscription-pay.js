// Mounts Stripe's Payment Element and confirms the subscription's first payment (the first
// invoice's PaymentIntent, from its confirmation secret) or, for a trial, the card's SetupIntent.
// The card goes from the Element straight to Stripe; our completion page asks Stripe what happened.
(function () {
  'use strict';
  var form = document.getElementById('payment-form');
  if (!form || typeof window.Stripe !== 'function') return;
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create('payment').mount('#payment-element');
  var errorBox = document.getElementById('payment-error');
  var button = document.getElementById('pay-button');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    button.disabled = true;
    errorBox.hidden = true;
    var confirm = form.dataset.kind === 'setup' ? stripe.confirmSetup : stripe.confirmPayment;
    confirm.call(stripe, { elements: elements, confirmParams: { return_url: form.dataset.returnUrl } }).then(function (result) {
      if (!result.error) return; // Stripe is redirecting (to 3DS or to the return URL)
      if (result.error.type === 'card_error' || result.error.type === 'invalid_request_error') {
        errorBox.textContent = result.error.message || 'The card was declined.';
        errorBox.hidden = false;
        button.disabled = false;
        return;
      }
      window.location.assign(form.dataset.doneUrl);
    });
  });
})();
