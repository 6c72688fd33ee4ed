// Slotline booking page on a business's own site:
//   <script src="https://book.example/embed.js" data-booking="/demo/kifisia-clinic" async></script>
// puts the page in an iframe right where the script is, and grows it with its content.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src).origin;
  var frame = document.createElement("iframe");
  var path = script.dataset.booking || "/";
  frame.src = origin + path + (path.indexOf("?") < 0 ? "?" : "&") + "embed=1";
  frame.title = script.dataset.title || "Booking";
  frame.style.cssText = "width:100%;border:0;min-height:560px;display:block";
  frame.setAttribute("loading", "lazy");
  script.parentNode.insertBefore(frame, script);
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.slotline === "height" && data.height > 0) frame.style.height = data.height + "px";
  });
})();
