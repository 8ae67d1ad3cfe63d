// Wallboard: big figures from the event stream; announcements refreshed every 20 s.
"use strict";
(() => {
  const { t, stream, since, el } = window.ccbox;
  const queues = new Map();
  const agents = new Map();
  let totals = null;
  const $ = (id) => document.getElementById(id);
  const pct = (v) => (v === null || v === undefined ? "-" : `${Math.round(v * 100)}%`);

  function render() {
    let waiting = 0; let oldest = null;
    for (const q of queues.values()) {
      waiting += q.waiting || 0;
      if (q.oldest && (oldest === null || q.oldest < oldest)) oldest = q.oldest;
    }
    $("wb-waiting").textContent = String(waiting);
    $("wb-waiting").classList.toggle("alert", waiting > 0);
    $("wb-longest").textContent = oldest ? since(oldest) : "-";
    $("wb-sl").textContent = pct(totals && totals.service_level);
    $("wb-answered").textContent = String(totals ? totals.answered : 0);
    $("wb-abandoned").textContent = String(totals ? totals.abandoned : 0);
    const count = (s) => [...agents.values()].filter((a) => a.state === s).length;
    $("wb-ready").textContent = String(count("ready"));
    $("wb-busy").textContent = String(count("on-call") + count("ringing"));
    $("wb-wrap").textContent = String(count("wrap-up"));
    $("wb-away").textContent = String(count("not-ready"));
    $("wb-queues").tBodies[0].replaceChildren(...[...queues.values()].map((q) => el("tr", {},
      el("td", {}, q.queue), el("td", {}, String(q.waiting || 0)), el("td", {}, q.oldest ? since(q.oldest) : "-"),
      el("td", {}, pct(q.stats && q.stats.service_level)), el("td", {}, String(q.stats ? q.stats.answered : 0)),
      el("td", {}, String(q.stats ? q.stats.abandoned : 0)))));
    $("wb-agents").replaceChildren(...[...agents.values()].filter((a) => a.state !== "logged-out").map((a) =>
      el("span", { class: `agent ${a.state}` }, `${a.name || a.agent} ${t(a.state)} ${since(a.since)}`)));
    $("clock").textContent = new Date().toLocaleTimeString();
    document.body.dataset.rendered = String(Date.now());
  }

  stream({
    snapshot: (snap) => {
      queues.clear(); agents.clear();
      for (const q of snap.queues || []) queues.set(q.queue, q);
      for (const a of snap.agents || []) agents.set(a.agent, a);
      totals = snap.totals || null;
      render();
    },
    "*": (ev, name) => {
      if (name === "QueueChanged") {
        const q = queues.get(ev.queue) || { queue: ev.queue };
        q.waiting = ev.waiting; q.oldest = ev.oldest; queues.set(ev.queue, q);
      } else if (name === "QueueStatistics") {
        if (ev.queue === "*") totals = ev;
        else if (queues.has(ev.queue)) queues.get(ev.queue).stats = ev;
      } else if (name === "AgentState") {
        const a = agents.get(ev.agent) || { agent: ev.agent };
        Object.assign(a, ev); agents.set(ev.agent, a);
      }
      render();
    },
  });
  setInterval(render, 1000);
  async function announce() {
    try {
      const r = await fetch("/api/v1/wallboard");
      if (r.ok) $("wb-announcement").textContent = (await r.json()).announcement || "";
    } catch (e) { /* next time */ }
  }
  setInterval(announce, 20000);
})();
