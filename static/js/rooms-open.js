/* "Open a room" on the lab page (instructors): the room starts from the lab as it is now —
   its preset, the explicit config changes and the seed, read from the lab's last frame.
   Without JavaScript the form still opens a room from the page's preset. */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches('form[data-room-open="lab"]')) return;
    var root = document.getElementById("lab");
    var st = root && root.labDebug ? root.labDebug().state : null;
    if (!st || !st.lab) return;
    form.elements.preset.value = st.lab.preset;
    form.elements.config.value = JSON.stringify(st.lab.overrides || {});
    form.elements.seed.value = String(st.lab.seed);
  });
})();
