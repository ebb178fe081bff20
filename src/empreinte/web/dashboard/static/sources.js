// The Sources page: refreshes the live counts (GET /sources/live) every few seconds while
// the page is visible.
"use strict";

(function () {
  function poll(box) {
    const every = Math.max(1, Number(box.dataset.every) || 5) * 1000;
    let stopped = false;
    function tick() {
      if (stopped || document.hidden) return;
      fetch(box.dataset.refresh, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) {
          // Logged out (sent to the login page) or refused: stop asking.
          if (!r.ok || r.redirected) { stopped = true; return null; }
          return r.text();
        })
        .then(function (html) {
          if (html !== null) {
            box.innerHTML = html;
            box.dataset.refreshed = String((Number(box.dataset.refreshed) || 0) + 1);
          }
        })
        .catch(function () { /* the server is away: try again at the next tick */ });
    }
    setInterval(tick, every);
  }

  window.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(poll);
  });
})();
