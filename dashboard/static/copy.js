// Copy buttons (the station token page): a button[data-copy] copies the text of the element whose id
// it names. navigator.clipboard first; where it is missing or refused (plain HTTP on a LAN address is
// no secure context), the text is selected for Ctrl+C. Without JavaScript the buttons stay hidden and
// the text is selectable as it is. Loaded from a file: the CSP forbids inline scripts.
(function () {
  "use strict";
  var status = document.querySelector(".copy-status");

  function say(text) {
    if (status) { status.textContent = text; }
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent;
    var fallback = function () {
      select(source);
      say(button.getAttribute("data-select"));
    };
    if (!navigator.clipboard || !window.isSecureContext) { fallback(); return; }
    navigator.clipboard.writeText(text).then(function () {
      say(button.getAttribute("data-copied"));
    }, fallback);
  }

  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
  }
}());
