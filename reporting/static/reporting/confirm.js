// Ask before a form marked data-confirm="…" is sent (no inline handlers: the
// Content-Security-Policy allows scripts from this site's files only).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
