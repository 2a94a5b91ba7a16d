// Paints a metric's chart with Chart.js from the definition the page embeds (#chart-data,
// built by alerts/drawing.py, the same one the alert email and the digest paint): the
// values (revised ones as orange triangles), what each rule measures (e.g. the 7-day
// mean), its levels as dashed lines (and labelled on the y axis), firing periods shaded,
// and a legend whose swatches look like what they name. The x axis counts in the series'
// own grain (days, months, quarters, years), so ticks fall on whole periods and never
// repeat; days carry their year when they are not of this year.
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
  var levelValues = [];
  data.levels.forEach(function (level) {
    if (levelValues.indexOf(level.value) < 0) { levelValues.push(level.value); }
  });
  var atX = {};
  xs.forEach(function (x, i) { atX[x] = i; });

  function yearOf(v) { return new Date(v * 86400000).getUTCFullYear(); }

  // The year goes on the first tick and where it changes: short labels never collide.
  function tick(v, index, ticks) {
    if (data.axis === "years") { return String(v); }  // periods of mixed forms, by year
    if (data.grain === "day") {
      var day = new Date(v * 86400000);
      var text = MONTHS[day.getUTCMonth()] + " " + day.getUTCDate();
      var newYear = !index || !ticks || yearOf(ticks[index - 1].value) !== yearOf(v);
      return data.with_year && newYear ? text + ", " + day.getUTCFullYear() : text;
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
  if (data.revised.indexOf(true) >= 0) {  // a legend entry for the triangles
    datasets.push({ label: "revised value", data: [], legendStyle: "triangle",
                    borderColor: REVISED, backgroundColor: REVISED });
  }
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
    datasets.push({ label: label, data: [], legendStyle: "rect", backgroundColor: BAND,
                    borderColor: BAND, borderWidth: 0 });
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
  var levelColour = function (value) {
    var level = data.levels.filter(function (l) { return l.value === value; })[0];
    return level ? (level.resolves ? RESOLVES : FIRES) : "#5b6673";
  };
  var withLevels = function (scale) {  // each level gets its tick; nearby round ones make room
    if (!levelValues.length) { return; }
    var values = scale.ticks.map(function (t) { return t.value; });
    var step = values.length > 1 ? Math.abs(values[1] - values[0]) : 0;
    var kept = scale.ticks.filter(function (t) {
      return levelValues.every(function (v) { return Math.abs(t.value - v) >= step / 2; });
    });
    levelValues.forEach(function (v) { kept.push({ value: v }); });
    scale.ticks = kept.sort(function (a, b) { return a.value - b.value; });
  };
  // Swatches drawn like their lines: dashed levels as dashes, the shading as a box.
  var swatches = function (chart) {
    return Chart.defaults.plugins.legend.labels.generateLabels(chart).map(function (item) {
      var dataset = chart.data.datasets[item.datasetIndex];
      item.pointStyle = dataset.legendStyle || "line";
      item.lineDash = dataset.borderDash || [];  // the point style alone forgets the dash
      item.lineWidth = dataset.legendStyle ? 1 : dataset.borderWidth;
      return item;
    });
  };
  Chart.defaults.font.size = 12;  // 12 CSS pixels on a phone too
  Chart.defaults.color = "#3d4854";
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
        y: {
          grace: "5%",  // lines at the extremes stay visible
          afterBuildTicks: withLevels,
          // a few round ticks, so that every level's tick is drawn (none skipped for room)
          ticks: {
            callback: number, maxTicksLimit: 6, autoSkip: false,
            color: function (context) { return levelColour(context.tick.value); }
          }
        }
      },
      plugins: {
        legend: {
          position: "bottom",
          labels: { usePointStyle: true, pointStyleWidth: 28, boxHeight: 8, generateLabels: swatches }
        },
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
    Chart.getChart(canvas).scales.x.ticks.map(function (t, i, all) { return tick(t.value, i, all); })));
})();
