// The console's live parts: the day sheet and the callback queue refresh when the
// services say something changed (SSE) and once when the feed is subscribed, and SLA
// countdowns tick every second.
(function () {
  "use strict";
  var note = document.getElementById("live-note");

  function live(box) {
    if (!box || !box.dataset.live || !window.EventSource) return;
    var timer = null;
    var source = new EventSource(box.dataset.live);
    function refresh(event) {
      var quiet = event && event.type === "ready";
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(box.dataset.fragment, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            box.innerHTML = html;
            tick();
            if (note && !quiet) note.textContent = document.documentElement.lang === "el" ? "Ενημερώθηκε." : "Updated.";
          })
          .catch(function () {});
      }, 200);
    }
    source.addEventListener("changed", refresh);
    source.addEventListener("resync", refresh);
    // subscribed, then read once: what changed between rendering and subscribing (the
    // sheet is a read model a moment behind a booking just made) is not missed
    source.addEventListener("ready", function (event) {
      box.dataset.liveReady = "1";
      refresh(event);
    });
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      var sign = left < 0 ? "-" : "";
      var s = Math.abs(left);
      var text = sign + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
      var out = el.querySelector(".sla__left");
      if (out && out.textContent !== text) out.textContent = text;
      var task = el.closest(".task");
      if (task) {
        task.classList.toggle("task--late", left <= 0);
        task.classList.toggle("task--soon", left > 0 && left <= 300);
        task.classList.toggle("task--ok", left > 300);
      }
    });
  }

  live(document.getElementById("sheet"));
  live(document.getElementById("queue"));
  if (document.querySelector("[data-deadline]") || document.getElementById("queue")) {
    tick();
    setInterval(tick, 1000);
  }
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
})();
