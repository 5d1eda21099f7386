// The gate-closure countdown: a duration with its units ("27 min 05 s"), never a clock face.
// When it reaches zero it rolls over to the next gate closure (one interval later) and moves
// the "At HH:MM JST … starting HH:MM JST" sentence with it. Without script the page shows
// the server's whole minutes, also with a unit.
(function () {
  var JST_MS = 9 * 3600 * 1000;

  function hhmm(ms) {
    var d = new Date(ms + JST_MS);
    var h = d.getUTCHours(), m = d.getUTCMinutes();
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var step = parseInt(el.getAttribute("data-step"), 10) * 1000;
    var gate = Date.parse(el.getAttribute("data-gate"));
    var start = Date.parse(el.getAttribute("data-start"));
    var format = el.getAttribute("data-format") || "{m} min {s} s";
    // The server's offset from this browser's clock, so a wrong local clock cannot mislead.
    var skew = (gate - Date.now()) - parseInt(el.getAttribute("data-countdown"), 10) * 1000;
    var scope = el.closest("[data-countdown-scope]") || document;

    function tick() {
      var left = gate - (Date.now() + skew);
      while (left <= 0 && step > 0) {
        gate += step;
        start += step;
        left += step;
        scope.querySelectorAll("[data-gate-time]").forEach(function (t) { t.textContent = hhmm(gate); });
        scope.querySelectorAll("[data-start-time]").forEach(function (t) { t.textContent = hhmm(start); });
      }
      var s = Math.max(0, Math.round(left / 1000));
      var m = Math.floor(s / 60), r = s % 60;
      el.textContent = format.replace("{m}", m).replace("{s}", (r < 10 ? "0" : "") + r);
      setTimeout(tick, 1000 - (Date.now() % 1000));
    }
    tick();
  });
})();
