// Charts for outcomes and the dashboard, drawn with the vendored Chart.js from JSON blocks.
(function () {
  "use strict";
  if (!window.Chart) return;
  var BRAND = "#1f4e79", WARM = "#b35c00", GREY = "#6c757d", GREEN = "#146c43";
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    window.Chart.defaults.animation = false;
  }

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function line(value, label, colour, count) {
    return { label: label, data: Array(count).fill(value), borderColor: colour,
             borderDash: [6, 4], pointRadius: 0, fill: false };
  }

  var outcome = data("outcome-data");
  if (outcome) {
    // The legend's words come translated from the page (data-* attributes of the canvas).
    var words = document.getElementById("pain-chart").dataset;
    var labels = outcome.sessions.map(function (s) { return "#" + s.number + " " + s.date; });
    var sets = [
      { label: words.before || "Pain before", data: outcome.sessions.map(function (s) { return s.before; }), borderColor: WARM },
      { label: words.after || "Pain after", data: outcome.sessions.map(function (s) { return s.after; }), borderColor: BRAND },
    ];
    if (outcome.baseline !== null) {
      sets.push(line(outcome.baseline, words.baseline || "Baseline", GREY, labels.length));
      sets.push(line(outcome.moderate, words.moderate || "30% less", "#8a6d3b", labels.length));
      sets.push(line(outcome.substantial, words.substantial || "50% less", GREEN, labels.length));
    }
    new window.Chart(document.getElementById("pain-chart"), {
      type: "line", data: { labels: labels, datasets: sets },
      options: { scales: { y: { min: 0, max: 10 } } },
    });
    var when = outcome.scores.map(function (s) { return s.label + " " + s.date; });
    new window.Chart(document.getElementById("scores-chart"), {
      type: "line",
      data: { labels: when, datasets: [
        { label: "PHQ-9", data: outcome.scores.map(function (s) { return s.phq9; }), borderColor: BRAND },
        { label: "GAD-7", data: outcome.scores.map(function (s) { return s.gad7; }), borderColor: WARM, spanGaps: true },
        { label: "PEG", data: outcome.scores.map(function (s) { return s.peg; }), borderColor: GREEN },
      ] },
      options: { scales: { y: { min: 0 } } },
    });
  }

  var board = data("dashboard-data");
  if (board) {
    new window.Chart(document.getElementById("utilisation-chart"), {
      type: "bar",
      data: { labels: ["Chairs, booked", "Chairs, actual", "Nurses, booked", "Nurses, actual"],
              datasets: [{ label: "Share of capacity", data: board.utilisation, backgroundColor: [BRAND, GREEN, BRAND, GREEN] }] },
      options: { scales: { y: { min: 0, max: 1 } } },
    });
    new window.Chart(document.getElementById("dropout-chart"), {
      type: "bar",
      data: { labels: Object.keys(board.dropouts),
              datasets: [{ label: "Series stopped after this session", data: Object.values(board.dropouts), backgroundColor: WARM }] },
    });
    var trend = board.trend;
    var asPercent = function (values) {
      return values.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; });
    };
    new window.Chart(document.getElementById("trend-chart"), {
      type: "line",
      data: { labels: trend.weeks, datasets: [
        { label: "Chair utilisation, booked (%)", data: asPercent(trend.utilisation), borderColor: BRAND, spanGaps: true },
        { label: "Chair utilisation, actual (%)", data: asPercent(trend.actual), borderColor: GREEN, spanGaps: true },
        { label: "No-show rate (%)", data: asPercent(trend.no_show), borderColor: WARM, spanGaps: true },
        { label: "Responder rate (%)", data: asPercent(trend.response), borderColor: GREY, spanGaps: true },
      ] },
      options: { scales: { y: { min: 0, max: 100 } } },
    });
  }
})();
