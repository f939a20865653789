// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Buttons with data-confirm ask before submitting their form.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    // A button that acts on ticked rows says so when none is ticked, before any confirmation.
    var needs = btn && btn.getAttribute("data-needs-ticked");
    if (needs && !ev.target.querySelector('input[type=checkbox][name="' + needs + '"]:checked')) {
      ev.preventDefault();
      window.alert(btn.getAttribute("data-none-ticked"));
      return;
    }
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
  // 全选 ticks every row of its table.
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var table = box.closest("table");
    if (table) table.querySelectorAll("input[name=items]").forEach(function (c) { c.checked = box.checked; });
  });
  // A select with data-autosubmit submits its form when changed (no inline handlers: the
  // Content-Security-Policy allows only these static scripts).
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
  });
  // Progress bars carry their share as data-percent; the width is set here, not inline.
  function bars(root) {
    root.querySelectorAll(".progress > [data-percent]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, parseInt(bar.getAttribute("data-percent"), 10) || 0)) + "%";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { bars(document); });
  } else { bars(document); }
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (f) { delete f.dataset.submitting; });
  });
})();
