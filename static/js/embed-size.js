/* Producer Lab — lesson pages: each embedded lab tells its height (lab.js posts
   {type: "lab-embed-height"}); its <iframe> grows or shrinks to fit, so nothing is cut off
   before the timeline. Only messages from this origin count. */
(function () {
  "use strict";
  if (window.__labEmbedSizer) return;
  window.__labEmbedSizer = true;
  window.addEventListener("message", function (ev) {
    if (ev.origin !== location.origin || !ev.data || ev.data.type !== "lab-embed-height") return;
    var h = +ev.data.height;
    if (!isFinite(h) || h < 100 || h > 4000) return;
    document.querySelectorAll(".lab-embed iframe").forEach(function (f) {
      if (f.contentWindow === ev.source) { f.style.height = h + "px"; f.dataset.sized = "1"; }
    });
  });
})();
