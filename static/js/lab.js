/* Producer Lab — the live lab in the browser.
   Speaks docs/PROTOCOL.md over one WebSocket: a full frame, then deltas with rising seq
   (a gap asks for a resync); draws at most once per animation frame. No build step. */
(function () {
  "use strict";

  var root = document.getElementById("lab");
  if (!root) return;
  var MODE = root.dataset.mode || "full";
  var $ = function (id) { return document.getElementById(id); };

  // Okabe–Ito, colour-blind safe; every colour also has a text label in the UI.
  var C = {
    orange: "#E69F00", sky: "#56B4E9", green: "#009E73", yellow: "#F0E442",
    blue: "#0072B2", vermillion: "#D55E00", purple: "#CC79A7", black: "#000000",
    grey: "#8a8f98", ink: "#1b1f24", faint: "#d8dde3"
  };
  var STATE_COLOR = { open: C.sky, ready: C.orange, in_flight: C.blue, retrying: C.vermillion };
  var STATE_LABEL = { open: "open", ready: "ready", in_flight: "in flight", retrying: "retrying" };
  var REASON_COLOR = {
    full: C.green, linger: C.sky, flush: C.purple, "memory-pressure": C.vermillion,
    backlog: C.orange, close: C.grey, "retry-backoff": C.black, piggyback: C.yellow
  };

  // ---- formatting ----------------------------------------------------------------------
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmtBytes(n) {
    if (n === null || n === undefined || isNaN(n)) return "–";
    var a = Math.abs(n);
    if (a >= 1048576) return (n / 1048576).toFixed(a >= 10485760 ? 0 : 1) + " MiB";
    if (a >= 1024) return (n / 1024).toFixed(a >= 10240 ? 0 : 1) + " KiB";
    return Math.round(n) + " B";
  }
  function fmtNum(n, digits) {
    if (n === null || n === undefined || isNaN(n)) return "–";
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (n / 1e3).toFixed(1) + "k";
    if (digits === undefined) digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    return Number(n).toFixed(digits).replace(/\.0+$/, "").replace(/(\.\d*[1-9])0+$/, "$1");
  }
  function fmtMs(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "–";
    if (ms >= 60000) return (ms / 60000).toFixed(1) + " min";
    if (ms >= 10000) return (ms / 1000).toFixed(1) + " s";
    if (ms >= 1000) return (ms / 1000).toFixed(2) + " s";
    return fmtNum(ms) + " ms";
  }
  function fmtSpeed(s) { return (s >= 1 ? fmtNum(s, 1) : String(+s.toPrecision(2))) + "×"; }

  // ---- the connection ------------------------------------------------------------------
  var state = null, seq = -1, ws = null, refCounter = 0, pending = {}, retryMs = 500;
  var resyncAsked = false, lastMsgAt = 0, framesSeen = 0;

  function wsUrl() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + root.dataset.ws;
  }
  var STALE_MS = 6000, DEAD_MS = 12000, probeAt = 0, retryTimer = null;
  function connect() {
    retryTimer = null;
    setConn(framesSeen ? "reconnecting…" : "connecting…", framesSeen ? "bad" : "");
    var sock = ws = new WebSocket(wsUrl());
    lastMsgAt = Date.now(); probeAt = 0;
    sock.onopen = function () { if (sock === ws) { retryMs = 500; setConn("live", "ok"); } };
    sock.onmessage = function (ev) {
      if (sock !== ws) return;
      lastMsgAt = Date.now(); probeAt = 0;
      onMessage(JSON.parse(ev.data));
    };
    sock.onclose = function (ev) { if (sock === ws) retry(ev.code, "disconnected"); };
  }
  function retry(code, why) {
    if (retryTimer) return;
    // commands in flight on the lost socket will not be answered: say so to whoever waits
    Object.keys(pending).forEach(function (ref) {
      var cb = pending[ref]; delete pending[ref];
      cb({ type: "error", ref: +ref, code: "disconnected", message: "the connection was lost; try again" });
    });
    if (code === 4401 || code === 4429 || code === 4400) retryMs = Math.max(retryMs, 5000);
    var wait = retryMs * (0.8 + 0.4 * Math.random());  // jitter: a classroom does not reconnect in step
    setConn(why + " — reconnecting in " + Math.max(1, Math.round(wait / 1000)) + " s…", "bad");
    retryTimer = setTimeout(connect, wait);
    retryMs = Math.min(retryMs * 2, 15000);
  }
  // An open socket can go quiet for good (the server was restarted or stopped, a laptop slept,
  // a proxy dropped the stream). A paused lab is quiet too, so silence alone proves nothing:
  // after STALE_MS without a message ask with a ping; when even that brings nothing by
  // DEAD_MS, drop the socket and reconnect (with backoff); the new socket gets a full frame.
  setInterval(function () {
    if (!ws || retryTimer || ws.readyState > 1) return;
    var quiet = Date.now() - lastMsgAt;  // since the last message, or since connect() began
    if (ws.readyState === 1 && quiet > STALE_MS && !probeAt) {
      probeAt = Date.now(); ws.send('{"type":"ping","ref":"alive"}');
    } else if (quiet > DEAD_MS && (probeAt || ws.readyState === 0)) {  // a hung handshake too
      var old = ws; ws = null;
      try { old.close(); } catch (e) { /* already closing */ }
      retry(0, "no frames for " + Math.round(quiet / 1000) + " s");
    }
  }, 1000);
  function send(msg, onReply) {
    if (!ws || ws.readyState !== 1) { toast("not connected yet", "bad"); return; }
    msg.ref = ++refCounter;
    if (onReply) pending[msg.ref] = onReply;
    ws.send(JSON.stringify(msg));
  }
  function setConn(text, cls) {
    var el = $("conn"); if (!el) return;
    el.textContent = text; el.className = "conn " + cls;
  }
  setInterval(function () { if (ws && ws.readyState === 1) ws.send('{"type":"ping"}'); }, 20000);

  function onMessage(msg) {
    if (msg.type === "frame") {
      state = msg.state; seq = msg.seq; resyncAsked = false; framesSeen++;
      onRun(state, true);
      scheduleRender();
    } else if (msg.type === "delta") {
      if (state === null || msg.seq <= seq) return;
      if (msg.seq !== seq + 1) {
        if (!resyncAsked) { resyncAsked = true; send({ type: "resync", have: seq }); }
        return;
      }
      state = window.applyDelta(state, msg.op); seq = msg.seq; framesSeen++;
      onRun(state, false);
      scheduleRender();
    } else if (msg.type === "ack" || msg.type === "error") {
      var cb = pending[msg.ref]; delete pending[msg.ref];
      if (cb) cb(msg);
      if (msg.type === "error") toast(msg.message, "bad", msg.code === "capacity" ? 12000 : 6000);
    }
    // other messages (a room's "room", "forked"…) are for whoever embeds the lab
    root.dispatchEvent(new CustomEvent("lab:message", { detail: msg }));
  }
  root.labSend = send;
  root.labDebug = function () {
    var ri = METRICS.findIndex(function (m) { return m.inst; });
    return { seq: seq, frames: framesSeen, state: state, run: hist.run, drawn: drawn,
      rate: series && series[ri] ? { t: series.t.slice(), kafka: series[ri][0].slice(), now: series[ri][1].slice() } : null };
  };

  // ---- render loop ---------------------------------------------------------------------
  var renderQueued = false, lastRendered = null;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () { renderQueued = false; render(); });
  }
  function render() {
    if (!state) return;
    var s = state, prev = lastRendered || {};
    if (s.lab !== prev.lab || s.now_ms !== prev.now_ms) renderToolbar(s);
    if (s.partitions !== prev.partitions || s.cluster !== prev.cluster) renderQueues(s);
    if (s.pool !== prev.pool || s.app !== prev.app) renderPool(s);
    if (s.inflight !== prev.inflight) renderSender(s);
    if (s.lab !== prev.lab || s.producer !== prev.producer) renderCalls(s);
    if (s.cluster !== prev.cluster) renderCluster(s);
    if (s.config !== prev.config || s.notes !== prev.notes || s.warnings !== prev.warnings || s.lab !== prev.lab) renderConfig(s);
    historyAdd(s);
    drawTimeline();
    if ($("metrics") && (s.metrics !== prev.metrics || s.app !== prev.app)) renderMetrics(s);
    if (s.timeline !== prev.timeline || s.lab !== prev.lab) renderEvents(s);
    lastRendered = s;
    root.dataset.seq = seq;
    root.dataset.now = s.now_ms;
  }

  // ---- toolbar -------------------------------------------------------------------------
  function renderToolbar(s) {
    var lab = s.lab || {};
    $("now").textContent = fmtMs(s.now_ms);
    var btn = $("btn-pause");
    btn.textContent = lab.paused ? "Resume" : "Pause";
    btn.classList.toggle("paused", !!lab.paused);
    var eff = $("eff");
    if (lab.paused) { eff.textContent = "paused"; eff.className = "badge paused"; }
    else if (lab.behind) {
      eff.textContent = "running at " + fmtSpeed(lab.effective_speed);
      eff.title = "You asked for " + fmtSpeed(lab.speed) + ": the engine cannot keep up, so the lab runs slower instead of stalling.";
      eff.className = "badge warn";
    } else { eff.textContent = "running " + fmtSpeed(lab.speed); eff.title = "Speed the engine really achieves"; eff.className = "badge ok"; }
    var sp = $("speed");
    if (sp && document.activeElement !== sp) {
      var best = null;
      Array.prototype.forEach.call(sp.options, function (o) {
        if (best === null || Math.abs(Math.log(+o.value / lab.speed)) < Math.abs(Math.log(+best.value / lab.speed))) best = o;
      });
      if (best) sp.value = best.value;
    }
    var seed = $("seed");
    if (seed && document.activeElement !== seed) seed.value = lab.seed;
    var pr = $("preset");
    if (pr && document.activeElement !== pr && lab.preset && presetPending === null) pr.value = lab.preset;
    if (ws && ws.readyState === 1 && lab.fps !== undefined) setConn(fmtNum(lab.fps, 0) + " fps", "ok");
    var banner = $("banner");
    if (banner) {
      var text = "";
      if (lab.last_step) {
        var st = lab.last_step, ev = (st.recent || []).map(function (e) { return e.text; }).join(" · ");
        text = "Step: " + st.events + " event" + (st.events === 1 ? "" : "s") + " in " + st.engine_steps +
          " engine step" + (st.engine_steps === 1 ? "" : "s") + ", t " + st.from_ms + " → " + st.to_ms + " ms" + (ev ? " — " + ev : "");
      }
      banner.hidden = !text; banner.textContent = text;
    }
  }

  // ---- partition queues ----------------------------------------------------------------
  function renderQueues(s) {
    var el = $("queues"); if (!el) return;
    var parts = s.partitions || [];
    if (!parts.length) { el.innerHTML = '<p class="empty">no partitions</p>'; return; }
    var html = [], isr = {};
    ((s.cluster || {}).partitions || []).forEach(function (cp) { isr[cp.topic + "-" + cp.partition] = cp; });
    parts.forEach(function (p) {
      var cp = isr[p.topic + "-" + p.partition] || {};
      var under = cp.isr && cp.replicas && cp.isr.length < cp.replicas.length;
      var boxes = (p.queue || []).map(function (b) {
        var cap = b.capacity || 1, fill = Math.max(3, Math.min(100, 100 * b.bytes / cap));
        var st = b.state || "open";
        return '<div class="batch st-' + esc(st) + '" data-state="' + esc(st) + '" title="batch ' + esc(b.id) + ": " +
          esc(b.records) + " records, " + esc(fmtBytes(b.bytes)) + " of " + esc(fmtBytes(cap)) + ", " + esc(STATE_LABEL[st] || st) +
          ", age " + esc(fmtMs(b.age_ms)) + (b.attempts ? ", attempt " + esc(b.attempts) : "") + '">' +
          '<div class="fill" style="width:' + fill.toFixed(1) + '%"></div>' +
          '<span class="n">' + esc(fmtNum(b.records)) + '</span><span class="s">' + esc(STATE_LABEL[st] || st) +
          (b.attempts > 1 ? " ↻" + esc(b.attempts - 1) : "") + "</span></div>";
      }).join("");
      if (p.more) boxes += '<div class="more">+' + esc(p.more) + " more</div>";
      if (!boxes) boxes = '<div class="idle">empty</div>';
      html.push('<div class="qrow' + (p.muted ? " muted" : "") + '" data-tp="' + esc(p.topic + "-" + p.partition) + '">' +
        '<div class="qlabel"><b>' + esc(p.topic) + "-" + esc(p.partition) + "</b><small>leader " +
        (p.leader === null || p.leader === undefined ? '<span class="warn-text">none</span>' : "b" + esc(p.leader)) +
        (cp.isr ? ' · ISR <span class="' + (under ? "warn-text" : "") + '">' + esc(cp.isr.join(",")) + "</span>" : "") +
        (p.muted ? " · muted" : "") + "</small></div>" +
        '<div class="qboxes">' + boxes + "</div>" +
        '<div class="qnums"><b>' + esc(fmtNum(p.queued_records)) + "</b> rec<br>" + esc(fmtBytes(p.queued_bytes)) + "</div></div>");
    });
    el.innerHTML = html.join("");
  }

  // ---- buffer pool ---------------------------------------------------------------------
  function renderPool(s) {
    var el = $("pool"); if (!el) return;
    var p = s.pool || {}, app = s.app || {};
    var total = p.total || 1;
    var free = p.free_list_bytes || 0;
    var used = p.used !== undefined ? p.used : total - (p.available || 0);
    var inBatches = Math.max(0, used);
    var unalloc = Math.max(0, (p.available || 0) - free);
    function pct(x) { return (100 * x / total).toFixed(2) + "%"; }
    var waiting = p.waiters || 0;
    el.innerHTML =
      '<div class="poolbar" role="img" aria-label="buffer pool usage">' +
      '<div class="seg used" style="width:' + pct(inBatches) + '"></div>' +
      '<div class="seg free" style="width:' + pct(free) + '"></div>' +
      '<div class="seg avail" style="width:' + pct(unalloc) + '"></div></div>' +
      '<dl class="kv">' +
      '<div><dt><span class="sw used"></span>in batches</dt><dd>' + fmtBytes(inBatches) + " <small>(" + (100 * inBatches / total).toFixed(1) + "%)</small></dd></div>" +
      '<div><dt><span class="sw free"></span>free list</dt><dd>' + fmtNum(p.free_list_count || 0) + " × buffers, " + fmtBytes(free) + "</dd></div>" +
      '<div><dt><span class="sw avail"></span>available</dt><dd>' + fmtBytes(p.available) + " of " + fmtBytes(total) + "</dd></div>" +
      '<div class="' + (waiting ? "alarm" : "") + '"><dt>threads waiting</dt><dd>' + fmtNum(waiting, 0) +
      (app.threads ? " of " + fmtNum(app.threads, 0) : "") + "</dd></div>" +
      '<div class="' + (waiting ? "alarm" : "") + '" title="summed over every thread, waits still going on included"><dt>time blocked</dt><dd>' + fmtMs(p.blocked_ms_total || 0) +
      (waiting ? " <small>(longest now " + fmtMs(p.longest_wait_ms || 0) + ")</small>" : "") + "</dd></div>" +
      '<div class="' + (p.exhausted_total ? "alarm" : "") + '"><dt>BufferExhausted</dt><dd>' + fmtNum(p.exhausted_total || 0, 0) + "</dd></div>" +
      "</dl>";
  }

  // ---- sender --------------------------------------------------------------------------
  function renderSender(s) {
    var el = $("sender"); if (!el) return;
    var rows = (s.inflight || []).map(function (b) {
      var slots = "";
      for (var i = 0; i < (b.max || 0); i++) slots += '<span class="slot' + (i < b.count ? " on" : "") + '"></span>';
      var recs = (b.requests || []).reduce(function (a, r) { return a + (r.records || 0); }, 0);
      return '<div class="irow" data-broker="' + esc(b.broker) + '"><b>b' + esc(b.broker) + '</b><span class="slots">' + slots +
        '</span><span class="num"><b>' + esc(b.count) + "</b> / " + esc(b.max) + "</span><small>" + (recs ? fmtNum(recs) + " rec" : "") + "</small></div>";
    });
    el.innerHTML = rows.join("") || '<p class="empty">no brokers</p>';
  }

  // ---- producer calls and interceptors ----------------------------------------------
  function renderCalls(s) {
    var lab = s.lab || {}, note = $("producer-notice"), closed = !!(s.producer || {}).closed;
    if (note) note.textContent = lab.notice || (closed ? "The producer is closed: Reset for a new one." : "");
    var bf = $("btn-flush"), bc = $("btn-close");
    if (bf) bf.disabled = closed; if (bc) bc.disabled = closed;
    var el = $("interceptors"); if (!el) return;
    var ics = lab.interceptors || [];
    el.hidden = !ics.length;
    el.innerHTML = ics.map(function (i) {
      return '<div class="icpt" data-interceptor="' + esc(i.name) + '"><b>' + esc(i.name) + "</b>" +
        (i.on_send !== undefined ? '<span>on_send <b class="n-send">' + esc(fmtNum(i.on_send, 0)) + "</b></span>" : "") +
        (i.on_acknowledgement !== undefined ? '<span>on_acknowledgement <b class="n-ack">' + esc(fmtNum(i.on_acknowledgement, 0)) + "</b>" +
          (i.failed ? ' <small class="warn-text">(' + esc(fmtNum(i.failed, 0)) + " failed)</small>" : "") + "</span>" : "") +
        (i.header ? "<span>adds header <code>" + esc(i.header) + "</code></span>" : "") +
        (i.chain_errors ? '<span class="warn-text">' + esc(i.chain_errors) + " swallowed errors</span>" : "") + "</div>";
    }).join("") + (ics.length ? '<p class="fine">on_send runs inside send() on the application\'s threads; on_acknowledgement on the Sender\'s thread, once per record — it trails by what is queued or in flight.</p>' : "");
  }

  // ---- cluster -------------------------------------------------------------------------
  function renderCluster(s) {
    var cl = s.cluster || {}, el = $("brokers");
    var leads = {};
    (cl.partitions || []).forEach(function (p) { if (p.leader !== null && p.leader !== undefined) leads[p.leader] = (leads[p.leader] || 0) + 1; });
    if (el) {
      el.innerHTML = (cl.brokers || []).map(function (b) {
        var st = !b.up ? "down" : b.reachable === false ? "cut" : "up";
        var label = { up: "UP", down: "DOWN", cut: "UNREACHABLE" }[st];
        var extra = [];
        if (cl.controller === b.id) extra.push("controller");
        extra.push("leads " + (leads[b.id] || 0));
        if (b.extra_latency_ms) extra.push("+" + b.extra_latency_ms + " ms");
        if (b.fail_next) extra.push("fails next " + b.fail_next + (b.fail_error ? " (" + b.fail_error + ")" : ""));
        return '<div class="broker b-' + st + '" data-broker="' + esc(b.id) + '" data-up="' + (b.up ? "1" : "0") + '"><div class="bhead"><b>b' + esc(b.id) +
          '</b><span class="bstate">' + label + '</span></div><small>' + esc(extra.join(" · ")) + "</small>" +
          (MODE === "full" ? '<button type="button" class="btn tiny" data-fault="' + (b.up ? "stop_broker" : "start_broker") + '" data-broker="' + esc(b.id) + '">' + (b.up ? "Stop" : "Start") + "</button>" : "") +
          "</div>";
      }).join("");
    }
    var lel = $("leaders");
    if (lel) {
      var rows = (cl.partitions || []).map(function (p) {
        var isr = (p.isr || []).join(",");
        var under = (p.isr || []).length < (p.replicas || []).length;
        return "<tr" + (p.leader === null || p.leader === undefined ? ' class="noleader"' : "") + "><td>" + esc(p.topic) + "-" + esc(p.partition) + "</td><td>" +
          (p.leader === null || p.leader === undefined ? "<b>none</b>" : "b" + esc(p.leader)) + "</td><td" + (under ? ' class="warn-text"' : "") + ">" + esc(isr) +
          (under ? " ↓" : "") + "</td><td>" + esc(p.epoch) + "</td><td>" + esc(fmtNum(p.log_end_offset)) + "</td></tr>";
      }).join("");
      lel.innerHTML = '<table class="ptable"><thead><tr><th>partition</th><th>leader</th><th>ISR</th><th>epoch</th><th>log end</th></tr></thead><tbody>' +
        rows + "</tbody></table>" + '<p class="fine">min.insync.replicas ' + esc(cl.min_insync_replicas) + " · leader election after " + esc(fmtMs(cl.election_delay_ms)) + "</p>";
    }
    // keep the fault forms' pickers in step with the cluster
    document.querySelectorAll(".broker-select").forEach(function (sel) {
      var v = sel.value, ids = (cl.brokers || []).map(function (b) { return String(b.id); });
      if (sel.dataset.ids !== ids.join(",")) {
        sel.innerHTML = ids.map(function (i) { return '<option value="' + i + '">broker ' + i + "</option>"; }).join("");
        sel.dataset.ids = ids.join(",");
        if (ids.indexOf(v) >= 0) sel.value = v;
      }
    });
    document.querySelectorAll(".tp-select").forEach(function (sel) {
      var tps = (cl.partitions || []).map(function (p) { return p.topic + ":" + p.partition; });
      if (sel.dataset.ids !== tps.join(",")) {
        var v = sel.value;
        sel.innerHTML = tps.map(function (t) { var a = t.split(":"); return '<option value="' + esc(t) + '">' + esc(a[0]) + "-" + esc(a[1]) + "</option>"; }).join("");
        sel.dataset.ids = tps.join(",");
        if (tps.indexOf(v) >= 0) sel.value = v;
      }
    });
    slowNote();
  }

  // Where the slow-broker fault is applied: which partitions this broker follows, whose
  // acks=all requests will wait for it too.
  function slowNote() {
    var el = $("slow-note"), form = $("fault-slow"); if (!el || !form || !state) return;
    var b = +form.elements.broker.value, cl = state.cluster || {}, acks = String((state.config || {}).acks);
    if (isNaN(b) || form.elements.broker.value === "") { el.textContent = ""; return; }
    var leads = [], follows = [];
    (cl.partitions || []).forEach(function (p) {
      var name = p.topic + "-" + p.partition;
      if (p.leader === b) leads.push(name); else if ((p.isr || []).indexOf(b) >= 0) follows.push(name);
    });
    var all = acks === "all" || acks === "-1";
    el.textContent = "Broker " + b + " leads " + (leads.join(", ") || "nothing") + " and is an in-sync follower of " + (follows.join(", ") || "nothing") + ". " +
      (all ? "With acks=all (now) requests to all of these wait for it." : "With acks=" + acks + " (now) only the partitions it leads slow down.");
  }
  document.addEventListener("change", function (e) { if (e.target.closest && e.target.closest("#fault-slow")) slowNote(); });

  // ---- config panel --------------------------------------------------------------------
  var dirty = {};
  function renderConfig(s) {
    var cfg = s.config || {}, overrides = (s.lab || {}).overrides || {};
    document.querySelectorAll("#config-form .cfg-field").forEach(function (f) {
      var key = f.dataset.key, input = f.querySelector("input,select");
      if (!input) return;
      var val = cfg[key];
      var text = val === true ? "true" : val === false ? "false" : val === null || val === undefined ? "" : (key === "acks" && val === -1 ? "all" : String(val));
      if (!dirty[key] && document.activeElement !== input) input.value = text;
      var changed = text !== input.dataset.default;
      var mark = f.querySelector(".changed");
      if (mark) { mark.hidden = !changed; mark.textContent = key in overrides ? "changed by you" : "preset"; }
      f.classList.toggle("is-changed", changed);
    });
    var notes = $("config-notes");
    if (notes) notes.innerHTML = (s.warnings || []).map(function (w) { return '<p class="warning" role="alert">⚠ ' + esc(w) + "</p>"; }).join("") +
      (s.notes || []).map(function (n) { return '<p class="note">' + esc(n) + "</p>"; }).join("");
    var exp = $("export");
    if (exp) {
      var q = Object.keys(cfg).filter(function (k) { var v = cfg[k]; return v !== null && v !== "" && !(Array.isArray(v) && !v.length) && typeof v !== "object"; })
        .map(function (k) { var v = cfg[k]; if (k === "acks" && v === -1) v = "all"; return encodeURIComponent(k) + "=" + encodeURIComponent(String(v)); }).join("&");
      exp.href = "/export/?" + q;
    }
  }
  var cfgForm = $("config-form");
  if (cfgForm) {
    cfgForm.addEventListener("input", function (e) { if (e.target.name) dirty[e.target.name] = true; });
    cfgForm.addEventListener("change", function (e) { if (e.target.name) dirty[e.target.name] = true; });
    cfgForm.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!state) return;
      var set = {};
      Object.keys(dirty).forEach(function (k) {
        var input = cfgForm.querySelector('[name="' + k + '"]');
        if (input && input.value.trim() !== "") set[k] = input.value.trim();
      });
      var extraKey = $("cfg-extra-key"), extraVal = $("cfg-extra-value");
      if (extraKey && extraKey.value.trim()) set[extraKey.value.trim()] = extraVal ? extraVal.value.trim() : "";
      if (!Object.keys(set).length) { status("config-status", "nothing changed", ""); return; }
      status("config-status", "applying…", "");
      send({ type: "config", set: set }, function (reply) {
        var warned = reply.type === "ack" && reply.result && (reply.result.warnings || []).length;
        if (warned) { dirty = {}; status("config-status", "applied — " + reply.result.warnings.join("; "), "warn"); }
        else if (reply.type === "ack") { dirty = {}; status("config-status", "applied " + Object.keys(set).join(", "), "ok"); }
        else status("config-status", reply.message, "bad");
      });
    });
    var defaults = $("config-defaults");
    if (defaults) defaults.addEventListener("click", function () {
      var ov = Object.keys(((state || {}).lab || {}).overrides || {});
      dirty = {};
      if (!ov.length) { status("config-status", "no changes of yours to undo", ""); return; }
      send({ type: "config", unset: ov }, function (reply) {
        status("config-status", reply.type === "ack" ? "back to the preset's values" : reply.message, reply.type === "ack" ? "ok" : "bad");
      });
    });
  }
  function status(id, text, cls) { var el = $(id); if (el) { el.textContent = text; el.className = "form-status " + cls; } }

  // ---- workload ------------------------------------------------------------------------
  var wlForm = $("workload-form"), wlFilled = false;
  function fillWorkload() {
    if (!wlForm || !state || wlFilled) return;
    var wl = (state.workload_spec || ((state.lab || {}).workload)) || null;
    if (!wl) return;
    wlFilled = true;
    ["rate", "value_bytes", "threads", "data", "pattern", "topic", "partitions"].forEach(function (k) {
      if (wl[k] !== undefined && wl[k] !== null && wlForm.elements[k]) wlForm.elements[k].value = wl[k];
    });
    var keys = String(wl.keys || "none").split(":");
    wlForm.elements.keys_mode.value = keys[0];
    if (keys[1]) wlForm.elements.keys_n.value = keys[1];
  }
  if (wlForm) wlForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var f = wlForm.elements, mode = f.keys_mode.value;
    var msg = { type: "workload", rate: +f.rate.value, value_bytes: +f.value_bytes.value, threads: +f.threads.value,
      keys: mode === "uniform" || mode === "zipf" ? mode + ":" + (+f.keys_n.value || 1) : mode,
      data: f.data.value, pattern: f.pattern.value, topic: f.topic.value.trim() };
    if (f.partitions.value.trim() !== "") msg.partitions = +f.partitions.value;
    status("workload-status", "applying…", "");
    send(msg, function (reply) {
      status("workload-status", reply.type === "ack" ? "applied: the lab restarted" : reply.message, reply.type === "ack" ? "ok" : "bad");
      if (reply.type === "ack") wlFilled = false;
    });
  });

  // ---- faults --------------------------------------------------------------------------
  function fault(msg, label) {
    send(msg, function (reply) { toast(reply.type === "ack" ? label : reply.message, reply.type === "ack" ? "ok" : "bad"); });
  }
  document.querySelectorAll(".fault-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var op = (e.submitter && e.submitter.value) || form.querySelector("[name=op]").value;
      var f = form.elements, msg = { type: "fault", op: op };
      if (f.broker) msg.broker = +f.broker.value;
      if (op === "slow_broker") msg.extra_ms = +f.extra_ms.value;
      if (op === "fail_next") { msg.count = +f.count.value; msg.error = f.error.value; }
      if (op === "stale_metadata") msg.duration_ms = +f.duration_ms.value;
      if (op === "elect_leader") { var tp = f.tp.value.split(":"); msg.topic = tp[0]; msg.partition = +tp[1]; }
      fault(msg, op.replace(/_/g, " ") + (msg.broker !== undefined ? " b" + msg.broker : ""));
    });
  });
  root.addEventListener("click", function (e) {
    var t = e.target.closest("[data-fault]");
    if (t) fault({ type: "fault", op: t.dataset.fault, broker: +t.dataset.broker }, t.dataset.fault.replace(/_/g, " ") + " b" + t.dataset.broker);
  });

  // ---- events log ----------------------------------------------------------------------
  function renderEvents(s) {
    var el = $("event-log"); if (!el) return;
    var evs = ((s.timeline || {}).events || []).slice(-60);
    var recent = ((s.lab || {}).recent || []);
    var lines = evs.map(function (e) { return "<li><code>" + esc(String(e.t).padStart(8)) + "</code> " + esc(e.text || e.kind) + "</li>"; });
    if ((s.lab || {}).paused && recent.length) {
      lines.push('<li class="sep">step mode — last engine events</li>');
      recent.forEach(function (e) { lines.push("<li><code>" + esc(e.text) + "</code></li>"); });
    }
    el.innerHTML = lines.join("");
  }

  // ---- timeline ------------------------------------------------------------------------
  var hist = { batches: new Map(), seen: new Map(), arrivals: [], events: [], lanes: [], laneIndex: {}, run: null, lastNow: -1 };
  var tl = { follow: true, endMs: 0, windowMs: 200, auto: true };
  // What the last drawTimeline() put on the canvas (tests read it through labDebug()).
  var drawn = { batches: [], ticks: [], labels: [], start: 0, end: 0 };
  function historyReset(s) {
    hist.batches = new Map(); hist.seen = new Map(); hist.arrivals = []; hist.events = []; hist.lastArrival = -1; hist.lastEvent = -1;
    hist.resetAt = s.now_ms; hist.run = (s.lab || {}).run; hist.lastNow = s.now_ms;
    tl.follow = true; tl.endMs = s.now_ms;
    rateReset();
    fillWorkloadSoon();
  }
  // A preset switch, reset or workload change restarts the run at t = 0 (lab.run rises):
  // nothing drawn of the previous run may stay. A full frame of the same run (a resync)
  // keeps the history; time going backwards means another run too (a restarted server).
  function onRun(s, full) {
    var run = (s.lab || {}).run;
    if (hist.run === null || run !== hist.run || s.now_ms < hist.lastNow) historyReset(s);
    else if (full) hist.resetAt = Math.min(hist.resetAt, s.now_ms);
    hist.lastNow = s.now_ms;
  }
  function fillWorkloadSoon() { wlFilled = false; setTimeout(fillWorkload, 0); }
  function historyAdd(s) {
    var t = s.timeline || {};
    // A config change starts a new producer (generation) whose batch ids start again.
    var gen = (s.producer || {}).generation || 1;
    (t.batches || []).forEach(function (b) { var k = gen + ":" + b.id; hist.batches.set(k, b); hist.seen.set(k, s.now_ms); });
    if (hist.batches.size > 4000) {
      var drop = hist.batches.size - 3000, it = hist.batches.keys();
      for (var i = 0; i < drop; i++) { var k2 = it.next().value; hist.batches.delete(k2); hist.seen.delete(k2); }
    }
    (t.arrivals || []).forEach(function (a) { if (a.t > hist.lastArrival || hist.lastArrival < 0) hist.arrivals.push(a); });
    if ((t.arrivals || []).length) hist.lastArrival = t.arrivals[t.arrivals.length - 1].t;
    if (hist.arrivals.length > 8000) hist.arrivals = hist.arrivals.slice(-6000);
    (t.events || []).forEach(function (e) { if (e.t > hist.lastEvent) hist.events.push(e); });
    if ((t.events || []).length) hist.lastEvent = Math.max(hist.lastEvent, t.events[t.events.length - 1].t);
    if (hist.events.length > 500) hist.events = hist.events.slice(-400);
    hist.lanes = (s.partitions || []).map(function (p) { return p.topic + "-" + p.partition; });
    hist.laneIndex = {};
    hist.lanes.forEach(function (l, i) { hist.laneIndex[l] = i; });
    if (!wlFilled) fillWorkload();
  }
  function autoWindow(s) {
    var spans = [];
    hist.batches.forEach(function (b) { if (b.acked_ms !== null && b.acked_ms !== undefined) spans.push(b.acked_ms - b.created_ms); });
    spans = spans.slice(-60).sort(function (a, b) { return a - b; });
    var med = spans.length ? spans[Math.floor(spans.length / 2)] : ((s.config || {})["linger.ms"] || 5) * 4;
    var want = Math.max(20, Math.min(60000, med * 8));
    var steps = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000];
    for (var i = 0; i < steps.length; i++) if (steps[i] >= want) { want = steps[i]; break; }
    if (Math.abs(Math.log(want / tl.windowMs)) > 0.5) tl.windowMs = want;
    return tl.windowMs;
  }
  var canvas = $("timeline"), tip = $("tl-tip"), scroll = $("tl-scroll");
  var hitboxes = [];
  // The timeline's type follows the page's when it asks (data-tl-scale="rem": the
  // projector, whose rem grows with the screen): never smaller than the lab's, at most 1.4×
  // (the lanes keep their height, so every partition still fits on one screen).
  var tlScale = { size: null, k: 1 };
  function timelineScale() {
    if (root.dataset.tlScale !== "rem") return 1;
    var size = window.innerWidth + "x" + window.innerHeight;  // rem follows the viewport
    if (tlScale.size !== size) {
      var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 14;
      tlScale = { size: size, k: Math.max(1, Math.min(1.4, rem / 14)) };
    }
    return tlScale.k;
  }
  function drawTimeline() {
    if (!canvas || !state) return;
    var s = state, dpr = window.devicePixelRatio || 1, k = timelineScale();
    var font = function (px, bold) { return (bold ? "bold " : "") + Math.round(px * k) + "px system-ui, sans-serif"; };
    var maxH = MODE === "embed" ? 130 : 260, minLane = MODE === "embed" ? 16 : 18;
    var lanes = hist.lanes, laneH = Math.max(minLane, Math.min(30, Math.floor(maxH / Math.max(1, lanes.length))));
    // two rows for the cluster events' labels in the full lab, one in an embed
    var cssW = canvas.clientWidth || 800;
    var top = (MODE === "embed" ? 18 : 30) * k, labelW = (cssW < 480 ? 72 : 92) * k, axisH = 20 * k;  // narrow: more room for time
    var cssH = top + lanes.length * laneH + axisH;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr); canvas.style.height = cssH + "px";
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    var win = tl.auto ? autoWindow(s) : tl.windowMs;
    var oldest = hist.resetAt || 0;
    hist.batches.forEach(function (b) { if (b.created_ms < oldest) oldest = b.created_ms; });
    if (tl.follow) tl.endMs = s.now_ms;
    var span = Math.max(1, s.now_ms - oldest);
    if (scroll) {
      if (tl.follow) scroll.value = 1000;
      scroll.disabled = span <= win;
    }
    // The window never starts before t = 0: early in a run it fills from the left.
    var end = Math.max(tl.endMs, win), start = end - win, plotW = cssW - labelW - 8;
    var x = function (t) { return labelW + (t - start) / win * plotW; };
    ctx.font = font(12); ctx.textBaseline = "middle";
    hitboxes = [];
    drawn = { batches: [], ticks: [], labels: [], start: start, end: end, run: hist.run };
    // lanes
    lanes.forEach(function (l, i) {
      var y = top + i * laneH;
      ctx.fillStyle = i % 2 ? "#f6f8fa" : "#ffffff"; ctx.fillRect(labelW, y, plotW, laneH);
      ctx.fillStyle = C.ink; ctx.textAlign = "right"; ctx.fillText(l, labelW - 6, y + laneH / 2);
    });
    ctx.save(); ctx.beginPath(); ctx.rect(labelW, 0, plotW, cssH); ctx.clip();
    // arrivals: ticks at the top of each lane
    ctx.fillStyle = "#5a6470";
    hist.arrivals.forEach(function (a) {
      if (a.t < start || a.t > end) return;
      var li = hist.laneIndex[a.topic + "-" + a.partition]; if (li === undefined) return;
      var h = Math.min(6, 2 + Math.log2(1 + (a.n || 1)));
      ctx.fillRect(x(a.t), top + li * laneH + 1, 1, h);
    });
    // batches
    hist.batches.forEach(function (b, key) {
      // most of the history (up to 4,000 batches) is acknowledged and out of the window:
      // skip it before any other work (the same test as below, where it needs `last`)
      if (b.created_ms > end || (b.acked_ms !== null && b.acked_ms !== undefined && b.acked_ms < start)) return;
      var li = hist.laneIndex[b.topic + "-" + b.partition]; if (li === undefined) return;
      // A pending batch that dropped out of the frame's recent list is drawn up to the
      // last time the server showed it, not as if it were still in flight now.
      var seen = hist.seen.get(key), upTo = seen !== undefined ? Math.min(s.now_ms, seen) : s.now_ms;
      var closed = b.closed_ms === null || b.closed_ms === undefined ? upTo : b.closed_ms;
      var done = b.acked_ms !== null && b.acked_ms !== undefined ? b.acked_ms : null;
      var last = done !== null ? done : upTo;
      if (last < start || b.created_ms > end) return;
      var y = top + li * laneH, h1 = Math.max(7, Math.floor(laneH * 0.42));
      var x0 = x(b.created_ms), x1 = Math.max(x0 + 2, x(closed));
      var col = b.close_reason ? (REASON_COLOR[b.close_reason] || C.grey) : "#bfe3f7";
      ctx.fillStyle = col; ctx.fillRect(x0, y + 8, x1 - x0, h1);
      if (!b.close_reason) { ctx.strokeStyle = C.sky; ctx.lineWidth = 1; ctx.setLineDash([3, 2]); ctx.strokeRect(x0 + 0.5, y + 8.5, x1 - x0 - 1, h1 - 1); ctx.setLineDash([]); }
      var label = b.close_reason || "open";
      if (x1 - x0 > ctx.measureText(label).width + 6) {
        ctx.fillStyle = (b.close_reason === "linger" || b.close_reason === "piggyback" || !b.close_reason) ? C.ink : "#fff";
        ctx.textAlign = "left"; ctx.font = Math.round(Math.min(11 * k, h1 + 2)) + "px system-ui, sans-serif";  // inside the bar
        ctx.fillText(label, x0 + 3, y + 8 + h1 / 2); ctx.font = font(12);
      }
      hitboxes.push({ x0: x0, x1: Math.max(x1, done !== null ? x(done) : x1), y0: y, y1: y + laneH, b: b });
      drawn.batches.push({ key: key, id: b.id, topic: b.topic, partition: b.partition, created_ms: b.created_ms,
        closed_ms: b.closed_ms, close_reason: b.close_reason || null, acked_ms: b.acked_ms });
      var ys = y + 8 + h1 + 2, h2 = Math.max(3, laneH - h1 - 12);
      if (b.sent_ms !== null && b.sent_ms !== undefined) {
        // waiting between close and send: a thin line
        ctx.fillStyle = "#9aa4ae"; ctx.fillRect(x1, ys + h2 / 2 - 0.5, Math.max(0, x(b.sent_ms) - x1), 1);
        var sx = x(b.sent_ms), ex = x(last);
        var bad = b.outcome === "error" || b.outcome === "expired";
        ctx.fillStyle = bad ? C.vermillion : C.blue;
        ctx.fillRect(sx, ys, Math.max(2, ex - sx - 1), h2);  // 1 px gap: back-to-back requests stay distinct
        if (b.attempts > 1) { ctx.fillStyle = C.vermillion; ctx.textAlign = "left"; ctx.font = font(11, true); ctx.fillText("↻" + (b.attempts - 1), sx + 2, ys - 5); ctx.font = font(12); }
        if (bad) { ctx.fillStyle = C.vermillion; ctx.textAlign = "left"; ctx.font = font(12, true); ctx.fillText("✕ " + (b.outcome === "expired" ? "expired" : (b.error || "error")), ex + 3, ys + h2 / 2); ctx.font = font(12); }
      } else if (b.outcome === "expired" || b.outcome === "error") {
        ctx.fillStyle = C.vermillion; ctx.textAlign = "left"; ctx.font = font(12, true); ctx.fillText("✕ " + (b.outcome === "expired" ? "expired" : (b.error || "error")), x1 + 3, ys + h2 / 2); ctx.font = font(12);
      }
    });
    // cluster events: a dashed line each, labels that never overlap
    var evs = hist.events.filter(function (e) { return e.t >= start && e.t <= end; });
    evs.forEach(function (e) {
      var ex = x(e.t);
      ctx.strokeStyle = C.purple; ctx.lineWidth = 1.5; ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(ex + 0.5, top - 2); ctx.lineTo(ex + 0.5, top + lanes.length * laneH); ctx.stroke(); ctx.setLineDash([]);
    });
    ctx.font = font(11, true); ctx.fillStyle = "#7a2f63"; ctx.textAlign = "left";
    drawn.labels = placeEventLabels(evs, x, top > 18 ? 2 : 1, labelW + plotW, function (t) { return ctx.measureText(t).width; });
    drawn.labels.forEach(function (l) { ctx.fillText(l.text, l.x0, (8 + 12 * l.row) * k); });
    ctx.font = font(12);
    // "now" line
    if (s.now_ms >= start && s.now_ms <= end) {
      ctx.fillStyle = C.ink; ctx.fillRect(x(s.now_ms) - 1, top - 2, 2, lanes.length * laneH + 4);
    }
    ctx.restore();
    // axis
    var ay = top + lanes.length * laneH + 4;
    ctx.fillStyle = "#3b434c"; ctx.textAlign = "center"; ctx.textBaseline = "top"; ctx.font = font(11);
    var axis = axisTicks(start, end, plotW, function (t) { return ctx.measureText(t).width; }).filter(function (tk) {
      return x(tk.t) + ctx.measureText(tk.label).width / 2 <= cssW - 1;  // no label cut at the edge
    });
    axis.forEach(function (tk) {
      var tx = x(tk.t); ctx.fillRect(tx, ay - 3, 1, 4); ctx.fillText(tk.label, tx, ay + 2);
    });
    drawn.ticks = axis.map(function (tk) { return tk.label; });
    ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillStyle = tl.follow ? "#3b434c" : C.vermillion;
    ctx.fillText(fmtMs(win) + (tl.follow ? " · live" : " · past"), 4, 8 * k);
  }
  // Axis ticks: the smallest 1-2-5 step whose labels fit with room to spare, and a label
  // precision that follows the step, so two ticks never read the same ("18.3 s" × 7).
  function tickLabel(t, stepMs, end) {
    if (end < 1000) return String(Math.round(t)) + " ms";
    var d = stepMs >= 1000 ? 0 : stepMs >= 100 ? 1 : stepMs >= 10 ? 2 : 3;
    return (t / 1000).toFixed(d) + " s";
  }
  function axisTicks(start, end, plotW, measure) {
    var win = end - start, steps = [];
    for (var p = 1; p <= 1e7; p *= 10) steps.push(p, 2 * p, 5 * p);
    for (var i = 0; i < steps.length; i++) {
      var st = steps[i];
      if (win / st > 12) continue;
      var widest = Math.max(measure(tickLabel(end, st, end)), measure(tickLabel(start, st, end)));
      if (st / win * plotW < widest + 16) continue;
      var out = [];
      for (var t = Math.ceil(start / st) * st; t <= end; t += st) out.push({ t: t, label: tickLabel(t, st, end) });
      return out;
    }
    return [];
  }
  // Labels of the cluster events, left to right on ``rows`` rows: an event whose label has
  // no room is counted into the label before it ("+3 more") instead of drawn on top of it.
  function placeEventLabels(evs, x, rows, right, measure) {
    var free = [], placed = [], reserve = measure(" +99 more");
    for (var r = 0; r < rows; r++) free.push(-Infinity);
    evs.slice().sort(function (a, b) { return a.t - b.t; }).forEach(function (e) {
      var x0 = x(e.t) + 3, text = e.text || e.kind, row = -1;
      for (var k = 0; k < rows; k++) if (free[k] <= x0) { row = k; break; }
      if (row < 0 && placed.length) {
        var last = placed[placed.length - 1];
        last.more++; last.text = last.base + " +" + last.more + " more";
        last.x1 = last.x0 + measure(last.text);
        return;
      }
      if (row < 0) row = 0;
      var w = Math.min(measure(text), Math.max(40, right - x0));
      placed.push({ x0: x0, x1: x0 + w, row: row, text: text, base: text, more: 0, t: e.t });
      free[row] = x0 + w + reserve + 6;
    });
    return placed;
  }
  if (canvas) {
    canvas.addEventListener("mousemove", function (e) {
      var r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
      var hit = null;
      for (var i = hitboxes.length - 1; i >= 0; i--) { var h = hitboxes[i]; if (mx >= h.x0 && mx <= h.x1 + 2 && my >= h.y0 && my <= h.y1) { hit = h.b; break; } }
      if (!hit) { tip.hidden = true; return; }
      tip.hidden = false;
      tip.style.left = Math.min(mx + 12, canvas.clientWidth - 260) + "px"; tip.style.top = (my + 12) + "px";
      tip.innerHTML = "<b>batch " + esc(hit.id) + "</b> · " + esc(hit.topic) + "-" + esc(hit.partition) + "<br>" + esc(hit.records) + " records, " +
        esc(fmtBytes(hit.bytes)) + (hit.compressed_bytes ? " → " + esc(fmtBytes(hit.compressed_bytes)) + " compressed" : "") +
        "<br>created " + esc(hit.created_ms) + " ms · closed " + esc(hit.closed_ms === null ? "–" : hit.closed_ms + " ms") + " (" + esc(hit.close_reason || "open") + ")" +
        "<br>sent " + esc(hit.sent_ms === null ? "–" : hit.sent_ms + " ms") + " · acked " + esc(hit.acked_ms === null ? "–" : hit.acked_ms + " ms") +
        "<br>attempts " + esc(hit.attempts) + " · " + esc(hit.outcome || "pending") + (hit.error ? " · " + esc(hit.error) : "") +
        (hit.base_offset !== null && hit.base_offset !== undefined ? " · offset " + esc(hit.base_offset) : "");
    });
    canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
    canvas.addEventListener("wheel", function (e) {
      if (!state) return;
      e.preventDefault();
      tl.follow = false;
      tl.endMs = Math.min(state.now_ms, tl.endMs + (e.deltaY + e.deltaX) / 400 * tl.windowMs);
      if (tl.endMs >= state.now_ms) tl.follow = true;
      syncScroll(); drawTimeline();
    }, { passive: false });
  }
  function syncScroll() {
    if (!scroll || !state) return;
    var oldest = hist.resetAt || 0;
    hist.batches.forEach(function (b) { if (b.created_ms < oldest) oldest = b.created_ms; });
    var span = Math.max(1, state.now_ms - oldest);
    scroll.value = Math.round(1000 * (tl.endMs - oldest) / span);
  }
  if (scroll) scroll.addEventListener("input", function () {
    if (!state) return;
    var oldest = hist.resetAt || 0;
    hist.batches.forEach(function (b) { if (b.created_ms < oldest) oldest = b.created_ms; });
    var span = Math.max(1, state.now_ms - oldest);
    tl.endMs = oldest + span * (+scroll.value / 1000);
    tl.endMs = Math.max(tl.endMs, oldest + Math.min(span, tl.windowMs));
    tl.follow = +scroll.value >= 1000;
    drawTimeline();
  });
  var liveBtn = $("tl-live");
  if (liveBtn) liveBtn.addEventListener("click", function () { tl.follow = true; drawTimeline(); });
  var winSel = $("tl-window");
  if (winSel) winSel.addEventListener("change", function () {
    tl.auto = winSel.value === "auto";
    if (!tl.auto) tl.windowMs = +winSel.value;
    drawTimeline();
  });
  window.addEventListener("resize", function () { drawTimeline(); });

  // ---- metrics -------------------------------------------------------------------------
  var METRICS = [
    { key: "record-send-rate", inst: true, label: "record-send-rate / records/s now", unit: "/s", wide: true,
      hint: "record-send-rate is Kafka's windowed rate: two 30 s samples, so it reads low for the first 30 s of a producer " +
        "and again after every config change (a new producer). The second line counts the records arriving now, across reconfigurations." },
    { key: "batch-size-avg", label: "batch-size-avg", fmt: fmtBytes },
    { key: "records-per-request-avg", label: "records-per-request-avg" },
    { key: "record-queue-time-avg", label: "record-queue-time-avg", fmt: fmtMs },
    { key: "request-latency-avg", label: "request-latency-avg", fmt: fmtMs },
    { key: "compression-rate-avg", label: "compression-rate-avg", digits: 3, hint: "compressed ÷ uncompressed: lower is better" },
    { keys: ["send-latency-p50", "send-latency-p95", "send-latency-p99"], label: "send latency p50 / p95 / p99", fmt: fmtMs, wide: true, hint: "send() → ack, per record (Kafka has no such metric)" },
    { app: "send_block_ms_avg", app2: "send_block_ms_p99", label: "app: send() blocked avg / p99", fmt: fmtMs, wide: true, hint: "time the application thread waits in send() for buffer memory, over the sends that returned; threads still blocked are shown under the figures" },
    { key: "buffer-available-bytes", label: "buffer-available-bytes", fmt: fmtBytes },
    { key: "bufferpool-wait-ratio", label: "bufferpool-wait-ratio", digits: 3 },
    { key: "requests-in-flight", label: "requests-in-flight" },
    { key: "record-retry-rate", label: "record-retry-rate", unit: "/s" },
    { key: "record-error-rate", label: "record-error-rate", unit: "/s" },
    { key: "waiting-threads", label: "waiting-threads" },
    { key: "record-send-total", label: "record-send-total" },
    { key: "buffer-exhausted-total", label: "buffer-exhausted-total" }
  ];
  // What each metric really computes (producer_core.metrics.METRIC_HELP), for the tiles.
  var METRIC_HELP = {};
  try { var mh = document.getElementById("metric-help"); if (mh) METRIC_HELP = JSON.parse(mh.textContent) || {}; } catch (e) { METRIC_HELP = {}; }
  var SERIES_COLORS = [C.blue, C.orange, C.vermillion];
  var series = { t: [] }, plots = [], metricsBuilt = false, lastMetricT = -1, lastPlotDraw = 0;
  function metricValues(m, s) {
    var mv = s.metrics || {}, app = s.app || {};
    if (m.keys) return m.keys.map(function (k) { return mv[k]; });
    if (m.inst) return [mv[m.key], instantRate(s)];
    if (m.app) return [app[m.app], app[m.app2]];
    return [mv[m.key]];
  }
  function buildMetrics() {
    var el = $("metrics"); if (!el) return;
    el.innerHTML = METRICS.map(function (m, i) {
      var help = m.key && METRIC_HELP[m.key] ? METRIC_HELP[m.key] + (m.hint ? " — " + m.hint : "") : (m.hint || "");
      return '<div class="metric' + (m.wide ? " wide" : "") + '" data-metric="' + esc(m.key || m.label) + '" title="' + esc(help) + '">' +
        '<div class="mname">' + esc(m.label) + '</div><div class="mval" id="mval-' + i + '">–</div><div class="spark" id="spark-' + i + '"></div>' +
        (m.inst ? '<div class="mnote" id="warmup"></div>' : "") + "</div>";
    }).join("");
    plots = METRICS.map(function (m, i) {
      var n = m.keys ? 3 : m.app || m.inst ? 2 : 1, holder = $("spark-" + i);
      var opts = {
        width: Math.max(120, holder.clientWidth || 150), height: 38, legend: { show: false }, cursor: { show: false },
        scales: { x: { time: false } }, axes: [{ show: false }, { show: false }],
        series: [{}].concat(Array.apply(null, Array(n)).map(function (_, k) { return { stroke: SERIES_COLORS[k], width: 1.5, points: { show: false } }; }))
      };
      series[i] = Array.apply(null, Array(n)).map(function () { return []; });
      return window.uPlot ? new window.uPlot(opts, [[]].concat(series[i]), holder) : null;
    });
    metricsBuilt = true;
  }
  function renderMetrics(s) {
    if (!metricsBuilt) buildMetrics();
    METRICS.forEach(function (m, i) {
      var vals = metricValues(m, s), el = $("mval-" + i);
      var f = m.fmt || function (v) { return fmtNum(v, m.digits) + (m.unit || ""); };
      if (el) el.innerHTML = vals.map(function (v, k) { return '<span style="border-bottom:3px solid ' + SERIES_COLORS[k] + '">' + esc(f(v)) + "</span>"; }).join(" / ") +
        (m.app && (s.pool || {}).waiters ? '<div class="mnow alarm">' + esc(fmtNum(s.pool.waiters, 0) + " blocked now, longest " + fmtMs(s.pool.longest_wait_ms || 0)) + "</div>" : "");
    });
    renderWarmup(s);
    if (s.now_ms === lastMetricT) return;
    if (s.now_ms < lastMetricT) rateReset();
    lastMetricT = s.now_ms;
    series.t.push(s.now_ms / 1000);
    METRICS.forEach(function (m, i) {
      var vals = metricValues(m, s);
      series[i].forEach(function (arr, k) { arr.push(vals[k] === undefined || vals[k] === null ? null : +vals[k]); });
    });
    var MAXP = 240;
    if (series.t.length > MAXP) { series.t.splice(0, series.t.length - MAXP); METRICS.forEach(function (m, i) { series[i].forEach(function (arr) { arr.splice(0, arr.length - MAXP); }); }); }
    var nowWall = performance.now();
    if (nowWall - lastPlotDraw < 200) return; // sparklines at 5 Hz are plenty
    lastPlotDraw = nowWall;
    plots.forEach(function (p, i) { if (p) p.setData([series.t.slice()].concat(series[i].map(function (a) { return a.slice(); }))); });
  }

  // Records/s arriving now, from the frame's arrival buckets (records per millisecond and
  // partition, the newest few hundred of the last 2 s). The one place that reads them, so a
  // frame that carries other arrival aggregates changes only this. null: no arrivals section.
  var instCache = { arr: null, rate: null };
  function instantRate(s) {
    var arr = (s.timeline || {}).arrivals;
    if (!arr) return null;
    if (arr === instCache.arr) return instCache.rate;
    var rate = 0;
    if (arr.length) {
      // The buckets cover each partition from its oldest batch in the frame on (and only
      // the newest few hundred): count from where every partition is covered.
      var first = {}, from = 0, n = 0;
      arr.forEach(function (a) { var k = a.topic + "-" + a.partition; if (first[k] === undefined) first[k] = a.t; });
      Object.keys(first).forEach(function (k) { if (first[k] > from) from = first[k]; });
      if (arr.length >= 400) from = Math.max(from, arr[0].t + 1);  // the oldest ms may be cut
      arr.forEach(function (a) { if (a.t >= from) n += a.n || 0; });
      rate = 1000 * n / Math.max(1, s.now_ms - from + 1);
    }
    instCache = { arr: arr, rate: rate };
    return rate;
  }
  function rateReset() {
    if (typeof series === "undefined" || !series) return;
    series.t = []; lastMetricT = -1; genStart = {};
    METRICS.forEach(function (m, i) { if (series[i]) series[i] = series[i].map(function () { return []; }); });
  }
  // When did the producer now running start? Each reconfiguration builds a new one
  // (producer.generation), whose windowed rates start from nothing.
  var genStart = {};
  function renderWarmup(s) {
    var el = $("warmup"); if (!el) return;
    var gen = (s.producer || {}).generation || 1;
    if (genStart[gen] === undefined) genStart[gen] = gen === 1 ? 0 : s.now_ms;
    var age = s.now_ms - genStart[gen], warm = age < 30000;
    el.classList.toggle("warming", warm);
    el.textContent = warm
      ? "Warming up: Kafka averages over two 30 s samples, and this producer " + (gen > 1 ? "(rebuilt by your config change) " : "") +
        "is " + fmtMs(age) + " old — record-send-rate reads low until 30 s. The orange line is records/s now."
      : "Kafka's windowed rate (two 30 s samples); the orange line is records/s now and carries on across config changes.";
  }

  // ---- run controls and keyboard -------------------------------------------------------
  function togglePause() { send({ type: state && state.lab && state.lab.paused ? "resume" : "pause" }); }
  function step() { send({ type: "step" }); }
  var SPEEDS = [];
  var sp = $("speed");
  if (sp) { Array.prototype.forEach.call(sp.options, function (o) { SPEEDS.push(+o.value); }); sp.addEventListener("change", function () { send({ type: "speed", value: +sp.value }); }); }
  function nudgeSpeed(dir) {
    var cur = state && state.lab ? state.lab.speed : 1, next = cur;
    if (dir > 0) { for (var i = 0; i < SPEEDS.length; i++) if (SPEEDS[i] > cur * 1.0001) { next = SPEEDS[i]; break; } }
    else { for (var j = SPEEDS.length - 1; j >= 0; j--) if (SPEEDS[j] < cur * 0.9999) { next = SPEEDS[j]; break; } }
    if (next !== cur) send({ type: "speed", value: next });
  }
  root.addEventListener("click", function (e) {
    var t = e.target.closest("[data-action]"); if (!t) return;
    var a = t.dataset.action;
    if (a === "toggle") togglePause();
    else if (a === "step") step();
    else if (a === "reset") {
      var seed = $("seed"), msg = { type: "reset" };
      if (seed && seed.value !== "") msg.seed = +seed.value;
      send(msg, function (r) { toast(r.type === "ack" ? "reset with seed " + r.result.seed : r.message, r.type === "ack" ? "ok" : "bad"); });
    } else if (a === "help") openHelp();
    else if (a === "flush") send({ type: "flush" }, function (r) { if (r.type === "ack") toast("flush() called: " + r.result.flush.batches + " batch(es) to complete", "ok"); });
    else if (a === "close") {
      var ct = $("close-timeout"), msgc = { type: "close" };
      if (ct && ct.value !== "") msgc.timeout_ms = +ct.value;
      send(msgc, function (r) { if (r.type === "ack") toast("close(" + (msgc.timeout_ms === undefined ? "" : msgc.timeout_ms + " ms") + ") called", "ok"); });
    }
  });
  var pr = $("preset");
  var presetPending = null;
  if (pr) pr.addEventListener("change", function () {
    presetPending = pr.value;
    send({ type: "preset", id: pr.value }, function (r) {
      presetPending = null;
      // The address bar follows what the server acknowledged, not what the picker shows
      // by then (a frame of the old preset may have reset it, or another pick followed).
      if (r.type === "ack" && !root.dataset.room) {
        var id = encodeURIComponent(r.result.preset);
        history.replaceState(null, "", "/lab/?preset=" + id); root.dataset.ws = "/ws/lab/main/?preset=" + id; dirty = {};
      }
    });
  });
  function openHelp() { var d = $("help"); if (d && d.showModal) { if (d.open) d.close(); else d.showModal(); } }
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (MODE === "follow") return;  // a room's follower watches; its keys do nothing
    if (e.key === " ") { e.preventDefault(); togglePause(); }
    else if (e.key === ".") { e.preventDefault(); step(); }
    else if (e.key === "[") { e.preventDefault(); nudgeSpeed(-1); }
    else if (e.key === "]") { e.preventDefault(); nudgeSpeed(1); }
    else if (e.key === "?") { e.preventDefault(); openHelp(); }
  });
  document.querySelectorAll(".tabs .tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll(".tabs .tab").forEach(function (t) { t.classList.toggle("active", t === tab); t.setAttribute("aria-selected", t === tab ? "true" : "false"); });
      document.querySelectorAll(".tabpanel").forEach(function (p) { p.hidden = p.dataset.panel !== tab.dataset.tab; });
    });
  });

  // The jump bar (narrow screens): Config, Workload and Faults open their tab, then scroll.
  document.querySelectorAll(".lab-jump a[data-tab]").forEach(function (a) {
    a.addEventListener("click", function () {
      var tab = document.querySelector('.tabs .tab[data-tab="' + a.dataset.tab + '"]');
      if (tab) tab.click();
    });
  });

  // An embed sizes its <iframe> to its content: the lesson page listens (embed-size.js).
  if (MODE === "embed" && window.parent !== window && window.ResizeObserver) {
    var lastH = 0;
    new ResizeObserver(function () {
      var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (Math.abs(h - lastH) < 2) return;
      lastH = h;
      window.parent.postMessage({ type: "lab-embed-height", height: h }, location.origin);
    }).observe(document.body);
  }

  // ---- toasts --------------------------------------------------------------------------
  function toast(text, cls, ms) {
    var box = $("toasts"); if (!box) return;
    var el = document.createElement("div");
    el.className = "toast " + (cls || ""); el.setAttribute("role", cls === "bad" ? "alert" : "status");
    el.textContent = text; box.appendChild(el);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, ms || 3500);
  }

  connect();
})();
