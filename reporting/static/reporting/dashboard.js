/* 统计看板: draws the charts from the page's JSON data block (id "dashboard-data") with
   ECharts (served from the project). Every bar and point links to the cases it counts; each
   chart can be downloaded as SVG or PNG. No inline script: the page's CSP allows none. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var months = data.months.map(function (m) { return m.month.slice(5) + "月"; });
  var colors = ["#417690", "#79aec8", "#e0a030", "#ba2121", "#5b8c5a", "#8a6bb8"];

  function series(name, metric, type, extra) {
    return Object.assign({
      name: name, type: type,
      data: data.months.map(function (m) {
        return { value: m.values[metric], link: m.links[metric] };
      })
    }, extra || {});
  }
  function pct(v) { return v === null ? null : Math.round(v * 1000) / 10; }

  var options = {
    volume: {
      legend: {}, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "件", minInterval: 1 },
      series: [
        series(data.metrics.received, "received", "bar"),
        series(data.metrics.concluded, "concluded", "bar"),
        series(data.metrics.open, "open", "line")
      ]
    },
    ontime: {
      legend: {}, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: months },
      yAxis: [{ type: "value", name: "%", max: 100, min: 0 }, { type: "value", name: "件", minInterval: 1 }],
      series: [
        { name: "按时办结率", type: "line", connectNulls: false,
          data: data.months.map(function (m) { return { value: pct(m.on_time_rate), link: m.links.on_time }; }) },
        series(data.metrics.overdue, "overdue", "bar", { yAxisIndex: 1, itemStyle: { color: "#ba2121" } })
      ]
    },
    days: {
      legend: {}, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "工作日", minInterval: 1 },
      series: [
        { name: "中位数", type: "line",
          data: data.months.map(function (m) { return { value: m.median_days, link: m.links.concluded }; }) },
        { name: "第90百分位", type: "line",
          data: data.months.map(function (m) { return { value: m.p90_days, link: m.links.concluded }; }) }
      ]
    },
    mix: {
      tooltip: {}, grid: { left: 150 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.mix.map(function (g) { return g.label; }) },
      series: [{ name: "办结件数", type: "bar",
        data: data.mix.map(function (g) { return { value: g.count, link: g.link }; }) }]
    },
    handlers: {
      legend: {}, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.handlers.map(function (h) { return h.name; }) },
      yAxis: { type: "value", name: "件", minInterval: 1 },
      series: ["concluded", "on_time", "open", "overdue"].map(function (key) {
        return { name: data.metrics[key], type: "bar",
          data: data.handlers.map(function (h) { return { value: h[key], link: h.links[key] }; }) };
      })
    }
  };

  function download(name, href) {
    var a = document.createElement("a");
    a.href = href; a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
  }
  function svgToPng(svg, width, height, done) {
    var img = new Image();
    img.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = width * 2; canvas.height = height * 2;
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      done(canvas.toDataURL("image/png"));
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  }

  document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
    var key = el.getAttribute("data-chart");
    var option = options[key];
    if (!option) { return; }
    option.color = colors;
    option.animation = false;
    option.title = { text: "", show: false };
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    chart.on("click", function (params) {
      if (params.data && params.data.link) { window.location.href = params.data.link; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    var tools = document.createElement("div");
    tools.className = "chart-downloads";
    var name = (data.title + " " + el.getAttribute("aria-label")).replace(/[\\/:*?"<>|\s]+/g, "_");
    [["SVG", "svg"], ["PNG", "png"]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button"; button.className = "button"; button.textContent = "下载 " + pair[0];
      button.setAttribute("data-download", pair[1]);
      button.addEventListener("click", function () {
        var svg = chart.renderToSVGString();
        if (pair[1] === "svg") {
          download(name + ".svg", "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg));
        } else {
          svgToPng(svg, el.clientWidth, el.clientHeight, function (url) { download(name + ".png", url); });
        }
      });
      tools.appendChild(button);
    });
    el.parentNode.insertBefore(tools, el);
  });
}());
