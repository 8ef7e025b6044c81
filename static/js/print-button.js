// <button data-print>: print the page (the CSP forbids an inline onclick). The print stylesheet
// (css/print.css) hides the navigation, the buttons and everything marked .d-print-none.
"use strict";

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
