// Keyboard use of result lists: from an input with data-list-keys="#container", ArrowDown moves
// into the container's .result-link elements, ArrowUp/ArrowDown move between them, Escape
// returns to the input, Enter follows the focused link (native behaviour).
"use strict";

document.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp" && event.key !== "Escape") return;
  const active = document.activeElement;
  const input = active && active.dataset && active.dataset.listKeys ? active
    : document.querySelector("[data-list-keys]");
  if (!input) return;
  const container = document.querySelector(input.dataset.listKeys);
  if (!container) return;
  const links = Array.from(container.querySelectorAll(".result-link"));
  const index = links.indexOf(active);
  if (event.key === "Escape" && index >= 0) {
    input.focus();
    event.preventDefault();
  } else if (event.key === "ArrowDown" && links.length && (active === input || index >= 0)) {
    links[Math.min(index + 1, links.length - 1)].focus();
    event.preventDefault();
  } else if (event.key === "ArrowUp" && index >= 0) {
    (index === 0 ? input : links[index - 1]).focus();
    event.preventDefault();
  }
});
