/* "Your dashboard" beside the lab's metrics panel, in the replay of a graded
 * metrics-dashboard run (docs/GRADING.md, "The dashboard beside the lab").
 *
 * The page carries the learner's readings as JSON (json_script): per second of the graded
 * run, what their report() said and the engine's figure at that instant, with whether it is
 * within the exercise's tolerance — all computed by the trusted grader. As the replay's
 * virtual clock (lab.js writes it to #lab's data-now) passes a reading's instant, the panel
 * shows that reading. Everything from the learner's program is data: it is written with
 * textContent, never parsed as HTML or run.
 */
(function () {
  "use strict";
  var lab = document.getElementById("lab");
  var panel = document.getElementById("your-dashboard");
  var source = document.getElementById("your-dashboard-data");
  if (!lab || !panel || !source) return;
  var data = JSON.parse(source.textContent);
  var readings = (data.readings || []).slice().sort(function (a, b) { return a.at_ms - b.at_ms; });
  var tolerances = data.tolerances || {};
  var rowsEl = document.getElementById("dash-rows");
  var whenEl = document.getElementById("dash-when");
  var UNITS = { records_per_s: "records/s", batch_size_avg: "bytes", buffer_utilisation_pct: "%",
                latency_ms: "ms", error_rate_per_s: "errors/s" };
  var shown = null;

  function fmt(x) {
    if (x === null || x === undefined) return "—";
    if (typeof x === "number") {
      return x.toLocaleString("en", { maximumFractionDigits: Math.abs(x) >= 100 ? 1 : 3 });
    }
    return String(x);
  }

  function tolText(figure) {
    var t = tolerances[figure];
    if (!t) return "";
    return "±" + fmt(100 * t.rel) + " % or " + fmt(t.abs) + " " + (UNITS[figure] || "");
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function show(reading, now) {
    if (reading === shown) {
      return;
    }
    shown = reading;
    rowsEl.textContent = "";
    if (!reading) {
      panel.dataset.atMs = "";
      whenEl.textContent = "No reading yet: your dashboard is first read at " +
        fmt((readings[0] || { at_ms: 1000 }).at_ms / 1000) + " s.";
      return;
    }
    var ok = 0, total = 0;
    reading.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      if (row.figure === "error") {
        th.textContent = "report() raised";
        tr.appendChild(th);
        var td = cell(tr, fmt(row.yours), "dash-error");
        td.colSpan = 3;
        tr.className = "miss";
        rowsEl.appendChild(tr);
        return;
      }
      total += 1;
      if (row.ok) ok += 1;
      th.textContent = row.figure + (row.key ? " · " + row.key : "");
      var unit = document.createElement("small");
      unit.textContent = UNITS[row.figure] || "";
      th.appendChild(unit);
      tr.appendChild(th);
      cell(tr, fmt(row.yours), "num");
      cell(tr, fmt(row.engine), "num");
      var verdict = cell(tr, row.ok ? "✓ yes" : "✗ no", row.ok ? "ok" : "bad");
      verdict.title = tolText(row.figure);
      tr.className = row.ok ? "ok" : "miss";
      rowsEl.appendChild(tr);
    });
    panel.dataset.atMs = String(reading.at_ms);
    whenEl.textContent = "Reading at " + fmt(reading.at_ms / 1000) + " s of the graded run: " +
      ok + " of " + total + " figures within tolerance." +
      (reading === readings[readings.length - 1] ? " This is the reading that was graded." : "");
    panel.classList.remove("fresh");
    void panel.offsetWidth; // restart the highlight
    panel.classList.add("fresh");
  }

  function update() {
    var now = Number(lab.dataset.now);
    if (!isFinite(now)) return;
    var current = null;
    for (var i = 0; i < readings.length && readings[i].at_ms <= now; i++) current = readings[i];
    show(current, now);
  }

  new MutationObserver(update).observe(lab, { attributes: true, attributeFilter: ["data-now"] });
  update();
})();
