// Shared by the live pages (desk, supervisor, wallboard): the event stream, CTI commands
// with the CSRF token, translations handed over by the page, small formatting helpers.
"use strict";
window.ccbox = (() => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") : "";
  const i18nEl = document.getElementById("i18n");
  const strings = i18nEl ? JSON.parse(i18nEl.textContent) : {};
  let clockOffset = 0; // server time - local time, from the snapshot

  function t(key, vars) {
    let s = strings[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
    return s;
  }

  function show(message, isError) {
    const el = document.getElementById("message");
    if (!el) return;
    el.textContent = message;
    el.hidden = !message;
    el.className = isError ? "error" : "notice";
  }

  async function api(path, data) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data || {}),
    });
    let body = {};
    try { body = await r.json(); } catch (e) { body = { error: r.statusText }; }
    if (!r.ok || body.ok === false) {
      show(body.error || r.statusText, true);
      throw new Error(body.error || r.statusText);
    }
    return body;
  }

  function now() { return Date.now() / 1000 + clockOffset; }

  function since(t0) {
    if (!t0) return "";
    let s = Math.max(0, Math.floor(now() - t0));
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const two = (n) => String(n).padStart(2, "0");
    return (h ? `${h}:` : "") + `${two(m)}:${two(s)}`;
  }

  // One EventSource; `handlers[name](data)` per event. The browser reconnects by itself
  // (retry: 2000) and a fresh snapshot comes first each time.
  function stream(handlers) {
    const es = new EventSource("/api/v1/events");
    const names = new Set([...Object.keys(handlers), "snapshot", "signedout"]);
    for (const name of names) {
      es.addEventListener(name, (ev) => {
        const data = JSON.parse(ev.data);
        if (name === "snapshot") {
          clockOffset = (data.time || Date.now() / 1000) - Date.now() / 1000;
          show("");
        }
        if (name === "signedout") { es.close(); window.location.reload(); return; }
        const fn = handlers[name] || handlers["*"];
        if (fn) fn(data, name);
        document.body.dataset.lastEvent = name;
      });
    }
    if (handlers["*"]) {
      for (const name of ["Delivered", "Established", "Held", "Retrieved", "ConnectionCleared",
        "CallCleared", "Transferred", "Conferenced", "Offered", "Queued", "Dequeued",
        "QueueChanged", "QueueStatistics", "AgentState", "Diverted", "MonitorChanged",
        "ConsultationStarted"]) {
        if (!names.has(name)) {
          es.addEventListener(name, (ev) => { handlers["*"](JSON.parse(ev.data), name); });
        }
      }
    }
    es.onerror = () => { show(t("Connection to the box lost; retrying…"), true); };
    return es;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c === null || c === undefined ? "" : c);
    return e;
  }

  function dialLink(number) {
    if (!number) return "";
    return el("a", { href: "#", class: "dial", "data-number": number, textContent: number });
  }

  // Click to dial from any number on the page marked class="dial" data-number.
  document.addEventListener("click", (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest("a.dial[data-number]") : null;
    if (!a) return;
    ev.preventDefault();
    const number = a.getAttribute("data-number");
    api("/api/v1/cti/MakeCall", { to: number })
      .then(() => show(t("Calling {number}…", { number })))
      .catch(() => {});
  });

  return { t, api, show, stream, since, now, el, dialLink };
})();
