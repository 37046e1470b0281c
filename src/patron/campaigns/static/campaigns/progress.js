// Live progress of a campaign: poll its counts every 3 s while messages wait to be sent.
(function () {
  var box = document.getElementById("progress");
  if (!box || !window.fetch) return;
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        box.querySelectorAll("[data-key]").forEach(function (el) {
          var v = data[el.dataset.key];
          if (v !== undefined) el.textContent = typeof v === "number" ? v.toLocaleString("en") : v;
        });
        if (data.pending > 0 || data.status === "scheduled" || data.status === "launching") setTimeout(tick, 3000);
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, 1500);
})();
