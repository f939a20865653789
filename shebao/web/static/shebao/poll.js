// The result screen: while the audit runs, poll the status (every 300 ms at most) and
// update 审批结果 in place; when it ends, swap in the fresh page content without a reload.
(function () {
  "use strict";
  var box = document.getElementById("tx");
  if (!box || box.dataset.poll !== "1") return;
  var url = box.dataset.statusUrl;
  function set(testid, text) {
    var el = document.querySelector('[data-testid="' + testid + '"]');
    if (el && text !== undefined) el.textContent = text || "—";
  }
  function swap() {
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (fresh) document.querySelector("main").innerHTML = fresh.innerHTML;
      });
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        set("approval", s.approval);
        set("business-status", s.business_status);
        set("returned-flag", s.returned);
        if (s.final) { swap(); } else { window.setTimeout(tick, 300); }
      })
      .catch(function () { window.setTimeout(tick, 1500); });
  }
  window.setTimeout(tick, 300);
})();
