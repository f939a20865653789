// Field checks as the user leaves a field: the server's rule catalogue answers, so the
// form says exactly what 保存 will say. Also refreshes the previews the business type declares.
(function () {
  "use strict";
  var form = document.querySelector("form.data-form[data-check-url]");
  if (!form || form.querySelector("fieldset[disabled]")) return;
  var touched = {};
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  function fieldBox(name) { return form.querySelector('.field[data-field="' + name + '"]'); }
  function check() {
    var data = new FormData(form);
    data.delete("action");
    Object.keys(touched).forEach(function (n) { data.append("_touched", n); });
    fetch(form.dataset.checkUrl, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (!res) return;
        Object.keys(touched).forEach(function (name) {
          var box = fieldBox(name); if (!box) return;
          var issues = res.fields[name] || [];
          var errs = issues.filter(function (i) { return i.severity === "error"; });
          var warns = issues.filter(function (i) { return i.severity !== "error"; });
          box.classList.toggle("has-error", errs.length > 0);
          show(box.querySelector(".field-error"), errs);
          show(box.querySelector(".field-warning"), warns);
        });
        // Values the ID number implies (sex, birth date) fill fields the person left empty.
        Object.keys(res.fill || {}).forEach(function (name) {
          var input = form.elements[name];
          if (input && !input.value && !input.disabled) {
            input.value = res.fill[name];
            input.dispatchEvent(new Event("change", { bubbles: true }));
          }
        });
        Object.keys(res.previews || {}).forEach(function (key) { renderPreview(key, res.previews[key]); });
      });
  }
  // Messages first; the rule code small beside each (what a support call asks for).
  function show(el, issues) {
    if (!el) return;
    el.textContent = "";
    issues.forEach(function (i, n) {
      if (n) el.appendChild(document.createTextNode(" "));
      el.appendChild(document.createTextNode(i.message + " "));
      var code = document.createElement("small");
      code.className = "rule-code";
      code.title = form.dataset.codeTitle || "";
      code.textContent = i.code;
      el.appendChild(code);
    });
  }
  // A preview the business type declares (the page drew its table): rows, totals, notes.
  function renderPreview(key, table) {
    var box = form.querySelector('[data-preview="' + key + '"]') || document.getElementById(key + "-preview");
    if (!box || !table) return;
    var cols = Array.prototype.map.call(box.querySelectorAll("thead th"), function (th) {
      return { key: th.dataset.key, numeric: th.dataset.numeric === "1" };
    });
    var body = box.querySelector("tbody");
    body.textContent = "";
    table.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      cols.forEach(function (col) {
        var td = document.createElement("td"); td.textContent = row[col.key] || ""; if (col.numeric) td.className = "num"; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    box.querySelectorAll("[data-total]").forEach(function (cell) {
      var k = cell.dataset.total;
      cell.textContent = (table.totals && table.totals[k]) || (table.notes && table.notes[k]) || "";
    });
    box.hidden = table.rows.length === 0;
  }
  var timer = null;
  form.addEventListener("focusout", function (ev) {
    var name = ev.target && ev.target.name;
    if (!name || name === "csrfmiddlewaretoken" || name === "version") return;
    touched[name] = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 80);
  });
  form.addEventListener("change", function (ev) {
    if (ev.target && ev.target.type === "checkbox") { touched[ev.target.name] = true; check(); }
  });
})();
