/*
 * The admin's amount fields (shop/euros.py, EurosInput): as the owner types, the amount is
 * shown as the shop will show it (« 320,50 € »), or the rule when it cannot be read.
 * The rule is the server's, which decides: one comma or point before one or two digits of
 * cents, thousands without separator or with spaces, nothing ambiguous (« 1,250 »).
 */
(function () {
  "use strict";

  var NBSP = "\u00a0";
  var RULE = "écrivez par exemple 320,50 ou 320.50";

  function grouped(units) {
    return units.replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  }

  // {amount: "1 250,50 €"} or {problem: "..."}, or null for an empty field.
  function read(value) {
    var text = value.trim().replace(/€$/, "").trim();
    if (text === "") {
      return null;
    }
    if (/[ \u00a0\u202f]/.test(text)) {
      if (!/^\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?$/.test(text)) {
        return { problem: "Les espaces ne séparent que les milliers : " + RULE + "." };
      }
      text = text.replace(/[ \u00a0\u202f]/g, "");
    }
    if (!/^[\d.,]+$/.test(text)) {
      return { problem: "Ce n'est pas un prix : " + RULE + "." };
    }
    if ((text.match(/[.,]/g) || []).length > 1) {
      return {
        problem: "Ambigu : une virgule ou un point, une seule fois, pour les centimes ; " +
          "rien entre les milliers (1250) ou une espace (1 250).",
      };
    }
    var match = /^(\d+)(?:[.,](\d+))?$/.exec(text);
    if (!match) {
      return { problem: "Ce n'est pas un prix : " + RULE + "." };
    }
    var units = match[1];
    var cents = match[2] || "";
    if (cents.length === 3) {
      return {
        problem: "Ambigu : " + grouped(units + cents) + NBSP + "€ ou " + units + "," +
          cents.slice(0, 2) + NBSP + "€ ? Après la virgule, deux chiffres au plus.",
      };
    }
    if (cents.length > 3) {
      return { problem: "Deux chiffres au plus après la virgule." };
    }
    cents = (cents + "00").slice(0, 2);
    return { amount: grouped(units) + "," + cents + NBSP + "€" };
  }

  function show(input, output) {
    var result = read(input.value);
    if (result && result.problem) {
      output.textContent = result.problem;
      output.setAttribute("data-invalid", "");
    } else {
      output.textContent = result ? result.amount : "";
      output.removeAttribute("data-invalid");
    }
  }

  function setUp() {
    var inputs = document.querySelectorAll("input[data-euros-input]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var output = document.querySelector('output[data-euros-preview][for="' + input.id + '"]');
      if (!output) {
        continue;
      }
      var update = show.bind(null, input, output);
      input.addEventListener("input", update);
      update();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
