/* faellesdrift report: draws every chart on the page with the bundled Chart.js.
 * A chart is a <canvas data-spec="ID"> plus <script type="application/json" id="ID">
 * holding its data (written by reports/site.py). No network access is needed.
 * When done, <html data-charts="N" data-charts-failed="M"> tells tests what was drawn. */
(function () {
  "use strict";
  var root = document.documentElement;
  var css = window.getComputedStyle(root);
  var PALETTE = ["accent", "info", "ok", "warn", "bad", "muted", "alt"];

  function colour(name) {
    return css.getPropertyValue("--c-" + name).trim() || "#607d8b";
  }

  /* Numbers in the page's language (<html lang>): Danish 1.234.567 kr., English DKK 1,234,567. */
  var danish = root.lang === "da";
  function number(unit) {
    var nf = new Intl.NumberFormat(danish ? "da-DK" : "en-GB",
                                   { maximumFractionDigits: unit === "DKK" ? 0 : 1 });
    return function (v) {
      if (v === null || v === undefined) { return "—"; }
      if (unit === "%") { return nf.format(v) + " %"; }
      if (unit === "DKK") { return danish ? nf.format(v) + " kr." : "DKK " + nf.format(v); }
      return nf.format(v);
    };
  }

  function dataset(ds, i) {
    var bg;
    if (ds.colors) { bg = ds.colors.map(colour); }
    else if (ds.color) { bg = colour(ds.color); }
    else { bg = colour(PALETTE[(ds.palette !== undefined ? ds.palette : i) % PALETTE.length]); }
    return { label: ds.label, data: ds.data, backgroundColor: bg, borderWidth: 0,
             maxBarThickness: 28, stack: ds.stack };
  }

  function draw(canvas) {
    var spec = JSON.parse(document.getElementById(canvas.getAttribute("data-spec")).textContent);
    var fmt = number(spec.unit);
    var valueAxis = { beginAtZero: true, stacked: spec.stacked,
                      ticks: { callback: function (v) { return fmt(v); } } };
    if (spec.max !== null && spec.max !== undefined) { valueAxis.max = spec.max; }
    var labelAxis = { stacked: spec.stacked, ticks: { autoSkip: false } };
    var scales = spec.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis };
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: spec.datasets.map(dataset) },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: { display: spec.datasets.length > 1 },
          tooltip: { callbacks: { label: function (ctx) {
            var v = spec.horizontal ? ctx.parsed.x : ctx.parsed.y;
            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + fmt(v);
          } } }
        }
      }
    });
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-spec]");
    var drawn = 0, failed = 0;
    if (canvases.length && typeof window.Chart === "undefined") {
      console.error("faellesdrift report: Chart.js did not load (static/chart.umd.min.js)");
      failed = canvases.length;
    } else {
      Array.prototype.forEach.call(canvases, function (canvas) {
        try { draw(canvas); drawn += 1; }
        catch (err) {
          failed += 1;
          canvas.parentNode.setAttribute("data-error", String(err));
          console.error("faellesdrift report: chart " + canvas.id + " failed: " + err);
        }
      });
    }
    root.setAttribute("data-charts", String(drawn));
    root.setAttribute("data-charts-failed", String(failed));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
