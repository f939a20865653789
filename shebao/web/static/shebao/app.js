// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Buttons with data-confirm ask before submitting their form.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    var msg = (btn && btn.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
    // A second click while the first request runs does nothing (the server is idempotent too).
    if (ev.target.dataset.submitting === "1") { ev.preventDefault(); return; }
    ev.target.dataset.submitting = "1";
    if (btn && btn.name) {
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = btn.name; hidden.value = btn.value;
      ev.target.appendChild(hidden);
    }
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (f) { delete f.dataset.submitting; });
  });
})();
