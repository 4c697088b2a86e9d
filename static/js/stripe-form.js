// The card form of the card-on-file and pay-by-link pages: Stripe.js mounts Stripe's own card
// field, confirms the SetupIntent or PaymentIntent with Stripe directly, and only the intent's
// id is posted back to the clinic (docs/payments.md#card-on-file).
(function () {
  "use strict";
  const form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") return;
  const stripe = Stripe(form.dataset.stripeKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const errors = document.getElementById("card-errors");
  let busy = false;
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    errors.textContent = "";
    const secret = form.dataset.clientSecret;
    const result = form.dataset.kind === "setup"
      ? await stripe.confirmCardSetup(secret, { payment_method: { card: card } })
      : await stripe.confirmCardPayment(secret, { payment_method: { card: card } });
    if (result.error) {
      errors.textContent = result.error.message;
      busy = false;
      return;
    }
    if (form.dataset.kind === "setup") {
      form.elements.setup_intent.value = result.setupIntent.id;
    } else {
      form.elements.payment_intent.value = result.paymentIntent.id;
    }
    form.submit();
  });
})();
