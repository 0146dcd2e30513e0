/* llmledger dashboard: charts from server-rendered data, tree toggles, htmx glue.
   Amounts arrive as exact decimal strings; Number() is used for drawing only. */
(function () {
  "use strict";

  var PROVIDER_COLORS = {
    "Anthropic": "#d97757", "OpenAI": "#10a37f", "AWS Bedrock": "#f59e0b",
    "Google": "#4285f4"
  };
  var PALETTE = ["#2563eb", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#64748b"];
  var charts = [];

  function dollars(v) {
    var n = Number(v);
    if (Math.abs(n) >= 1e6) { return "$" + (n / 1e6).toFixed(1) + "M"; }
    if (Math.abs(n) >= 1e3) { return "$" + (n / 1e3).toFixed(0) + "k"; }
    return "$" + n.toFixed(0);
  }

  function tooltipMoney(v) {
    return "$" + Number(v).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  function trendOption(spec) {
    var spend = spec.series[0], budget = spec.series[1];
    return {
      animation: false,
      grid: {left: 56, right: 16, top: 36, bottom: 28},
      legend: {top: 0, right: 0, textStyle: {color: "#475569"}},
      tooltip: {trigger: "axis", valueFormatter: tooltipMoney},
      xAxis: {type: "category", data: spec.labels, axisTick: {show: false},
              axisLabel: {color: "#64748b"}},
      yAxis: {type: "value", axisLabel: {formatter: dollars, color: "#64748b"},
              splitLine: {lineStyle: {color: "#eef2f7"}}},
      series: [
        {name: spend.name, type: "bar", barMaxWidth: 28,
         data: spend.values.map(function (v, i) {
           var over = Number(budget.values[i]) > 0 && Number(v) > Number(budget.values[i]);
           return {value: Number(v), itemStyle: {color: over ? "#dc2626" : "#2563eb",
                                                 borderRadius: [3, 3, 0, 0]}};
         })},
        {name: budget.name, type: "line", step: "middle", symbol: "none",
         data: budget.values.map(Number),
         lineStyle: {type: "dashed", width: 2, color: "#0f172a"}, itemStyle: {color: "#0f172a"}}
      ]
    };
  }

  function stackedOption(spec) {
    return {
      animation: false,
      grid: {left: 110, right: 24, top: 36, bottom: 24},
      legend: {top: 0, textStyle: {color: "#475569"}},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: tooltipMoney},
      xAxis: {type: "value", axisLabel: {formatter: dollars, color: "#64748b"},
              splitLine: {lineStyle: {color: "#eef2f7"}}},
      yAxis: {type: "category", data: spec.labels.slice().reverse(), axisTick: {show: false},
              axisLabel: {color: "#0f172a"}},
      series: spec.series.map(function (s, i) {
        return {name: s.name, type: "bar", stack: "total", barMaxWidth: 30,
                itemStyle: {color: PROVIDER_COLORS[s.name] || PALETTE[i % PALETTE.length]},
                data: s.values.slice().reverse().map(Number)};
      })
    };
  }

  function hourlyDollars(v) {
    var n = Number(v);
    if (Math.abs(n) >= 100) { return dollars(n); }
    return "$" + (Number.isInteger(n) ? String(n) : n.toFixed(2));
  }

  /* An anomaly's evidence: the observed hourly line (the 24 hours before included), the
     anomalous hours shaded, their observed amounts in red and the expected ones dashed. */
  function anomalyOption(spec) {
    var observed = spec.observed.map(Number);
    var flagged = spec.expected.map(function (v, i) { return v === null ? null : observed[i]; });
    var first = spec.expected.findIndex(function (v) { return v !== null; });
    var last = spec.expected.length - 1 - spec.expected.slice().reverse()
      .findIndex(function (v) { return v !== null; });
    var area = first < 0 ? [] : [[{xAxis: spec.labels[first]}, {xAxis: spec.labels[last]}]];
    return {
      animation: false,
      grid: {left: 56, right: 16, top: 34, bottom: 28},
      legend: {top: 0, right: 0, textStyle: {color: "#475569"}},
      tooltip: {trigger: "axis", valueFormatter: function (v) {
        return v === null || v === undefined || isNaN(v) ? "–" : tooltipMoney(v); }},
      xAxis: {type: "category", data: spec.labels, boundaryGap: false, axisTick: {show: false},
              axisLabel: {color: "#64748b", hideOverlap: true}},
      yAxis: {type: "value", axisLabel: {formatter: hourlyDollars, color: "#64748b"},
              splitLine: {lineStyle: {color: "#eef2f7"}}},
      series: [
        {name: spec.name, type: "line", data: observed, symbol: "none",
         lineStyle: {width: 2, color: "#2563eb"}, itemStyle: {color: "#2563eb"},
         areaStyle: {color: "rgba(37, 99, 235, 0.08)"},
         markArea: {silent: true, itemStyle: {color: "rgba(220, 38, 38, 0.08)"}, data: area}},
        {name: "Observed, anomalous hours", type: "line", data: flagged, symbol: "circle",
         symbolSize: 7, lineStyle: {width: 2.5, color: "#dc2626"}, itemStyle: {color: "#dc2626"}},
        {name: "Expected", type: "line", data: spec.expected.map(function (v) {
          return v === null ? null : Number(v); }), symbol: "emptyCircle", symbolSize: 6,
         lineStyle: {type: "dashed", width: 2, color: "#0f172a"}, itemStyle: {color: "#0f172a"}}
      ]
    };
  }

  function chartOption(spec) {
    if (spec.kind === "trend") { return trendOption(spec); }
    if (spec.kind === "anomaly") { return anomalyOption(spec); }
    return stackedOption(spec);
  }

  function initCharts(root) {
    if (typeof echarts === "undefined") { return; }
    var nodes = (root || document).querySelectorAll(".chart[data-chart]");
    nodes.forEach(function (el) {
      if (el.dataset.ready || el.closest("[hidden]")) { return; }  // drawn when shown
      var spec = JSON.parse(el.dataset.chart);
      var chart = echarts.init(el, null, {renderer: "canvas"});
      chart.setOption(chartOption(spec));
      el.dataset.ready = "1";
      charts.push(chart);
    });
  }

  function setRow(row, open) {
    var button = row.querySelector("button.toggle");
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "\u25BE" : "\u25B8";
    }
  }

  function toggle(id, open) {
    var table = document.getElementById("attr-table");
    if (!table) { return; }
    table.querySelectorAll("tr[data-parent]").forEach(function (row) {
      var parent = row.dataset.parent;
      if (parent === id) {
        row.hidden = !open;
        if (!open) { setRow(row, false); }
      } else if (!open && parent.indexOf(id + "-") === 0) {
        row.hidden = true;
        setRow(row, false);
      }
    });
    var self = table.querySelector('tr[data-id="' + id + '"]');
    if (self) { setRow(self, open); }
  }

  /* /anomalies: a row opens (or closes) the row of its evidence below it. */
  function toggleAnomaly(row) {
    var detail = row.nextElementSibling;
    if (!detail || !detail.classList.contains("anomaly-detail")) { return; }
    var open = detail.hidden;
    detail.hidden = !open;
    var button = row.querySelector("button.toggle");
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "\u25BE" : "\u25B8";
    }
    if (open) { initCharts(detail); }
  }

  document.addEventListener("click", function (evt) {
    var t = evt.target;
    if (!(t instanceof Element)) { return; }
    var anomaly = t.closest("tr.anomaly-row");
    if (anomaly && !t.closest("a, input, select, textarea, form")) {
      toggleAnomaly(anomaly);
      return;
    }
    var button = t.closest("button[data-toggle]");
    if (button) {
      toggle(button.dataset.toggle, button.getAttribute("aria-expanded") !== "true");
      return;
    }
    var all = t.closest("[data-expand-all],[data-collapse-all]");
    if (all) {
      var open = all.hasAttribute("data-expand-all");
      document.querySelectorAll("#attr-table tr[data-parent]").forEach(function (row) {
        if (row.dataset.parent) { row.hidden = !open; }
        setRow(row, open);
      });
    }
  });

  document.addEventListener("htmx:afterSwap", function (evt) { initCharts(evt.target); });
  // an outerHTML swap (a changed anomaly row) replaces its target: look again from the top
  document.addEventListener("htmx:afterSettle", function () { initCharts(document); });
  document.addEventListener("htmx:responseError", function (evt) {
    var source = evt.detail.elt;
    var doc = new DOMParser().parseFromString(evt.detail.xhr.responseText || "", "text/html");
    var detail = doc.querySelector(".error-card p");
    var text = detail ? detail.textContent : "The request failed (" + evt.detail.xhr.status + ")";
    var holder = source.querySelector(".form-error");
    if (!holder) {
      holder = document.createElement("div");
      holder.className = "form-error";
      holder.setAttribute("role", "alert");
      source.appendChild(holder);
    }
    holder.textContent = text;
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
})();
