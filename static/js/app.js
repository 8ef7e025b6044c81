// Project behaviour that would otherwise be inline script (the CSP forbids inline scripts).
"use strict";

// <form data-confirm="..."> and <button data-confirm="..."> ask before anything destructive.
document.addEventListener("submit", (event) => {
  const submitter = event.submitter;
  const message = (submitter && submitter.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// <button data-set-select="#id_department" data-value="3">: choose that option in the select
// and tell it (htmx listens for "change" to reload what depends on it).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-set-select]");
  if (!button) return;
  const select = document.querySelector(button.dataset.setSelect);
  if (!select) return;
  select.value = button.dataset.value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
});
