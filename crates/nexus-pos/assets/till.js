// The cashier screen's few behaviours that htmx does not cover. No build step, no framework.
(function () {
  "use strict";
  // Function keys (and Enter/Escape where a button names them) press the button that shows
  // them, so a till is usable without a mouse.
  document.addEventListener("keydown", function (event) {
    var key = event.key;
    if (!/^F\d+$/.test(key) && key !== "Escape") { return; }
    var target = document.querySelector('[data-key="' + key + '"]:not([disabled])');
    if (!target) { return; }
    event.preventDefault();
    // A button in a closed panel (mobile money, card) opens the panel first: its fields
    // (phone, transaction id) come before the button.
    var panel = target.closest("details");
    if (panel && !panel.open) {
      panel.open = true;
      var first = panel.querySelector("input, select");
      if (first) { first.focus(); }
      return;
    }
    target.click();
  });
  // The on-screen keypad types into the field that last had the focus (the PIN or amount).
  var lastField = null;
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("input")) { lastField = event.target; }
  });
  document.addEventListener("click", function (event) {
    var key = event.target.getAttribute && event.target.getAttribute("data-pad");
    if (!key) { return; }
    var field = lastField || document.querySelector("#pin, #amount");
    if (!field) { return; }
    // At the caret, over any selection, as the keyboard types: the keypad and the keyboard
    // never disagree about where a digit goes.
    var start = field.selectionStart === null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd === null ? field.value.length : field.selectionEnd;
    if (key === "⌫") {
      if (start === end && start > 0) { start -= 1; }
      field.setRangeText("", start, end, "end");
    } else {
      field.setRangeText(key, start, end, "end");
    }
    field.focus();
  });
  // A barcode scanner types fast and ends with Enter: keep the scan field focused after every
  // swap, unless the cashier is typing in another field.
  function refocus() {
    var scan = document.getElementById("scan");
    var active = document.activeElement;
    if (scan && (!active || active === document.body || active.id === "scan" || !active.matches("input, select, textarea"))) {
      scan.value = "";
      scan.focus();
    }
  }
  document.addEventListener("htmx:afterSwap", refocus);
  document.addEventListener("DOMContentLoaded", refocus);
})();
