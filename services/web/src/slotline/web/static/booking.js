// Progressive enhancement for the customer's pages: every page works without it.
// - the calendar refreshes itself when a slot is taken elsewhere (SSE "changed"),
//   and once when its live feed is subscribed (what changed since it was rendered)
// - a booking being confirmed reloads once it is settled (the manage link's SSE)
// - a form is sent once (the button shows it is working)
// - inside an embedding iframe, the page tells its parent how tall it is
(function () {
  "use strict";
  if (window.slotlineBooking) return; // included twice on an embedded page: run once
  window.slotlineBooking = true;
  var note = document.getElementById("live-note");

  function follow(url, onChange, onReady) {
    if (!window.EventSource) return;
    var source = new EventSource(url);
    // subscribe, then read: what changed between rendering and subscribing is fetched once
    if (onReady) source.addEventListener("ready", onReady);
    source.addEventListener("changed", onChange);
    source.addEventListener("booking", onChange);
    source.addEventListener("resync", function () { onChange(); });
  }

  var calendar = document.getElementById("calendar");
  if (calendar && calendar.dataset.live) {
    var pending = null;
    var refresh = function (event) {
      var quiet = event && event.type === "ready";
      clearTimeout(pending);
      pending = setTimeout(function () {
        fetch(calendar.dataset.fragment, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            var focused = document.activeElement && calendar.contains(document.activeElement)
              ? document.activeElement.getAttribute("href") : null;
            calendar.innerHTML = html;
            if (focused) {
              var again = calendar.querySelector('a[href="' + focused + '"]');
              if (again) again.focus();
            }
            if (note && !quiet) note.textContent = document.documentElement.lang === "el"
              ? "Οι ώρες ενημερώθηκαν." : "Times updated.";
            resize();
          })
          .catch(function () {});
      }, 150);
    };
    follow(calendar.dataset.live, refresh, refresh);
  }

  var waiting = document.getElementById("pending");
  if (waiting && waiting.dataset.events) {
    follow(waiting.dataset.events, function (event) {
      try {
        var card = JSON.parse(event.data || "{}");
        if (card.status && card.status !== "pending" && card.status !== "held") location.reload();
      } catch (e) { location.reload(); }
    });
  }

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = event.submitter || form.querySelector("button[type=submit]");
      if (button) {
        if (button.name) {
          var kept = document.createElement("input");
          kept.type = "hidden"; kept.name = button.name; kept.value = button.value;
          form.appendChild(kept);
        }
        setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0);
      }
    });
  });

  var problems = document.getElementById("problems") || document.getElementById("taken");
  if (problems) problems.focus();

  function resize() {
    if (window.parent !== window) {
      window.parent.postMessage({ slotline: "height", height: document.documentElement.scrollHeight }, "*");
    }
  }
  resize();
  window.addEventListener("load", resize);
})();
