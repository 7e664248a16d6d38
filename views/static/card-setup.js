// Mounts Stripe's Payment Element and confirms the SetupIntent in the browser (stripe.confirmSetup).
// The card details go from the Element straight to Stripe; this site only reads the outcome back
// from Stripe on the return page.
(function () {
  'use strict';
  var form = document.getElementById('setup-form');
  if (!form || typeof window.Stripe !== 'function') return;
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create('payment').mount('#payment-element');
  var errorBox = document.getElementById('setup-error');
  var button = document.getElementById('save-button');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    button.disabled = true;
    errorBox.hidden = true;
    stripe.confirmSetup({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } }).then(function (result) {
      if (!result.error) return; // Stripe is redirecting (to the bank's challenge or to the return URL)
      errorBox.textContent = result.error.message || 'The card could not be saved.';
      errorBox.hidden = false;
      button.disabled = false;
    });
  });
})();
