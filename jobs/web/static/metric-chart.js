// Draws a metric's series with Chart.js from the JSON the page embeds (#chart-data):
// the values by period, revised values as triangles, rule thresholds as dashed lines.
(function () {
  "use strict";
  var canvas = document.getElementById("series-chart");
  var source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#c0392b", "#8e44ad", "#d35400", "#16a085"];
  var datasets = [{
    label: data.label,
    data: data.values,
    borderColor: "#1f5fa8",
    backgroundColor: "#1f5fa8",
    borderWidth: 2,
    tension: 0,
    pointStyle: data.revised.map(function (r) { return r ? "triangle" : "circle"; }),
    pointRadius: data.revised.map(function (r) { return r ? 7 : 2; }),
    pointBackgroundColor: data.revised.map(function (r) { return r ? "#e67e22" : "#1f5fa8"; })
  }];
  data.thresholds.forEach(function (threshold, index) {
    datasets.push({
      label: threshold.label,
      data: data.labels.map(function () { return threshold.value; }),
      borderColor: palette[index % palette.length],
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false
    });
  });
  new Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets: datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { ticks: { callback: function (v) { return Number(v).toLocaleString("en-US"); } } } },
      plugins: { legend: { position: "bottom" } }
    }
  });
  canvas.setAttribute("data-rendered", String(data.values.length));
})();
