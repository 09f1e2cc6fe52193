// gallerysync dashboard: live share progress and confirmations. The pages
// work without it; it only adds what a plain form cannot.
"use strict";

(function () {
  // Forms with data-confirm ask first; a confirmed form says so to the
  // server, which otherwise shows its own confirmation page.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute("data-confirm");
    if (!msg) return;
    if (!window.confirm(msg)) {
      ev.preventDefault();
      return;
    }
    if (!form.querySelector('input[name="confirm"]')) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "confirm";
      input.value = "yes";
      form.appendChild(input);
    }
  });

  var box = document.querySelector("[data-job]");
  if (!box) return;
  var job = box.getAttribute("data-job");
  var finished = { done: true, cancelled: true };

  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function set(name, text) { var el = field(name); if (el) el.textContent = text; }
  function timeLeft(s) {
    if (!s) return "–";
    if (s < 90) return "about " + s + " s";
    return "about " + Math.round(s / 60) + " min";
  }

  function show(v) {
    set("percent", v.percent);
    set("done", v.done);
    set("total", v.total);
    set("failed", v.failed);
    set("state", v.state);
    set("items_per_second", v.items_per_second);
    set("seconds_left", timeLeft(v.seconds_left));
    var bar = document.getElementById("share-bar");
    if (bar) bar.value = v.percent;
    box.setAttribute("data-state", v.state);
    box.querySelectorAll("[data-show]").forEach(function (f) {
      f.hidden = !v[f.getAttribute("data-show")];
    });
  }

  function poll() {
    fetch("/api/shares/" + encodeURIComponent(job), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (v) { show(v); if (!finished[v.state]) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  set("seconds_left", timeLeft(Number(field("seconds_left") && field("seconds_left").getAttribute("data-seconds"))));
  poll();
})();
