// Reclaim's small script: local times, calm polling, and the scrubber's findings while a coder types.
(function () {
  "use strict";

  var timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
  });

  function localizeTimes(root) {
    root.querySelectorAll("time[data-utc]").forEach(function (el) {
      var when = new Date(el.getAttribute("data-utc"));
      if (!isNaN(when)) {
        el.textContent = timeFormat.format(when);
        el.title = el.getAttribute("data-utc").replace("T", " ").replace("Z", " UTC");
      }
    });
  }

  function isPolling(elt) {
    return /every\s/.test(elt.getAttribute("hx-trigger") || "");
  }

  // A poll would replace the control someone is using; skip it until they are done.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    var active = document.activeElement;
    if (isPolling(elt) && active && elt.contains(active) && active.matches("input, select, textarea")) {
      evt.preventDefault();
    }
    // Nor while items are checked for a bulk action: the refresh would uncheck them.
    if (isPolling(elt) && elt.querySelector("input[name=item]:checked")) {
      evt.preventDefault();
    }
  });

  // Keep opened <details> (an 837, a mail) open across refreshes.
  var openDetails = [];
  document.addEventListener("htmx:beforeSwap", function (evt) {
    openDetails = Array.prototype.map.call(
      evt.detail.target.querySelectorAll("details[open][id]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSettle", function () {
    openDetails.forEach(function (id) {
      var d = document.getElementById(id);
      if (d) { d.open = true; }
    });
  });

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function words(value) {
    return value.replace(/,/g, " ").split(/\s+/).filter(Boolean);
  }

  // Build the corrected claim document exactly as the server does, remembering which input each
  // path of the document came from (empty inputs are dropped, so indexes can shift).
  function correctedDocument(form, base) {
    var doc = JSON.parse(JSON.stringify(base));
    var inputs = {};
    if (form.getAttribute("data-queue") === "front_desk") {
      doc.patient = doc.patient || {};
      ["member_id", "first_name", "last_name", "birth_date"].forEach(function (name) {
        var el = form.elements["patient-" + name];
        if (el && el.value.trim()) {
          doc.patient[name] = el.value.trim();
          inputs["patient." + name] = el;
        }
      });
      return { doc: doc, inputs: inputs };
    }
    doc.diagnoses = [];
    form.querySelectorAll("input[name=diagnoses]").forEach(function (el) {
      if (el.value.trim()) {
        inputs["diagnoses[" + doc.diagnoses.length + "]"] = el;
        doc.diagnoses.push(el.value.trim().toUpperCase());
      }
    });
    var count = parseInt(form.elements.line_count.value, 10) || 0;
    var lines = [];
    for (var i = 0; i < count; i++) {
      var get = function (name) { return form.elements["lines-" + i + "-" + name]; };
      if (!get("procedure").value.trim()) { continue; }
      var line = Object.assign({}, (base.lines || [])[i] || {});
      line.procedure = get("procedure").value.trim().toUpperCase();
      line.modifiers = words(get("modifiers").value.toUpperCase());
      line.units = get("units").value.trim() || "1";
      line.charge = get("charge").value.trim() || line.charge;
      line.diagnosis_pointers = words(get("pointers").value).map(function (p) {
        return /^\d+$/.test(p) ? parseInt(p, 10) : p;
      });
      var at = "lines[" + lines.length + "].";
      ["procedure", "modifiers", "units", "charge"].forEach(function (name) {
        inputs[at + name] = get(name);
      });
      inputs[at + "diagnosis_pointers"] = get("pointers");
      lines.push(line);
    }
    doc.lines = lines;
    return { doc: doc, inputs: inputs };
  }

  function inputFor(inputs, field) {
    var path = field;
    while (path) {
      if (inputs[path]) { return inputs[path]; }
      var cut = Math.max(path.lastIndexOf("["), path.lastIndexOf("."));
      if (cut <= 0) { break; }
      path = path.slice(0, cut);
    }
    return null;
  }

  function showFindings(form, box, findings, inputs, note) {
    form.querySelectorAll(".field-error.live").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    box.textContent = "";
    var heading = document.createElement("h3");
    heading.textContent = note || (findings.length ? "The scrubber says" : "The scrubber finds nothing wrong.");
    box.appendChild(heading);
    if (!findings.length) { return; }
    var list = document.createElement("ul");
    list.className = "findings";
    findings.forEach(function (f) {
      var item = document.createElement("li");
      item.className = f.severity || "error";
      var code = document.createElement("code");
      code.textContent = f.field;
      item.append((f.severity === "warning" ? "Warning " : "Error "), code, ": " + f.message);
      list.appendChild(item);
      var input = inputFor(inputs, f.field || "");
      if (input) {
        if ((f.severity || "error") === "error") { input.setAttribute("aria-invalid", "true"); }
        var span = document.createElement("span");
        span.className = "field-error live" + (f.severity === "warning" ? " warning" : "");
        span.textContent = f.message;
        input.insertAdjacentElement("afterend", span);
      }
    });
    box.appendChild(list);
  }

  function wireCorrectionForm(form) {
    if (form.dataset.wired) { return; }
    form.dataset.wired = "1";
    var base = JSON.parse(document.getElementById(form.getAttribute("data-claim-document")).textContent);
    var box = form.querySelector("#scrub-findings");
    var timer = null;
    var seq = 0;
    function check() {
      var built = correctedDocument(form, base);
      var mine = ++seq;
      fetch(form.getAttribute("data-scrub-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(form) },
        body: JSON.stringify(built.doc)
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (result) {
        if (mine !== seq) { return; }
        if (result.status === 200) {
          showFindings(form, box, (result.body.errors || []).concat(result.body.warnings || []), built.inputs);
        } else if (result.status === 422) {
          var fields = (result.body.fields || []).map(function (f) {
            return { field: f.field, message: f.message, severity: "error" };
          });
          showFindings(form, box, fields, built.inputs, "The claim is not complete yet");
        } else {
          showFindings(form, box, [], built.inputs, "Could not reach the scrubber (" + result.status + "); it runs again when you send.");
        }
      }).catch(function () {
        if (mine === seq) { showFindings(form, box, [], built.inputs, "Could not reach the scrubber; it runs again when you send."); }
      });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 450);
    });
  }

  function init(root) {
    localizeTimes(root);
    root.querySelectorAll("form#correction-form").forEach(wireCorrectionForm);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (evt) { init(evt.detail.elt); });
})();
