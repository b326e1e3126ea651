// Exercise pages: the CodeMirror editor over the plain textarea (which stays the form field,
// so the page works without JavaScript), and the sweep's uPlot charts.
(function () {
  "use strict";

  function attachEditor() {
    var ta = document.getElementById("answer-text");
    if (!ta || ta.editorView || !window.ProducerLabEditor) return;
    var view = window.ProducerLabEditor.attach(ta, ta.dataset.lang);
    var reset = document.getElementById("reset-starter");
    var starter = document.getElementById("starter-text");
    if (reset && starter) {
      reset.hidden = false;
      reset.addEventListener("click", function () {
        if (window.confirm("Replace the editor's text with the starter file?")) {
          window.ProducerLabEditor.setDoc(view, starter.value);
        }
      });
    }
    // htmx reads the form's fields when it sends: make sure the textarea holds the doc.
    var form = document.getElementById("answer-form");
    if (form) form.addEventListener("htmx:configRequest", function () {
      ta.value = view.state.doc.toString();
    });
  }

  var COLOURS = ["#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#e0a800"];

  function chart(el, title, xs, series, xlabel, ylabel) {
    var width = Math.max(260, Math.min(el.clientWidth || 520, 640));
    var opts = {
      title: title, width: width, height: 260,
      scales: {x: {time: false}},
      axes: [{label: xlabel}, {label: ylabel, size: 70}],
      series: [{label: xlabel}].concat(series.map(function (s, i) {
        return {label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2,
                points: {show: true, size: 6}};
      })),
    };
    el.innerHTML = "";
    return new window.uPlot(opts, [xs].concat(series.map(function (s) { return s.data; })), el);
  }

  function drawSweep() {
    var data = document.getElementById("sweep-data");
    if (!data || !window.uPlot) return;
    var r = JSON.parse(data.textContent);
    var cell = {};
    r.rows.forEach(function (c) { cell[c.batch_kb + ":" + c.linger_ms] = c; });
    var tp = document.querySelector('[data-chart="throughput"]');
    var lat = document.querySelector('[data-chart="latency"]');
    if (tp && !tp.dataset.drawn) {
      chart(tp, "records/s vs batch.size", r.batch_kb, r.linger_ms.map(function (lg) {
        return {label: "linger.ms=" + lg,
                data: r.batch_kb.map(function (b) { return cell[b + ":" + lg].records_per_s; })};
      }), "batch.size (KB)", "records/s");
      tp.dataset.drawn = "1";
    }
    if (lat && !lat.dataset.drawn) {
      chart(lat, "average latency vs linger.ms", r.linger_ms, r.batch_kb.map(function (b) {
        return {label: b + " KB",
                data: r.linger_ms.map(function (lg) { return cell[b + ":" + lg].avg_latency_ms; })};
      }), "linger.ms", "ms");
      lat.dataset.drawn = "1";
    }
  }

  function init() { attachEditor(); drawSweep(); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", drawSweep);
})();
