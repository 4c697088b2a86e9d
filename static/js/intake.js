// Progressive enhancements for the intake. Every step works without JavaScript.
(function () {
  "use strict";

  // PHQ-9 item 9: show the crisis resources, right under the item, as soon as an answer above 0
  // is chosen. The panel is a role="alert" region, so screen readers announce it; it takes focus
  // once, when it first appears, and its "Back to the questions" button returns focus to the
  // answer (so arrowing through the answers is not interrupted a second time).
  function watchSelfHarmItem() {
    var panel = document.getElementById("crisis-resources");
    var inputs = document.querySelectorAll('input[name="phq9_9"]');
    if (!panel || !inputs.length) return;
    var back = panel.querySelector(".crisis-return");
    inputs.forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.checked && input.value !== "0" && panel.hidden) {
          panel.hidden = false;
          if (back) {
            back.hidden = false;
            back.addEventListener("click", function () { input.focus(); }, { once: true });
          }
          panel.focus();
        }
      });
    });
  }

  // Details and follow-up questions appear after a "Yes" only. Without JavaScript they are all
  // shown (the server ignores the details of a "No").
  function revealAfterYes() {
    document.querySelectorAll("[data-reveal-for]").forEach(function (detail) {
      var name = detail.getAttribute("data-reveal-for");
      var radios = document.querySelectorAll('input[name="' + name + '"]');
      if (!radios.length) return;
      function update() {
        var yes = document.querySelector('input[name="' + name + '"][value="yes"]');
        var invalid = detail.querySelector(".is-invalid");
        detail.hidden = !(yes && yes.checked) && !invalid;
      }
      radios.forEach(function (radio) { radio.addEventListener("change", update); });
      update();
    });
  }

  // Repeatable rows: clone the formset's empty row instead of a round trip to the server.
  function enableFormsets() {
    document.querySelectorAll("fieldset.formset").forEach(function (fieldset) {
      var prefix = fieldset.dataset.formset;
      var total = fieldset.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
      var template = fieldset.querySelector("template.formset-empty");
      var rows = fieldset.querySelector(".formset-rows");
      var button = fieldset.querySelector("button.add-row");
      if (!total || !template || !rows || !button) return;
      // The page gives the words for one row, translated (data-one-row).
      button.textContent = button.dataset.oneRow || button.textContent;
      button.type = "button";
      button.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        rows.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        var first = rows.lastElementChild.querySelector("input");
        if (first) first.focus();
      });
    });
  }

  // Show only the height fields of the chosen unit, and the insurance fields when insured.
  function toggleGroups(name, attribute) {
    var radios = document.querySelectorAll('input[name="' + name + '"]');
    if (!radios.length) return;
    function update() {
      var chosen = document.querySelector('input[name="' + name + '"]:checked');
      document.querySelectorAll("[" + attribute + "]").forEach(function (group) {
        group.hidden = chosen ? group.getAttribute(attribute) !== chosen.value : false;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  // After a failed save, move focus to the summary so screen readers announce it.
  function focusProblems() {
    var problems = document.getElementById("form-problems");
    if (problems) problems.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    watchSelfHarmItem();
    revealAfterYes();
    enableFormsets();
    toggleGroups("height_unit", "data-unit-group");
    toggleGroups("payment", "data-show-when");
    focusProblems();
  });
})();
