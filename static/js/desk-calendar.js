/* The desk's calendar (docs/roles/front-desk.md#the-desks-calendar), a progressive enhancement:
   every action works without this file through links and forms.
   - Drag a session to a free slot: posts the move form the session's Move action posts, with the
     chair, the time and where the session was seen; the page comes back with the result.
   - Another desk's change: the version of the day or week is polled; when it changes, the
     calendar is fetched again and replaced in place, and a status line says so. */
(function () {
  "use strict";
  var root = document.querySelector("[data-calendar]");
  if (!root) { return; }
  var live = document.getElementById("calendar-live");
  var dragged = null;

  function post(url, fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    fields.csrfmiddlewaretoken = root.dataset.csrf;
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  // A free quarter hour of a chair (the day: its chair and time are those of its booking link),
  // or a chair's day (the week: the time of day kept).
  function freeCell(target) {
    var cell = target && target.closest ? target.closest("td.free, td.week-cell") : null;
    if (!cell || !root.contains(cell)) { return null; }
    return cell.classList.contains("week-cell") || cell.querySelector("a.slot-link") ? cell : null;
  }
  function placeOf(cell) {
    if (cell.classList.contains("week-cell")) {
      return { date: cell.dataset.date, time: dragged.dataset.time, chair: cell.dataset.chair, back: "week" };
    }
    var query = new URL(cell.querySelector("a.slot-link").href).searchParams;
    return { date: root.dataset.date, time: query.get("time"), chair: query.get("chair"), back: "calendar" };
  }

  root.addEventListener("dragstart", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-move-url]") : null;
    if (!link) { return; }
    dragged = link;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", link.getAttribute("href"));
  });
  root.addEventListener("dragend", function () {
    dragged = null;
    root.querySelectorAll(".drop-target").forEach(function (cell) { cell.classList.remove("drop-target"); });
  });
  root.addEventListener("dragover", function (event) {
    var cell = freeCell(event.target);
    if (dragged && cell) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      cell.classList.add("drop-target");
    }
  });
  root.addEventListener("dragleave", function (event) {
    var cell = freeCell(event.target);
    if (cell) { cell.classList.remove("drop-target"); }
  });
  root.addEventListener("drop", function (event) {
    var cell = freeCell(event.target);
    if (!dragged || !cell) { return; }
    event.preventDefault();
    var place = placeOf(cell);
    place.seen = dragged.dataset.seen;
    post(dragged.dataset.moveUrl, place);
  });

  var etag = null;
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || dragged) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-calendar]");
        if (!fresh) { return; }
        var focused = document.activeElement && root.contains(document.activeElement)
          ? document.activeElement.getAttribute("href") : null;
        root.innerHTML = fresh.innerHTML;
        root.dataset.version = fresh.dataset.version;
        root.dataset.csrf = fresh.dataset.csrf;
        if (focused) {
          var again = root.querySelector('a[href="' + focused.replace(/"/g, "") + '"]');
          if (again) { again.focus(); }
        }
        if (live) { live.textContent = "The calendar was updated with a change made elsewhere."; }
      })
      .catch(function () {});
  }
  function poll() {
    if (document.hidden || dragged) { return; }
    fetch(root.dataset.versionUrl, {
      credentials: "same-origin",
      headers: etag ? { "If-None-Match": etag } : {}
    })
      .then(function (response) {
        if (response.status !== 200) { return null; }
        var tag = response.headers.get("ETag");
        return response.json().then(function (data) {
          // The ETag is kept only once the page shows that version: until then, ask again.
          if (data.version === root.dataset.version) { etag = tag; } else { refresh(); }
        });
      })
      .catch(function () {});
  }
  window.setInterval(poll, parseInt(root.dataset.pollMs, 10) || 4000);
})();
