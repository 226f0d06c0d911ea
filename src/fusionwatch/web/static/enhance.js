// Progressive enhancement only: every page works without this file.
// Hides a follow-up question until the answer it depends on (data-show-when="fact=a|b") is given,
// and moves focus to an error summary so keyboard and screen-reader users hear it first.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-show-when]").forEach(function (followUp) {
    var rule = followUp.getAttribute("data-show-when").split("=");
    var wanted = rule[1].split("|");
    var inputs = document.querySelectorAll('input[name="' + rule[0] + '"]');
    if (!inputs.length) { return; }
    var filled = function () {
      return Array.prototype.some.call(followUp.querySelectorAll("input"), function (i) {
        return i.type === "radio" ? i.checked && i.value : i.value;
      });
    };
    var update = function () {
      var chosen = Array.prototype.filter.call(inputs, function (i) {
        return i.type !== "radio" || i.checked;
      }).map(function (i) { return i.value; });
      var relevant = chosen.some(function (v) { return wanted.indexOf(v) !== -1; });
      followUp.hidden = !(relevant || filled());
    };
    inputs.forEach(function (i) { i.addEventListener("change", update); });
    update();
  });
})();
