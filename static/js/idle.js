// Staff sessions end after 15 minutes idle; warn two minutes before and offer to stay.
(function () {
  "use strict";
  var body = document.body;
  var WARN_BEFORE = 120;
  var modalElement = document.getElementById("idle-warning");
  if (!body.dataset.idleSeconds || !modalElement || !window.bootstrap) return;
  var modal = new window.bootstrap.Modal(modalElement);
  var countdown = document.getElementById("idle-countdown");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var timer = null;

  function schedule(remaining) {
    clearTimeout(timer);
    if (remaining <= 0) {
      window.location.href = body.dataset.loginUrl;
      return;
    }
    if (remaining <= WARN_BEFORE) {
      countdown.textContent = Math.ceil(remaining / 60) + " minute" + (remaining > 60 ? "s" : "");
      modal.show();
      timer = setTimeout(check, Math.min(remaining, 15) * 1000);
    } else {
      timer = setTimeout(check, (remaining - WARN_BEFORE) * 1000);
    }
  }

  function check() {
    fetch(body.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { remaining: 0 }; })
      .then(function (data) { schedule(data.remaining); })
      .catch(function () { timer = setTimeout(check, 30000); });
  }

  document.getElementById("idle-stay").addEventListener("click", function () {
    fetch(body.dataset.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" },
    }).then(function () { modal.hide(); schedule(Number(body.dataset.idleSeconds)); });
  });

  schedule(Number(body.dataset.idleSeconds));
})();
