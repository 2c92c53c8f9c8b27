// mamori dashboard: keyboard shortcuts between sections (p posture, s speed, a attacks,
// f findings, h sharing). Progressive enhancement: every page works without this script.
(function () {
  "use strict";
  var keys = { p: "/", s: "/speed", a: "/attacks", f: "/findings", h: "/sharing" };
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) { return; }
    var path = keys[event.key];
    if (!path) { return; }
    var link = document.querySelector('nav a[href="' + path + '"]');
    if (link) { event.preventDefault(); window.location.assign(path); }
  });
})();
