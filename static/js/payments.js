// Stripe Payment Element for the payment pages. Keys and the client secret come from data-
// attributes (the CSP forbids inline script). Card details go from the Element to Stripe only.
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("payment-form");
    if (!form || typeof window.Stripe !== "function") { return; }
    var stripe = window.Stripe(form.dataset.publishableKey);
    var clientSecret = form.dataset.clientSecret;
    var setupMode = form.dataset.mode === "setup";
    var elements = stripe.elements({ clientSecret: clientSecret });
    elements.create("payment").mount("#payment-element");
    var errorBox = document.getElementById("payment-error");
    var button = document.getElementById("payment-submit");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;  // a double click never confirms twice
      errorBox.hidden = true;
      var params = { elements: elements, confirmParams: { return_url: form.dataset.returnUrl } };
      var confirm = setupMode ? stripe.confirmSetup(params) : stripe.confirmPayment(params);
      confirm.then(function (result) {
        // Only reached on an immediate error; success redirects to return_url.
        if (result.error) {
          errorBox.textContent = result.error.message || "The payment did not go through.";
          errorBox.hidden = false;
          button.disabled = false;
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
