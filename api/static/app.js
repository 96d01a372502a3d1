// Reclaim's small script: local times, calm polling, and the scrubber's findings while a person
// corrects a claim.
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

  // The input a finding's field names (`lines[0].modifiers`, `patient.member_id`), or the one
  // of the nearest enclosing path (`lines[0].modifiers[1]` -> `lines[0].modifiers`).
  function inputFor(form, field) {
    var path = field;
    while (path) {
      var el = form.querySelector('[data-field="' + path.replace(/"/g, "") + '"]');
      if (el) { return el; }
      var cut = Math.max(path.lastIndexOf("["), path.lastIndexOf("."));
      if (cut <= 0) { break; }
      path = path.slice(0, cut);
    }
    return null;
  }

  function showFindings(form, box, findings, note) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
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
      var input = f.field ? inputFor(form, f.field) : null;
      if (input) {
        if ((f.severity || "error") === "error") { input.setAttribute("aria-invalid", "true"); }
        var span = document.createElement("span");
        span.className = "field-error live" + (f.severity === "warning" ? " warning" : "");
        span.textContent = f.message;
        input.insertAdjacentElement("afterend", span);
        var closed = input.closest("details:not([open])");
        if (closed && (f.severity || "error") === "error") { closed.open = true; }
      }
    });
    box.appendChild(list);
  }

  // While the person types, the server reads the form exactly as it will when they send it
  // (POST .../check) and says what the scrubber finds, each message beside its field.
  function wireCorrectionForm(form) {
    if (form.dataset.wired) { return; }
    form.dataset.wired = "1";
    var box = form.querySelector("#scrub-findings");
    var timer = null;
    var seq = 0;
    function check() {
      var mine = ++seq;
      var body = new FormData(form);
      body.delete("action");
      fetch(form.getAttribute("data-check-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken(form) },
        body: body
      }).then(function (response) {
        return response.json().then(function (data) { return { status: response.status, body: data }; });
      }).then(function (result) {
        if (mine !== seq) { return; }
        if (result.status === 200) {
          showFindings(form, box, result.body.findings || [],
                       result.body.complete ? null : "The claim is not complete yet");
        } else {
          showFindings(form, box, [], "Could not reach the scrubber (" + result.status + "); it runs again when you send.");
        }
      }).catch(function () {
        if (mine === seq) { showFindings(form, box, [], "Could not reach the scrubber; it runs again when you send."); }
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
