// Stripe's Payment Element on the PaymentIntent the payments service opened: Stripe.js
// (loaded from js.stripe.com, Stripe's PCI rule) draws the card fields in its own frames,
// and confirmPayment sends the customer back to return_url with the intent's outcome.
(function () {
  "use strict";
  var form = document.getElementById("stripe-payment");
  if (!form || typeof Stripe !== "function") return;
  var stripe = Stripe(form.dataset.stripeKey, { locale: document.documentElement.lang || "auto" });
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  var problems = document.getElementById("stripe-problems");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    stripe
      .confirmPayment({ elements: elements, confirmParams: { return_url: new URL(form.dataset.returnUrl, location.href).href } })
      .then(function (result) {
        // only reached when the payment could not be confirmed (else Stripe redirects)
        if (result.error) problems.textContent = result.error.message || "";
        button.disabled = false;
      });
  });
})();
