// System status: reload the figures every few seconds (the page is complete without JS).
(() => {
  const box = document.getElementById("system");
  if (!box) return;
  const every = Number(box.dataset.refresh || "5") * 1000;
  async function refresh() {
    try {
      const r = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
      if (r.ok) {
        const doc = new DOMParser().parseFromString(await r.text(), "text/html");
        const fresh = doc.getElementById("system");
        if (fresh) box.replaceChildren(...fresh.childNodes);
      }
    } catch (e) { /* the box may be restarting: try again next time */ }
    setTimeout(refresh, every);
  }
  setTimeout(refresh, every);
})();
