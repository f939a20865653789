// 读卡器: reads a second-generation ID card through the reader service on the operator's PC
// (its origin, endpoints and field names come from the page: 读卡器设置, docs/reader.md),
// fills the form's person fields and hands the chip's photo to the server, which checks and
// re-encodes it like an upload. A number already typed that differs from the card's is never
// overwritten without asking.
(function () {
  "use strict";
  var box = document.querySelector("[data-reader]");
  if (!box) return;
  var form = box.closest("form") || document.querySelector("form.data-form");
  var button = box.querySelector("[data-reader-button]");
  var status = box.querySelector("[data-reader-status]");
  var ask = box.querySelector("[data-reader-ask]");
  var photoInput = box.querySelector("[data-reader-photo]");
  var names = JSON.parse(box.dataset.fields || "{}");
  var origin = box.dataset.origin;
  var msg = function (key) { return box.getAttribute("data-msg-" + key) || ""; };
  // GB/T 3304 codes, for a reader that answers 民族 as a number.
  var NATIONS = ["汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯",
    "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"];
  var CERT_TYPES = { "": "01", " ": "01", "J": "02", "I": "03" };  // 居民身份证, 港澳台居民居住证, 外国人永久居留身份证
  var pending = null;

  function say(text, kind) {
    status.hidden = !text;
    status.textContent = text;
    status.className = "reader-status" + (kind ? " " + kind : "");
  }
  function append(text, kind) {
    say(status.textContent ? status.textContent + " " + text : text, kind);
  }
  function isLoopback(host) {
    return host === "localhost" || host === "[::1]" || /^127\./.test(host);
  }
  function target() {
    try { return new URL(origin); } catch (e) { return null; }
  }
  // Chrome's Local Network Access: the operator's answer to its prompt, where the browser says.
  function permission() {
    if (!navigator.permissions || !navigator.permissions.query) return Promise.resolve("");
    return navigator.permissions.query({ name: "local-network-access" })
      .catch(function () { return navigator.permissions.query({ name: "loopback-network" }); })
      .then(function (p) { return p.state; }, function () { return ""; });
  }
  function call(path) {
    var url = target();
    var options = { method: "GET", mode: "cors", cache: "no-store", credentials: "omit" };
    if (url) options.targetAddressSpace = isLoopback(url.hostname) ? "loopback" : "local";
    return fetch(origin + path, options).then(function (r) {
      if (!r.ok) throw { reply: true };
      return r.json().catch(function () { throw { reply: true }; });
    }, function () { throw { network: true }; });
  }
  function field(reply, key) {
    var v = reply[names[key] || key];
    return v === undefined || v === null ? "" : String(v).trim();
  }
  function succeeded(reply) { return String(field(reply, "result")) === "0"; }
  function nation(value) {
    if (/^\d{1,2}$/.test(value) && NATIONS[parseInt(value, 10) - 1]) value = NATIONS[parseInt(value, 10) - 1];
    if (!value) return "";
    return /族$/.test(value) || /人$/.test(value) ? value : value + "族";
  }
  function sex(value) {
    if (value === "男" || value === "1") return "1";
    if (value === "女" || value === "2") return "2";
    return "";
  }
  function birth(value) {
    var m = /^(\d{4})(\d{2})(\d{2})$/.exec(value.replace(/[-.\/]/g, ""));
    return m ? m[1] + "-" + m[2] + "-" + m[3] : "";
  }
  function card(reply) {
    var type = field(reply, "cert_type").toUpperCase();
    return {
      id_type: CERT_TYPES[type] || "",
      id_number: field(reply, "number").toUpperCase(),
      name: field(reply, "name"),
      sex: sex(field(reply, "gender")),
      birth_date: birth(field(reply, "born")),
      ethnicity: nation(field(reply, "nation")),
      address: field(reply, "address"),
      photo: field(reply, "photo")
    };
  }
  function set(name, value) {
    var input = form && form.elements[name];
    if (!input || !value || input.disabled || input.readOnly) return;
    if (input.tagName === "SELECT" && !Array.prototype.some.call(input.options, function (o) { return o.value === value; })) return;
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.dispatchEvent(new FocusEvent("focusout", { bubbles: true }));  // form.js checks the field
  }
  function fill(data) {
    ["id_type", "id_number", "name", "sex", "birth_date", "ethnicity", "address"].forEach(function (n) { set(n, data[n]); });
    say(msg("done"), "ok");
    if (box.dataset.photoUrl) sendPhoto(data.photo);
  }
  function post(url, body) {
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrf ? csrf.value : "" } })
      .then(function (r) { return r.json().catch(function () { return { ok: false, message: msg("bad-reply") }; }); });
  }
  function sendPhoto(pic) {
    if (photoInput) photoInput.value = "";
    if (!pic) { append(msg("photo-none"), "warn"); return; }
    var body = new FormData();
    body.append("pic", pic);
    var attach = box.dataset.attach === "1";
    var version = document.querySelector("input[name=version]");
    if (attach && version) body.append("version", version.value);
    append(msg("photo-checking"));
    post(box.dataset.photoUrl, body).then(function (res) {
      var text = status.textContent.replace(" " + msg("photo-checking"), "");
      if (!res.ok) { say(text + " " + msg("photo-failed") + res.message, "error"); return; }
      say(text + " " + res.message, "ok");
      if (!attach) { if (photoInput) photoInput.value = pic; return; }
      document.querySelectorAll("input[name=version]").forEach(function (el) { el.value = res.version; });
      showPhoto(res.photo_url);
    }, function () { say(msg("photo-failed") + msg("bad-reply"), "error"); });
  }
  function showPhoto(url) {
    var section = document.getElementById("photo");
    if (!section) return;
    var img = section.querySelector("img.photo");
    if (!img) {
      img = document.createElement("img");
      img.className = "photo";
      img.alt = "";
      img.setAttribute("data-testid", "photo");
      var missing = section.querySelector("p.help");
      if (missing) missing.replaceWith(img); else section.querySelector("h2").after(img);
    }
    img.src = url;
  }
  function offer(data) {
    var typed = form.elements.id_number ? form.elements.id_number.value.trim().toUpperCase() : "";
    if (typed && data.id_number && typed !== data.id_number) {
      pending = data;
      box.querySelector("[data-reader-ask-text]").textContent =
        msg("mismatch").replace("%(card)s", data.id_number).replace("%(typed)s", typed);
      say("");
      ask.hidden = false;
      return;
    }
    fill(data);
  }
  function failed(error) {
    if (error && error.network) {
      permission().then(function (state) { say(state === "denied" ? msg("blocked") : msg("no-service"), "error"); });
    } else {
      say(msg("bad-reply"), "error");
    }
  }
  function read() {
    ask.hidden = true;
    pending = null;
    var url = target();
    if (!url) { say(msg("bad-reply"), "error"); return; }
    if (location.protocol === "https:" && url.protocol === "http:" && !isLoopback(url.hostname)) {
      say(msg("mixed"), "error");
      return;
    }
    button.disabled = true;
    say(msg("reading"));
    permission().then(function (state) {
      if (state === "denied") throw { blocked: true };
      return call(box.dataset.open);
    }).then(function (opened) {
      if (!succeeded(opened)) throw { device: field(opened, "error") };
      return call(box.dataset.read).then(function (reply) {
        if (!succeeded(reply)) throw { noCard: field(reply, "error") };
        return card(reply);
      });
    }).then(function (data) {
      closeDevice();
      offer(data);
    }, function (error) {
      closeDevice();
      if (error && error.blocked) say(msg("blocked"), "error");
      else if (error && error.noCard !== undefined) say(msg("no-card") + (error.noCard ? "（" + error.noCard + "）" : ""), "error");
      else if (error && error.device !== undefined) say(msg("failed") + (error.device || msg("no-service")), "error");
      else failed(error);
    }).then(function () { button.disabled = false; });
  }
  function closeDevice() { call(box.dataset.close).catch(function () {}); }

  button.addEventListener("click", read);
  box.querySelector("[data-reader-replace]").addEventListener("click", function () {
    ask.hidden = true;
    if (pending) fill(pending);
    pending = null;
  });
  box.querySelector("[data-reader-keep]").addEventListener("click", function () {
    ask.hidden = true;
    pending = null;
    say(msg("kept"));
  });
})();
