// Small progressive enhancements for the console. Every screen works without this file.
(function () {
  "use strict";

  var modal = function () { return document.getElementById("modal"); };

  function closeDialog() {
    var container = modal();
    var dialog = container && container.querySelector("dialog");
    if (dialog && dialog.open) dialog.close();
    if (container) container.innerHTML = "";
  }

  // A dialog fragment swapped into #modal opens as a real modal dialog
  // (focus moves into it, Escape closes it, the page behind is inert).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== modal()) return;
    var dialog = modal().querySelector("dialog");
    if (!dialog) return;
    // The fragment carries `open` so that it shows without script; reopen it modally.
    dialog.removeAttribute("open");
    dialog.showModal();
    dialog.addEventListener("close", function () {
      // A close event queued by the reopening above arrives while it is open again.
      if (!dialog.open && dialog.parentNode === modal()) modal().innerHTML = "";
    });
    // Focus the first field with an error, else the field the server asks for,
    // else the first control of the dialog's body.
    var focus = dialog.querySelector("[aria-invalid=true]") || dialog.querySelector("[data-focus]") ||
      dialog.querySelector(".modal-body input:not([type=hidden]), .modal-body textarea, .modal-body select") ||
      dialog.querySelector(".modal-body button, .modal-body a[href]");
    if (focus) focus.focus();
  });

  document.addEventListener("click", function (event) {
    // Close links: a plain link back to the list without script.
    var closer = event.target.closest("#modal [data-close-dialog]");
    if (closer) {
      event.preventDefault();
      closeDialog();
      return;
    }

    // "Copy to clipboard": <button data-copy-target="element-id">.
    var button = event.target.closest("[data-copy-target]");
    if (button) {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (!source) return;
      var text = source.value !== undefined ? source.value : source.textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        var label = button.getAttribute("data-copied-label");
        if (!label) return;
        var original = button.textContent;
        button.textContent = label;
        setTimeout(function () { button.textContent = original; }, 2000);
      });
      return;
    }

    // Close any open … menu when clicking elsewhere (or on one of its items).
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target) || event.target.closest(".menu-items a")) menu.removeAttribute("open");
    });
  });

  // Escape closes an open … menu and returns focus to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.activeElement && document.activeElement.closest("details.menu[open]");
    if (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    }
  });

  // Select all rows on the page; show how many are selected.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("#bulk-form");
    if (!form) return;
    if (event.target.matches("[data-select-all]")) {
      form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = event.target.checked; });
    }
    var count = form.querySelectorAll("input[name=ids]:checked").length;
    var label = form.querySelector("[data-selection-count]");
    if (label) label.textContent = count ? count + " \u2713" : "";
  });
})();
