/* Draws every chart of a page: an element <div class="chart" data-spec="ID"> whose Vega-Lite spec is in
   <script type="application/json" id="ID"> (Django's json_script); also after htmx swaps content in.
   The vendored Vega, Vega-Lite and vega-embed (half a megabyte) are loaded only when a page has a chart;
   their addresses are on this script's tag. When drawn, the element gets data-drawn="true" (the
   end-to-end tests wait for it); if it cannot be drawn, its data-error text is shown instead. */
(function () {
  "use strict";
  var me = document.currentScript;
  var libraries = ["data-vega", "data-vega-lite", "data-vega-embed"].map(function (a) { return me.getAttribute(a); });
  var loading = null;
  /* Russian number format: decimal comma, no-break space between thousands */
  var RU_FORMAT = { decimal: ",", thousands: "\u00a0", grouping: [3], currency: ["", "\u00a0₽"] };

  function load() {
    if (loading) { return loading; }
    loading = libraries.reduce(function (previous, src) {
      return previous.then(function () {
        return new Promise(function (resolve, reject) {
          var s = document.createElement("script");
          s.src = src; s.onload = resolve; s.onerror = reject;
          document.head.appendChild(s);
        });
      });
    }, Promise.resolve());
    return loading;
  }

  function fail(el) {
    el.setAttribute("data-drawn", "error");
    el.textContent = el.getAttribute("data-error");
  }

  function draw(root) {
    var pending = (root || document).querySelectorAll(".chart[data-spec]:not([data-drawn])");
    if (!pending.length) { return; }
    load().then(function () {
      pending.forEach(function (el) {
        var source = document.getElementById(el.getAttribute("data-spec"));
        if (!source) { return fail(el); }
        el.setAttribute("data-drawn", "pending");
        vegaEmbed(el, JSON.parse(source.textContent), { actions: false, renderer: "svg", formatLocale: RU_FORMAT })
          .then(function () { el.setAttribute("data-drawn", "true"); })
          .catch(function () { fail(el); });
      });
    }, function () { pending.forEach(fail); });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
