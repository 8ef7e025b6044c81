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

// A live search (hx-get) inside [data-private-search] that holds a full phone or ID number posts
// instead, as the search forms do: the number must not travel in an address. The server side and
// the rule (so many digits or more, however separated) are zhongdu/private_query.py's; the server
// renders the number of digits on <body data-full-number-digits>. Without it every digit counts:
// a search that posts is always answered, an address with a full number cannot be taken back.
// \p{Nd} is any decimal digit, as Python's \d: full-width digits (１３９…, typed with a Chinese
// input method) are a number too.
const FULL_NUMBER = (() => {
  const digits = Number.parseInt(document.body.dataset.fullNumberDigits, 10) || 1;
  return new RegExp(String.raw`\p{Nd}(?:[\s\-()./]*\p{Nd}){${digits - 1},}`, "u");
})();
document.addEventListener("htmx:configRequest", (event) => {
  const detail = event.detail;
  if (detail.verb !== "get" || !detail.elt.closest("[data-private-search]")) return;
  const values = Array.from(detail.formData.values());
  if (!values.some((value) => typeof value === "string" && FULL_NUMBER.test(value))) return;
  detail.verb = "post";
  detail.useUrlParams = false;
  detail.headers["Content-Type"] = "application/x-www-form-urlencoded"; // htmx sets it for posts only
  detail.parameters["_search"] = "1";
});

// A form inside [data-swap-invalid] answered 422 comes back with its messages and what was
// typed (exams' result forms): htmx swaps no error answer unless told.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 422 && event.detail.elt.closest("[data-swap-invalid]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
