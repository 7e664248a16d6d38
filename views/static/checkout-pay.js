// Mounts Stripe's Payment Element and confirms the PaymentIntent in the browser. The card details go
// from the Element straight to Stripe; this page only ever sees the result.
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
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } }).then(function (result) {
      if (!result.error) return; // Stripe is redirecting (to 3DS or to the return URL)
      if (result.error.type === 'card_error' || result.error.type === 'invalid_request_error') {
        // A decline: our completion page asks Stripe and shows the outcome with a way to try again.
        window.location.assign(form.dataset.orderUrl);
        return;
      }
      errorBox.textContent = result.error.message || 'The payment could not be completed.';
      errorBox.hidden = false;
      button.disabled = false;
    });
  });
})();
