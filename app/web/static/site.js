// The only script: a form marked data-once disables its submit button after the first submit,
// so a double click does not send the same request twice (the server is idempotent anyway).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-once")) return;
  var buttons = form.querySelectorAll("button[type=submit]");
  setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
});
