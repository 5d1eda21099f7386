// Draws every chart that templates/includes/chart.html put on the page, with the vendored
// Apache ECharts (static/vendor/echarts/). The server decides every number and label
// (aggregator/platform/charts.py); this file only turns that data into an ECharts option:
// tooltips with values and units, zoom, legend toggles, the Okabe–Ito palette (colour-blind
// safe) with a dash pattern and a marker shape per series (so a grey print still tells
// them apart), and x labels in JST whatever the reader's own timezone.
// The page is complete without it: each chart sits above a table of the same figures.
(function () {
  "use strict";
  if (window.wattbitCharts) { window.wattbitCharts.drawAll(); return; }

  // Okabe & Ito (2008), ordered so that neighbours differ for every colour vision and the
  // first colours stay dark enough on paper; the yellow comes last.
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
  var DASHES = ["solid", "dashed", "dotted", [8, 3, 2, 3]];
  var SYMBOLS = ["circle", "rect", "triangle", "diamond", "pin", "arrow", "roundRect", "emptyCircle"];

  var loading = null;
  function loadECharts(src) {
    if (window.echarts) { return Promise.resolve(window.echarts); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = function () { resolve(window.echarts); };
        s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function jstParts(iso, lang) {
    var f = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var out = {};
    f.formatToParts(new Date(iso)).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }

  function formatNumber(v, decimals, lang) {
    if (v === null || v === undefined) { return "—"; }
    return Number(v).toLocaleString(lang, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function buildOption(data, el) {
    var lang = document.documentElement.lang || "en";
    var timed = data.x_kind === "time";
    var parts = timed ? data.x.map(function (x) { return jstParts(x, lang); }) : [];
    var oneDay = timed && parts.every(function (p) {
      return p.year === parts[0].year && p.month === parts[0].month && p.day === parts[0].day;
    });
    var axisLabels = timed ? parts.map(function (p) {
      return oneDay ? p.hour + ":" + p.minute : p.month + "/" + p.day + " " + p.hour + ":" + p.minute;
    }) : data.x;
    var fullLabels = timed ? parts.map(function (p) {
      return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + " JST";
    }) : data.x;

    var zoomable = timed || data.x.length > 12;
    var series = data.series.map(function (s, i) {
      var kind = s.kind || data.kind;
      var out = {
        name: s.name, type: kind, data: s.data,
        yAxisIndex: Math.max(0, data.units.indexOf(s.unit)),
        emphasis: { focus: "series" }
      };
      if (s.stack) { out.stack = s.stack; }
      if (kind === "line") {
        out.connectNulls = false;
        out.showSymbol = data.x.length <= 96;
        out.symbol = SYMBOLS[i % SYMBOLS.length];
        out.symbolSize = 6;
        // Past the palette's eight colours the dash changes, so no two series look alike.
        out.lineStyle = { width: 2, type: DASHES[(i + Math.floor(i / PALETTE.length)) % DASHES.length] };
      } else {
        // A pattern on every bar after the first, so bars stay apart on a grey print.
        if (i > 0) { out.itemStyle = { decal: { symbol: SYMBOLS[i % SYMBOLS.length], symbolSize: 0.6 } }; }
      }
      return out;
    });

    var yAxes = data.units.map(function (unit, i) {
      return {
        type: "value", name: unit, position: i === 0 ? "left" : "right",
        splitLine: { show: i === 0 }, axisLabel: { hideOverlap: true }
      };
    });
    if (!yAxes.length) { yAxes = [{ type: "value" }]; }

    return {
      color: PALETTE,
      animation: false,
      aria: { enabled: false }, // the container's own role="img" and aria-label speak for it
      // The page's own font, named: ECharts measures legend text with it (not "inherit").
      textStyle: { fontFamily: window.getComputedStyle(el).fontFamily || "sans-serif" },
      grid: { left: 56, right: data.units.length > 1 ? 64 : 24, top: 48, bottom: zoomable ? 72 : 24, containLabel: true },
      legend: { type: "scroll", top: 0, left: "center", selectedMode: true },
      tooltip: {
        trigger: "axis", confine: true, className: "chart-tooltip", axisPointer: { type: data.kind === "bar" ? "shadow" : "line" },
        formatter: function (params) {
          if (!params.length) { return ""; }
          var rows = params.map(function (p) {
            var s = data.series[p.seriesIndex];
            return p.marker + escapeHtml(p.seriesName) + ": <b>" + formatNumber(p.value, s.decimals, lang) +
              "</b> " + escapeHtml(s.unit);
          });
          return escapeHtml(fullLabels[params[0].dataIndex]) + "<br>" + rows.join("<br>");
        }
      },
      // Zoom where there is a run of values to zoom into (time, or many categories).
      dataZoom: zoomable ? [
        { type: "inside", xAxisIndex: 0, filterMode: "none" },
        { type: "slider", xAxisIndex: 0, filterMode: "none", height: 20, bottom: 8 }
      ] : [],
      xAxis: {
        type: "category", data: data.x, boundaryGap: data.kind === "bar",
        axisLabel: { hideOverlap: true, formatter: function (v, i) { return axisLabels[i]; } },
        axisPointer: { label: { formatter: function (p) { return fullLabels[data.x.indexOf(p.value)] || p.value; } } }
      },
      yAxis: yAxes,
      series: series
    };
  }

  function draw(el) {
    if (el.getAttribute("data-chart-ready")) { return; }
    el.setAttribute("data-chart-ready", "loading");
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    if (data.empty) { el.setAttribute("data-chart-ready", "empty"); return; }
    loadECharts(el.getAttribute("data-echarts-src")).then(function (echarts) {
      el.textContent = ""; // the "needs JavaScript" note goes; the table below stays
      el.classList.add("chart-drawn");
      // SVG: crisp when printed, and its legend and labels are text.
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(buildOption(data, el));
      window.addEventListener("resize", function () { chart.resize(); });
      window.addEventListener("beforeprint", function () { chart.resize(); });
      el.setAttribute("data-chart-ready", "drawn");
    }, function () {
      el.setAttribute("data-chart-ready", "failed");
    });
  }

  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  window.wattbitCharts = { drawAll: drawAll, buildOption: buildOption };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
