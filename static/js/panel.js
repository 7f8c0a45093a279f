// The panel's few behaviours without a framework: the phone menu, toasts, and toasts sent by htmx answers.
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");

  function setupMenu() {
    var bar = document.querySelector(".topbar");
    var toggle = document.querySelector(".nav-toggle");
    if (!bar || !toggle) return;
    toggle.addEventListener("click", function () {
      var open = bar.toggleAttribute("data-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function dismissLater(toast) {
    var close = toast.querySelector(".toast-close");
    if (close) close.addEventListener("click", function () { toast.remove(); });
    if (!toast.classList.contains("error")) setTimeout(function () { toast.remove(); }, 7000);
  }

  function toast(level, text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast " + (level || "info");
    item.setAttribute("role", level === "error" ? "alert" : "status");
    var p = document.createElement("p");
    p.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", box.dataset.closeLabel || "Close");
    close.textContent = "×";
    item.append(p, close);
    box.append(item);
    dismissLater(item);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupMenu();
    document.querySelectorAll(".lang-switch select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll(".toast").forEach(dismissLater);
  });
  // A receipt's "Print" button (no inline script, so a strict CSP can come).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
  // A "Copy" button: `data-copy` names the field (a CSS selector) whose value it copies, and for a moment
  // it reads `data-copied-label`. The field is selected too, so copying by hand works where the clipboard
  // API is refused.
  function copied(button) {
    var label = button.textContent;
    button.textContent = button.dataset.copiedLabel || label;
    setTimeout(function () { button.textContent = label; }, 2000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    var field = button && document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); }, function () {
        if (document.execCommand("copy")) copied(button);
      });
    } else if (document.execCommand("copy")) {
      copied(button);
    }
  });
  // An htmx answer with `HX-Trigger: {"toast": {"level": "success", "text": "..."}}` shows a toast.
  document.addEventListener("toast", function (event) { toast(event.detail.level, event.detail.text); });
})();
