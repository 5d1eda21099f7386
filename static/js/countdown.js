// Counts down to the next gate closure; the page is correct without it (server time shown).
(function () {
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var end = Date.now() + parseInt(el.getAttribute("data-countdown"), 10) * 1000;
    function tick() {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      var m = Math.floor(s / 60), r = s % 60;
      el.textContent = m + ":" + (r < 10 ? "0" : "") + r;
      if (s > 0) { setTimeout(tick, 1000); }
    }
    tick();
  });
})();
