/* Rooms: the room's own messages on top of the lab's drawing (lab.js owns the socket).
   Follower and projector: scene title, poll (answer / histogram), fork.
   Presenter: scenes, notes, polls, keyboard and clicker (PageUp/PageDown) shortcuts. */
(function () {
  "use strict";
  var root = document.getElementById("lab");
  if (!root || !root.dataset.room) return;
  var VIEW = root.dataset.view;
  var $ = function (id) { return document.getElementById(id); };
  var scenes = [];
  try { scenes = JSON.parse(($("room-scenes") || {}).textContent || "[]"); } catch (e) { scenes = []; }
  var room = { scene: null, poll: null, followers: 0 }, answered = {};

  function send(msg, cb) { if (root.labSend) root.labSend(msg, cb); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }
  function toast(text, cls) {
    var box = $("toasts"); if (!box) return;
    var el = document.createElement("div"); el.className = "toast " + (cls || ""); el.textContent = text;
    box.appendChild(el); setTimeout(function () { el.remove(); }, 5000);
  }

  root.addEventListener("lab:message", function (ev) {
    var msg = ev.detail;
    if (msg.type === "room") { Object.assign(room, msg); renderRoom(); }
    else if (msg.type === "forked") {
      var link = $("fork-link"); if (link) { link.hidden = false; link.href = msg.lab_url; }
      window.open(msg.lab_url, "_blank");
      toast("Your copy is ready at t = " + msg.t_ms + " ms: it is yours to change.", "ok");
    }
  });

  function renderRoom() {
    var f = $("room-followers"); if (f) f.textContent = room.followers;
    var sc = $("room-scene");
    if (sc && room.scene) sc.textContent = (room.scene.index + 1) + "/" + room.scene.count + " · " + room.scene.title;
    if (room.closed) { var st = $("room-status"); if (st) st.textContent = "The presenter closed this room. Fork is still yours if you made one."; }
    document.querySelectorAll("#scene-list li").forEach(function (li) {
      li.classList.toggle("current", room.scene && Number(li.dataset.index) === room.scene.index);
    });
    var notes = $("scene-notes");
    if (notes) notes.textContent = room.scene && scenes[room.scene.index] ? (scenes[room.scene.index].notes || "(no notes)") : "";
    renderPoll();
  }

  function renderPoll() {
    var box = $("room-poll"), p = room.poll; if (!box) return;
    box.hidden = !p; if (!p) return;
    $("poll-prompt").textContent = p.prompt;
    $("poll-total").textContent = p.total + " answer" + (p.total === 1 ? "" : "s");
    var ans = $("poll-answer");
    if (VIEW === "follow" && !p.revealed && !answered[p.key]) {
      ans.innerHTML = p.choices ? p.choices.map(function (c, i) {
        return '<button type="button" class="btn poll-choice" data-choice="' + i + '">' + String.fromCharCode(65 + i) + ". " + esc(c) + "</button>";
      }).join("") : '<form class="poll-number"><input id="poll-num" inputmode="decimal" aria-label="Your answer"> <button class="btn primary">Answer</button></form>';
    } else ans.innerHTML = answered[p.key] ? "<p>Answer sent.</p>" : "";
    // a follower sees the others' answers once they answered (or the answer is revealed)
    var hist = $("poll-hist");
    hist.hidden = VIEW === "follow" && !p.revealed && !answered[p.key];
    var keys = p.choices ? p.choices.slice() : Object.keys(p.counts).sort(function (a, b) { return Number(a) - Number(b); });
    var max = Math.max(1, Math.max.apply(null, keys.map(function (k) { return p.counts[k] || 0; })));
    $("poll-hist").innerHTML = keys.map(function (k, i) {
      var n = p.counts[k] || 0, right = p.revealed && String(p.answer) === String(k);
      return '<li class="' + (right ? "right" : "") + '"><span class="ph-label">' + (p.choices ? String.fromCharCode(65 + i) + ". " : "") + esc(k) + (right ? " ✓" : "") +
        '</span><span class="ph-bar" style="width:' + Math.round(100 * n / max) + '%"></span><b class="ph-n">' + n + "</b></li>";
    }).join("");
    var rv = $("poll-reveal"); rv.hidden = !p.revealed;
    if (p.revealed) rv.textContent = "Answer: " + p.answer + (p.explanation ? " — " + p.explanation : "");
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest("button"); if (!t) return;
    if (t.classList.contains("poll-choice")) {
      var p = room.poll; var choice = p.choices[Number(t.dataset.choice)];
      send({ type: "answer", choice: choice }, function (r) { if (r.type === "ack" || r.code === "already_answered") { answered[p.key] = true; renderPoll(); } });
    } else if (t.id === "btn-fork") {
      t.disabled = true; send({ type: "fork" }, function () { t.disabled = false; });
      setTimeout(function () { t.disabled = false; }, 5000);
    } else if (t.id === "btn-next") nextScene(1);
    else if (t.id === "btn-prev") nextScene(-1);
    else if (t.classList.contains("scene-go")) goScene(Number(t.parentNode.dataset.index));
    else if (t.id === "btn-poll") {
      var pick = $("poll-question"), q = pick && pick.value;
      send(q ? { type: "poll", question: q } : { type: "poll" }, report);
    }
    else if (t.id === "btn-reveal") send({ type: "reveal" }, report);
    else if (t.id === "btn-prove") send({ type: "prove" }, report);
    else if (t.id === "btn-close-room") { if (confirm("Close this room? Its code stops working.")) send({ type: "close" }, report); }
  });
  document.addEventListener("submit", function (e) {
    if (!e.target.classList.contains("poll-number")) return;
    e.preventDefault(); var p = room.poll;
    send({ type: "answer", choice: $("poll-num").value }, function (r) { if (r.type === "ack" || r.code === "already_answered") { answered[p.key] = true; renderPoll(); } });
  });
  function report(r) { if (r.type === "ack") toast(r.cmd + " ✓", "ok"); }  // lab.js shows errors
  function goScene(i) { if (i >= 0 && i < scenes.length) send({ type: "scene", index: i }, report); }
  function nextScene(d) { var cur = room.scene ? room.scene.index : -1; goScene(cur + d); }

  if (VIEW === "present") {
    document.addEventListener("keydown", function (e) {
      var tag = (e.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "select" || tag === "textarea" || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "PageDown" || e.key === "ArrowRight") { e.preventDefault(); nextScene(1); }
      else if (e.key === "PageUp" || e.key === "ArrowLeft") { e.preventDefault(); nextScene(-1); }
      else if (/^[0-9]$/.test(e.key)) {
        var st = root.labDebug().state, id = Number(e.key);
        var b = st && (st.cluster.brokers || []).filter(function (x) { return Number(x.id) === id; })[0];
        if (b) send({ type: "fault", op: b.up ? "stop_broker" : "start_broker", broker: id }, report);
      }
    });
  }
})();
