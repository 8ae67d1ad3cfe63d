// Light JS only: a confirm() before destructive buttons. Pages work without it.
document.addEventListener("click", (ev) => {
  const el = ev.target instanceof Element ? ev.target.closest("[data-confirm]") : null;
  if (el && !window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
});
