// The segment builder: condition rows <-> the rules JSON, and a live count as you edit.
(function () {
  var form = document.getElementById("segment-form");
  if (!form) return;
  var fields = JSON.parse(document.getElementById("segment-fields").textContent);
  var text = JSON.parse(document.getElementById("builder-text").textContent);
  var lang = document.getElementById("builder").dataset.language === "zh-hans" ? "zh-hans" : "en";
  var list = document.getElementById("conditions");
  var combine = document.getElementById("combine");
  var rules = form.querySelector("textarea[name=rules]");
  var count = document.getElementById("live-count");
  var errorBox = document.getElementById("rules-error");
  var byName = {};
  fields.forEach(function (f) { if (f.field.indexOf("<") < 0) byName[f.field] = f; });
  var timer = null;

  function option(value, label, selected) {
    var o = document.createElement("option");
    o.value = value; o.textContent = label; if (selected) o.selected = true; return o;
  }
  function parseValue(f, op, raw) {
    if (op === "in" || op === "not_in" || op === "between") {
      return raw.split(",").map(function (s) { s = s.trim(); return f.kind === "number" && s !== "" ? Number(s) : s; });
    }
    if (f.kind === "number") return raw === "" ? raw : Number(raw);
    if (f.kind === "bool") return raw === "true";
    return raw;
  }
  function showValue(v) { return Array.isArray(v) ? v.join(", ") : (v === undefined ? "" : String(v)); }
  function addRow(cond) {
    var li = document.createElement("li");
    var fieldSel = document.createElement("select"); fieldSel.className = "c-field";
    Object.keys(byName).forEach(function (k) { fieldSel.appendChild(option(k, byName[k].label[lang], cond && cond.field === k)); });
    var opSel = document.createElement("select"); opSel.className = "c-op";
    var value = document.createElement("input"); value.className = "c-value"; value.value = cond ? showValue(cond.value) : "";
    var remove = document.createElement("button"); remove.type = "button"; remove.textContent = text.remove;
    function fillOps() {
      var f = byName[fieldSel.value], keep = opSel.value || (cond && cond.op);
      opSel.innerHTML = "";
      f.ops.forEach(function (op) { opSel.appendChild(option(op, op, op === keep)); });
      value.placeholder = f.choices.length ? f.choices.join(", ") : (f.kind === "bool" ? "true / false" : f.kind);
    }
    fillOps();
    fieldSel.addEventListener("change", function () { fillOps(); sync(); });
    [opSel, value].forEach(function (el) { el.addEventListener("input", sync); el.addEventListener("change", sync); });
    remove.addEventListener("click", function () { li.remove(); sync(); });
    li.append(fieldSel, opSel, value, remove);
    list.appendChild(li);
  }
  function sync() {
    var conds = [];
    list.querySelectorAll("li").forEach(function (li) {
      var f = byName[li.querySelector(".c-field").value], op = li.querySelector(".c-op").value;
      conds.push({ field: f.field, op: op, value: parseValue(f, op, li.querySelector(".c-value").value) });
    });
    var tree = {}; tree[combine.value] = conds;
    rules.value = JSON.stringify(tree);
    recount();
  }
  function recount() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var body = new FormData();
      body.append("rules", rules.value);
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      fetch(form.dataset.countUrl, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.error) { errorBox.textContent = data.error; count.textContent = "—"; }
          else { errorBox.textContent = ""; count.textContent = data.count.toLocaleString("en"); }
        });
    }, 250);
  }
  // Start from the JSON when it is one flat group of conditions; otherwise edit the JSON.
  try {
    var start = JSON.parse(rules.value);
    var key = start.all ? "all" : (start.any ? "any" : null);
    if (key && start[key].every(function (c) { return c.field && byName[c.field]; })) {
      combine.value = key;
      start[key].forEach(addRow);
    }
  } catch (e) { /* the JSON is edited by hand */ }
  combine.addEventListener("change", sync);
  document.getElementById("add-condition").addEventListener("click", function () { addRow(null); sync(); });
  rules.addEventListener("input", recount);
  recount();
})();
