/* Apply a frame delta (courseware/lab/delta.py documents the ops). Returns the new value;
   the old one is not modified, so a renderer may compare old and new by reference. */
(function (global) {
  "use strict";
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
      return src.slice(op.s, end).concat(op.a);
    }
    throw new Error("unknown delta op " + Object.keys(op).join(","));
  }
  global.applyDelta = applyDelta;
})(window);
