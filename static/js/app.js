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
