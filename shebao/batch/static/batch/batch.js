// The batch page polls its status while the file is read or the rows are audited,
// moves the progress bar, and reloads into the result when the work is done.
(function () {
  "use strict";
  var box = document.querySelector("[data-batch-poll='1']");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".progress > div");
  var text = box.querySelector("[data-progress-text]");
  var startState = box.getAttribute("data-state");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { setTimeout(tick, 1000); return; }
        var total = s.progress_total || 0, done = Math.min(s.progress_done || 0, total);
        var pct = total ? Math.floor(done * 100 / total) : 0;
        if (bar) { bar.style.width = pct + "%"; }
        box.setAttribute("aria-valuenow", String(pct));
        if (text) { text.textContent = done + " / " + total + " (" + pct + "%)"; }
        if (s.final || s.state !== startState) { window.location.reload(); return; }
        setTimeout(tick, 300);
      })
      .catch(function () { setTimeout(tick, 1000); });
  }
  setTimeout(tick, 300);
})();
