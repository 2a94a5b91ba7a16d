// Draws a metric's series with Chart.js from the JSON the page embeds (#chart-data):
// values placed by time (decimal years from the server) when every period can be placed,
// revised values as orange triangles, rule thresholds as dashed horizontal lines, and the
// stretches in which a rule was firing as shaded bands (data.firing: x0, x1, rule).
(function () {
  "use strict";
  var canvas = document.getElementById("series-chart");
  var source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var byTime = Array.isArray(data.x);
  var xs = byTime ? data.x : data.labels.map(function (_, i) { return i; });
  var points = data.values.map(function (value, i) { return { x: xs[i], y: value }; });
  var first = xs.length ? Math.min.apply(null, xs) : 0;
  var last = xs.length ? Math.max.apply(null, xs) : 1;
  var pad = (last - first) * 0.02 || 0.5;  // keep the first and last points inside
  var palette = ["#c0392b", "#8e44ad", "#d35400", "#16a085"];
  var datasets = [{
    label: data.label,
    data: points,
    borderColor: "#0b7a75",
    backgroundColor: "#0b7a75",
    borderWidth: 2,
    tension: 0,
    pointStyle: data.revised.map(function (r) { return r ? "triangle" : "circle"; }),
    pointRadius: data.revised.map(function (r) { return r ? 8 : 3; }),
    pointBackgroundColor: data.revised.map(function (r) { return r ? "#e67e22" : "#0b7a75"; }),
    pointBorderColor: data.revised.map(function (r) { return r ? "#e67e22" : "#0b7a75"; })
  }];
  data.thresholds.forEach(function (threshold, index) {
    datasets.push({
      label: threshold.label,
      data: [{ x: first - pad, y: threshold.value }, { x: last + pad, y: threshold.value }],
      borderColor: palette[index % palette.length],
      borderDash: [6, 4],
      borderWidth: 2,
      pointRadius: 0,
      pointHitRadius: 0
    });
  });
  var number = function (v) { return Number(v).toLocaleString("en-US"); };
  var firingBands = {
    id: "firingBands",
    beforeDatasetsDraw: function (chart) {
      var area = chart.chartArea, x = chart.scales.x, ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(192, 57, 43, 0.12)";
      (data.firing || []).forEach(function (band) {
        var left = Math.max(x.getPixelForValue(band.x0), area.left);
        var right = Math.min(x.getPixelForValue(band.x1), area.right);
        if (right >= left) { ctx.fillRect(left, area.top, Math.max(right - left, 2), area.bottom - area.top); }
      });
      ctx.restore();
    }
  };
  new Chart(canvas, {
    plugins: [firingBands],
    type: "line",
    data: { datasets: datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: {
          type: "linear",
          min: first - pad,
          max: last + pad,
          ticks: {
            callback: function (v) {
              if (!byTime) { return data.labels[v] !== undefined ? data.labels[v] : ""; }
              var year = Math.floor(v);
              if (Math.abs(v - Math.round(v)) < 1e-9) { return String(Math.round(v)); }
              var month = Math.floor((v - year) * 12 + 1e-9) + 1;
              return year + "-" + (month < 10 ? "0" : "") + month;
            }
          }
        },
        y: { grace: "5%", ticks: { callback: number } }  // lines at the extremes stay visible
      },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          filter: function (item) { return item.datasetIndex === 0; },
          callbacks: {
            title: function (items) { return items.length ? data.labels[items[0].dataIndex] : ""; },
            label: function (item) { return number(item.parsed.y); }
          }
        }
      }
    }
  });
  canvas.setAttribute("data-rendered", String(points.length));
})();
