// Paints a metric's chart with Chart.js from the definition the page embeds (#chart-data,
// built by alerts/drawing.py, the same one the alert email and the digest paint): the
// values (revised ones as orange triangles), what each rule measures (e.g. the 7-day
// mean), its levels as dashed lines, firing periods shaded, and a legend for all of them.
// The x axis counts in the series' own grain (days, months, quarters, years), so ticks
// fall on whole periods and never repeat.
(function () {
  "use strict";
  var canvas = document.getElementById("series-chart");
  var source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var VALUE = "#0b7a75", VALUE_UNDER_MEASURE = "#8fc1be", REVISED = "#e67e22";
  var MEASURED = ["#1f3a93", "#6c3483", "#7e5109"];
  var FIRES = "#c0392b", RESOLVES = "#1e8449", BAND = "rgba(245, 183, 177, 0.55)";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var xs = data.x;
  var first = xs.length ? Math.min.apply(null, xs) : 0;
  var last = xs.length ? Math.max.apply(null, xs) : 1;
  var pad = Math.max((last - first) * 0.02, 0.5);  // keep the first and last points inside
  var years = {};
  data.periods.forEach(function (p) { years[p.slice(0, 4)] = true; });
  var manyYears = Object.keys(years).length > 1;
  var atX = {};
  xs.forEach(function (x, i) { atX[x] = i; });

  function tick(v) {
    if (data.axis === "years") { return String(v); }  // periods of mixed forms, by year
    if (data.grain === "day") {
      var day = new Date(v * 86400000);
      var text = MONTHS[day.getUTCMonth()] + " " + day.getUTCDate();
      return manyYears ? text + ", " + day.getUTCFullYear() : text;
    }
    if (data.grain === "month") { return MONTHS[((v % 12) + 12) % 12] + " " + Math.floor(v / 12); }
    if (data.grain === "quarter") { return Math.floor(v / 4) + "-Q" + ((v % 4) + 1); }
    if (data.grain === "fiscal year") { return "FY" + v; }
    if (data.grain === "year") { return String(v); }
    return atX[v] !== undefined ? data.ticks[atX[v]] : "";
  }

  var raw = data.measured.length ? VALUE_UNDER_MEASURE : VALUE;
  var datasets = [{
    label: data.value_label,
    data: data.values.map(function (y, i) { return { x: xs[i], y: y }; }),
    borderColor: raw,
    backgroundColor: raw,
    borderWidth: data.measured.length ? 1.5 : 2,
    tension: 0,
    pointStyle: data.revised.map(function (r) { return r ? "triangle" : "circle"; }),
    pointRadius: data.revised.map(function (r) { return r ? 8 : (data.measured.length ? 1.5 : 3); }),
    pointBackgroundColor: data.revised.map(function (r) { return r ? REVISED : raw; }),
    pointBorderColor: data.revised.map(function (r) { return r ? REVISED : raw; })
  }];
  data.measured.forEach(function (line, index) {
    var colour = MEASURED[index % MEASURED.length];
    datasets.push({
      label: line.label,
      data: line.values.map(function (y, i) { return { x: xs[i], y: y }; }),
      borderColor: colour, backgroundColor: colour, borderWidth: 3, pointRadius: 0, tension: 0,
      spanGaps: false
    });
  });
  data.levels.forEach(function (level) {
    var colour = level.resolves ? RESOLVES : FIRES;
    datasets.push({
      label: level.label,
      data: [{ x: first - pad, y: level.value }, { x: last + pad, y: level.value }],
      borderColor: colour, backgroundColor: colour, borderDash: [6, 4], borderWidth: 2,
      pointRadius: 0, pointHitRadius: 0
    });
  });
  var bandLabels = {};
  data.bands.forEach(function (band) { bandLabels[band.label] = true; });
  Object.keys(bandLabels).forEach(function (label) {  // legend entries for the shading
    datasets.push({ label: label, data: [], backgroundColor: BAND, borderColor: BAND, borderWidth: 0 });
  });

  var shading = {  // firing periods, painted under the lines
    id: "firing-bands",
    beforeDatasetsDraw: function (chart) {
      var area = chart.chartArea, scale = chart.scales.x, context = chart.ctx;
      context.save();
      context.fillStyle = BAND;
      data.bands.forEach(function (band) {
        var left = Math.max(area.left, scale.getPixelForValue(xs[band.first] - 0.5));
        var right = Math.min(area.right, scale.getPixelForValue(xs[band.last] + 0.5));
        if (right > left) { context.fillRect(left, area.top, right - left, area.bottom - area.top); }
      });
      context.restore();
    }
  };
  var number = function (v) {
    return Number(v).toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) >= 100 ? 1 : 2 });
  };
  new Chart(canvas, {
    type: "line",
    data: { datasets: datasets },
    plugins: [shading],
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: {
          type: "linear",
          min: first - pad,
          max: last + pad,
          afterBuildTicks: function (scale) {  // whole periods only: no repeated labels
            scale.ticks = scale.ticks.filter(function (t) { return Number.isInteger(t.value); });
          },
          ticks: { callback: tick, maxRotation: 0, autoSkipPadding: 12 }
        },
        y: { grace: "5%", ticks: { callback: number } }  // lines at the extremes stay visible
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 18 } },
        tooltip: {
          filter: function (item) { return item.datasetIndex <= data.measured.length; },
          callbacks: {
            title: function (items) {
              return items.length ? data.periods[atX[items[0].parsed.x]] || "" : "";
            },
            label: function (item) { return item.dataset.label + ": " + number(item.parsed.y); }
          }
        }
      }
    }
  });
  canvas.setAttribute("data-rendered", String(data.values.length));
  canvas.setAttribute("data-ticks", JSON.stringify(
    Chart.getChart(canvas).scales.x.ticks.map(function (t) { return tick(t.value); })));
})();
