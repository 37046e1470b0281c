// Progress of a background job: poll its JSON status and update the bar; reload the page when
// the job has finished (the server then shows its outcome). Without JavaScript the page
// reloads itself (a <noscript> refresh), so this file is an enhancement only.
(function () {
  "use strict";
  var INTERVAL_MS = 1000;
  function text(box, selector, value) {
    var node = box.querySelector(selector);
    if (node) { node.textContent = value || ""; }
  }
  function poll(box) {
    var url = box.getAttribute("data-job-status");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { window.setTimeout(function () { poll(box); }, INTERVAL_MS * 5); return; }
        var bar = box.querySelector("progress");
        if (bar) {
          if (state.percent === null) { bar.removeAttribute("value"); }
          else { bar.value = state.percent; bar.textContent = state.percent + "%"; }
        }
        text(box, ".job-status", state.status_label);
        text(box, ".job-message", state.message);
        text(box, ".job-detail", state.detail);
        box.className = "job-progress " + state.status;
        if (state.finished) {
          var target = box.getAttribute("data-follow") === "true" && state.url;
          if (target) { window.location.assign(target); } else { window.location.reload(); }
          return;
        }
        window.setTimeout(function () { poll(box); }, INTERVAL_MS);
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, INTERVAL_MS * 5); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-job-status]");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].getAttribute("data-finished") !== "true") { poll(boxes[i]); }
    }
  });
})();
