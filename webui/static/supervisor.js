// Supervisor live view: queues, agents and calls from the event stream; interventions.
"use strict";
(() => {
  const { t, api, show, stream, since, now, el, dialLink } = window.ccbox;
  const root = document.getElementById("live");
  if (!root) return;
  const control = root.dataset.control === "1";
  const queues = new Map();
  const agents = new Map();
  const calls = new Map();
  let reasons = [];

  const pct = (v) => (v === null || v === undefined ? "-" : `${Math.round(v * 100)}%`);

  function button(label, onClick, cls) {
    const b = el("button", { type: "button", textContent: t(label), class: cls || "" });
    b.addEventListener("click", onClick);
    return b;
  }

  function supervise(cmd, data) {
    api(`/api/v1/supervise/${cmd}`, data).then(() => show(t("Done."))).catch(() => {});
  }

  function agentState(agent, state) {
    const data = { state };
    if (state === "notReady") data.reason = document.getElementById("reason").value;
    api(`/api/v1/agents/${encodeURIComponent(agent)}/state`, data).then(() => show(t("Done."))).catch(() => {});
  }

  function render() {
    const qBody = document.querySelector("#queues tbody");
    qBody.replaceChildren(...[...queues.values()].map((q) => {
      const s = q.stats || {};
      return el("tr", { "data-queue": q.queue },
        el("td", {}, q.queue), el("td", { class: "waiting" }, String(q.waiting || 0)),
        el("td", { class: "longest" }, q.oldest ? since(q.oldest) : "-"),
        el("td", {}, String(s.offered ?? 0)), el("td", {}, String(s.answered ?? 0)),
        el("td", {}, String(s.abandoned ?? 0)), el("td", { class: "sl" }, pct(s.service_level)));
    }));
    const aBody = document.querySelector("#agents tbody");
    aBody.replaceChildren(...[...agents.values()].map((a) => {
      const actions = el("td", { class: "actions" });
      if (control) {
        const target = a.agent;
        actions.append(
          button("Listen", () => supervise("MonitorStart", { target, mode: "listen" })),
          button("Whisper", () => supervise("MonitorStart", { target, mode: "whisper" })),
          button("Barge", () => supervise("MonitorStart", { target, mode: "barge" })),
          button("Stop", () => supervise("MonitorStop", {})),
          button("Force release", () => supervise("ForceRelease", { target }), "danger"),
          button("Force transfer", () => supervise("ForceTransfer", { target, to: document.getElementById("force-to").value.trim() })),
          button("Ready", () => agentState(a.agent, "ready")),
          button("Not ready", () => agentState(a.agent, "notReady")),
          button("Log out", () => agentState(a.agent, "logout")));
      }
      return el("tr", { "data-agent": a.agent, "data-state": a.state },
        el("td", {}, a.agent), el("td", {}, a.name || ""), el("td", {}, a.device || ""),
        el("td", { class: `state ${a.state}` }, t(a.state) + (a.reason ? ` (${t(a.reason)})` : "")),
        el("td", { class: "since" }, since(a.since)),
        el("td", { class: "caller" }, dialLink(a.caller)), el("td", {}, a.queue || ""), actions);
    }));
    const cBody = document.querySelector("#calls tbody");
    cBody.replaceChildren(...[...calls.values()].map((c) => el("tr", { "data-call": c.call },
      el("td", { class: "caller" }, dialLink(c.caller)), el("td", {}, c.called || ""),
      el("td", { class: "state" }, t(c.state || "")), el("td", {}, c.queue || ""),
      el("td", {}, c.agent || ""), el("td", {}, since(c.start)))));
    document.getElementById("call-count").textContent = String(calls.size);
    root.dataset.rendered = String(Date.now());
  }

  function onSnapshot(snap) {
    queues.clear(); agents.clear(); calls.clear();
    for (const q of snap.queues || []) queues.set(q.queue, q);
    for (const a of snap.agents || []) agents.set(a.agent, a);
    for (const c of snap.calls || []) {
      calls.set(c.id || c.call, { call: c.id || c.call, caller: c.caller, called: c.called,
        state: c.state, queue: c.queue, agent: c.agent, start: c.start || (now() - (c.age || 0)) });
    }
    reasons = snap.reasons || [];
    const sel = document.getElementById("reason");
    if (sel) sel.replaceChildren(...reasons.map((r) => el("option", { value: r, textContent: t(r) })));
    render();
  }

  function onEvent(ev, name) {
    if (name === "QueueChanged") {
      const q = queues.get(ev.queue) || { queue: ev.queue };
      q.waiting = ev.waiting; q.oldest = ev.oldest; queues.set(ev.queue, q);
    } else if (name === "QueueStatistics") {
      const q = queues.get(ev.queue);
      if (q) q.stats = ev;
    } else if (name === "AgentState") {
      const a = agents.get(ev.agent) || { agent: ev.agent };
      Object.assign(a, ev); agents.set(ev.agent, a);
    } else if (ev.call) {
      let c = calls.get(ev.call);
      if (name === "CallCleared") { calls.delete(ev.call); render(); return; }
      if (!c) { c = { call: ev.call, caller: ev.caller, called: ev.called, start: ev.time, state: "setup" }; calls.set(ev.call, c); }
      if (ev.queue) c.queue = ev.queue;
      if (ev.agent) c.agent = ev.agent;
      if (name === "Queued") c.state = "queued";
      if (name === "Delivered") c.state = "ringing";
      if (name === "Established" || name === "Retrieved") c.state = "up";
      if (name === "Held") c.state = "held";
    }
    render();
  }

  stream({ snapshot: onSnapshot, "*": onEvent });
  setInterval(render, 1000);
})();
