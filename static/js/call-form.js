// The return-visit call's outcome form: the client's answers (scores, recommend, course,
// complaint, next call) are asked only when the client was reached, and the complaint's category
// and severity only when a complaint is raised. Hidden parts are also disabled, so what was typed
// before the outcome changed is not sent. Without this script everything shows, and the server
// refuses answers for a client who was not reached.
"use strict";

function updateCallForm(form) {
  const outcome = form.querySelector("input[name='outcome']:checked");
  const reached = outcome !== null && outcome.value === "reached";
  form.querySelectorAll("[data-reached-only]").forEach((part) => {
    part.hidden = !reached;
    part.disabled = !reached;
  });
  const complaint = form.querySelector("input[name='raise_complaint']");
  const raising = reached && complaint !== null && complaint.checked;
  form.querySelectorAll("[data-complaint-only]").forEach((part) => {
    part.hidden = !raising;
    part.querySelectorAll("select, input, textarea").forEach((field) => {
      field.disabled = !raising;
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-call-form]").forEach(updateCallForm);
});

document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-call-form]");
  if (form) updateCallForm(form);
});
