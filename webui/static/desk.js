// The agent desktop, live: agent state, screen pop, call controls, notes, dialling.
"use strict";
(() => {
  const { t, api, show, stream, since, now, el, dialLink } = window.ccbox;
  const desk = document.getElementById("desk");
  if (!desk) return;
  const me = { agent: desk.dataset.agent, extension: desk.dataset.extension };
  let agent = null; // the AgentState / snapshot entry of this agent
  let call = null; // {call, caller, called, state, queue}
  let notesCall = null;
  let customer = null;

  const $ = (id) => document.getElementById(id);

  function renderState() {
    const s = $("state");
    if (!s || !agent) return;
    s.textContent = t(agent.state) + (agent.reason ? ` (${t(agent.reason)})` : "");
    s.dataset.state = agent.state;
    $("state-time").textContent = since(agent.since);
    const wrap = $("wrap");
    if (agent.state === "wrap-up" && agent.wrap_until) {
      wrap.hidden = false;
      wrap.textContent = t("Wrap-up ends in {s} s", { s: Math.max(0, Math.ceil(agent.wrap_until - now())) });
    } else {
      wrap.hidden = true;
    }
    const out = agent.state === "logged-out";
    $("login").disabled = !out;
    $("logout").disabled = out || agent.state === "on-call";
    $("ready").disabled = out || agent.state === "ready";
  }

  function renderCall() {
    const st = $("call-state");
    if (!call) {
      st.textContent = t("No call");
      st.dataset.state = "";
      $("call-party").textContent = "";
      return;
    }
    st.textContent = { alerting: t("Ringing"), connected: t("Connected"), held: t("On hold") }[call.state] || call.state;
    st.dataset.state = call.state;
    const other = call.caller === me.extension ? call.called : call.caller;
    $("call-party").replaceChildren(dialLink(other));
  }

  function fillTable(table, rows, cells) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map((r) => el("tr", {}, ...cells(r).map((c) => el("td", {}, c)))));
  }

  function pop(ev) {
    const info = ev.customer || { customer: null, calls: [], orders: [] };
    customer = info.customer;
    $("pop").hidden = false;
    $("pop").dataset.call = ev.call;
    $("pop-number").replaceChildren(dialLink(ev.caller));
    $("pop-queue").textContent = ev.queue || "";
    $("pop-name").textContent = customer ? customer.name : t("Unknown caller");
    $("pop-address").textContent = customer ? customer.address : "";
    $("pop-note").textContent = customer ? customer.note : "";
    $("customer-name").value = customer ? customer.name : "";
    $("customer-address").value = customer ? customer.address : "";
    $("customer-note").value = customer ? customer.note : "";
    fillTable($("pop-calls"), info.calls || [], (c) => [c.when, dialLink(c.caller), dialLink(c.called), c.agent || c.callee, `${c.talk}s`]);
    fillTable($("pop-orders"), info.orders || [], (o) => [o.when, o.subject, o.status]);
    desk.dataset.poppedAt = String(Date.now());
  }

  function startNotes(callId) {
    notesCall = callId;
    $("notes").hidden = false;
    $("notes-call").textContent = callId;
  }

  function onCallEvent(ev, name) {
    if (name === "Delivered" && ev.device === me.extension) {
      call = { call: ev.call, caller: ev.caller, called: ev.called, queue: ev.queue, state: "alerting" };
      pop(ev);
      startNotes(ev.call);
    } else if (name === "Offered" && ev.device === me.extension) {
      call = { call: ev.call, caller: ev.caller, called: ev.called, state: "alerting" };
    } else if (!call || ev.call !== call.call) {
      return;
    } else if (name === "Established") {
      call.state = "connected";
      startNotes(ev.call);
    } else if (name === "Held") {
      call.state = "held";
    } else if (name === "Retrieved") {
      call.state = "connected";
    } else if (name === "CallCleared" || (name === "ConnectionCleared" && ev.device === me.extension)) {
      call = null;
      show(t("Call ended"));
    } else if (name === "Transferred" && ev.by === me.extension) {
      call = null;
    }
    renderCall();
  }

  function onSnapshot(snap) {
    agent = (snap.agents || []).find((a) => a.agent === me.agent) || agent;
    const reasons = $("reason");
    if (reasons) {
      reasons.replaceChildren(...(snap.reasons || []).map((r) => el("option", { value: r, textContent: t(r) })));
    }
    const mine = (snap.calls || [])[0];
    call = mine ? { call: mine.id || mine.call, caller: mine.caller, called: mine.called, queue: mine.queue,
      state: mine.state === "up" ? "connected" : "alerting" } : null;
    renderState();
    renderCall();
  }

  stream({
    snapshot: onSnapshot,
    AgentState: (ev) => { if (ev.agent === me.agent) { agent = ev; renderState(); } },
    "*": onCallEvent,
  });
  setInterval(renderState, 1000);

  // Agent state buttons.
  for (const id of ["login", "ready", "notready", "logout"]) {
    const b = $(id);
    if (!b) continue;
    b.addEventListener("click", () => {
      const data = { state: b.dataset.state, device: me.extension };
      if (id === "notready") data.reason = $("reason").value;
      api(`/api/v1/agents/${encodeURIComponent(me.agent)}/state`, data).catch(() => {});
    });
  }

  // Call controls.
  for (const b of document.querySelectorAll("#call button[data-cmd]")) {
    b.addEventListener("click", () => {
      const data = {};
      if (call) data.call = call.call;
      if (b.dataset.to) data.to = $("target").value.trim();
      api(`/api/v1/cti/${b.dataset.cmd}`, data).then(() => show("")).catch(() => {});
    });
  }

  $("dial-button").addEventListener("click", () => {
    const number = $("dial-number").value.trim();
    if (!number) return;
    api("/api/v1/cti/MakeCall", { to: number }).then(() => show(t("Calling {number}…", { number }))).catch(() => {});
  });

  $("note-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!notesCall) return;
    api(`/api/v1/calls/${encodeURIComponent(notesCall)}/notes`, {
      text: $("note-text").value, disposition: $("note-disposition").value,
      customer: customer ? String(customer.id) : "",
    }).then(() => { show(t("Saved.")); $("note-text").value = ""; desk.dataset.noteSaved = notesCall; }).catch(() => {});
  });

  $("customer-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const number = $("pop-number").textContent.trim();
    api("/api/v1/customers", {
      number, name: $("customer-name").value, address: $("customer-address").value, note: $("customer-note").value,
    }).then((r) => { customer = r.customer; $("pop-name").textContent = customer.name; $("pop-address").textContent = customer.address; show(t("Saved.")); }).catch(() => {});
  });
})();
