// <input type="checkbox" data-tick-all="client">: ticks or clears every checkbox named "client"
// in the same form (the archive list's bulk actions; the CSP forbids inline scripts).
"use strict";

document.addEventListener("change", (event) => {
  const master = event.target.closest("[data-tick-all]");
  if (!master || !master.form) return;
  const name = master.dataset.tickAll;
  for (const box of master.form.querySelectorAll(`input[type="checkbox"][name="${name}"]`)) {
    box.checked = master.checked;
  }
});
