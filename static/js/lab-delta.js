/* Apply a frame delta (courseware/lab/delta.py documents the ops). Returns the new value;
   the old one is not modified, so a renderer may compare old and new by reference. */
(function (global) {
  "use strict";
  function rows(op) {  // a table: keys once, one row of values per item
    var keys = op.h;
    return op.r.map(function (row) {
      var item = {};
      for (var j = 0; j < keys.length; j++) item[keys[j]] = row[j];
      return item;
    });
  }
  function applyDelta(old, op) {
    if (op === null || op === undefined) return old;
    if ("=" in op) return op["="];
    if ("d" in op) {
      var out = Object.assign({}, old || {});
      (op.x || []).forEach(function (k) { delete out[k]; });
      Object.keys(op.d).forEach(function (k) { out[k] = applyDelta(out[k], op.d[k]); });
      return out;
    }
    if ("i" in op) {
      var list = (old || []).slice();
      Object.keys(op.i).forEach(function (k) { list[+k] = applyDelta(list[+k], op.i[k]); });
      return list;
    }
    if ("k" in op) {
      var byId = {};
      (old || []).forEach(function (item) { byId[String(item.id)] = item; });
      return op.k.map(function (id) {
        var key = String(id);
        return Object.prototype.hasOwnProperty.call(op.u, key) ? op.u[key] : byId[key];
      });
    }
    if ("s" in op) {
      var src = old || [];
      var end = "c" in op ? op.s + op.c : src.length;
      var kept = src.slice(op.s, end);
      if (op.p) {
        Object.keys(op.p).forEach(function (k) { kept[+k] = applyDelta(kept[+k], op.p[k]); });
      }
      return kept.concat("h" in op ? rows(op) : op.a);
    }
    if ("h" in op) return rows(op);
    throw new Error("unknown delta op " + Object.keys(op).join(","));
  }
  global.applyDelta = applyDelta;
})(window);
