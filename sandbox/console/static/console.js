// The console's live parts: the SSE feed, map animations, node/edge panels, live run steps.
(function () {
  "use strict";
  const page = document.body.dataset.page;
  const keyOf = (id) => (id ? id.replace(/\//g, "-") : null);
  const svgNS = "http://www.w3.org/2000/svg";

  function nodeKey(memberId) {
    if (!memberId) return null;
    let key = keyOf(memberId);
    if (document.getElementById("node-" + key)) return key;
    const match = document.querySelector('#map .node[id^="node-' + key + '-"]'); // a member client
    return match ? match.dataset.key : null;
  }

  function along(path, reverse, dot, ms) {
    return new Promise((done) => {
      const length = path.getTotalLength();
      const start = performance.now();
      function frame(now) {
        const t = Math.min((now - start) / ms, 1);
        const p = path.getPointAtLength(length * (reverse ? 1 - t : t));
        dot.setAttribute("cx", p.x);
        dot.setAttribute("cy", p.y);
        if (t < 1) requestAnimationFrame(frame); else done();
      }
      requestAnimationFrame(frame);
    });
  }

  function flash(key, refused) {
    const edge = document.getElementById("edge-" + key);
    if (!edge) return;
    edge.dataset.flows = String(Number(edge.dataset.flows || 0) + 1);
    edge.classList.add("active");
    if (refused) edge.classList.add("refused");
    setTimeout(() => edge.classList.remove("active", "refused"), 1200);
  }

  function badge(service, text, bad) {
    const node = document.querySelector('#map .node[data-service="' + service + '"]');
    if (!node) return;
    const b = document.getElementById("badge-" + node.dataset.key);
    b.textContent = text;
    b.setAttribute("fill", bad ? "#b3261e" : "#1a7f37");
    setTimeout(() => { b.textContent = ""; }, 2500);
  }

  function reasonLabel(text) {
    document.querySelectorAll("#flows text.reason").forEach((old) => old.remove());
    if (text.length > 90) text = text.slice(0, 89) + "…";
    const label = document.createElementNS(svgNS, "text");
    label.setAttribute("x", 500);
    label.setAttribute("y", 345);
    label.setAttribute("class", "reason");
    label.textContent = text;
    document.getElementById("flows").appendChild(label);
    setTimeout(() => label.remove(), 2500);
  }

  async function animate(x) {
    const from = nodeKey(x.client), to = nodeKey(x.provider);
    const refused = Boolean(x.error);
    const css = refused || x.outcome === "Failed" ? "bad" : x.status >= 400 ? "warn" : "ok";
    const dot = document.createElementNS(svgNS, "circle");
    dot.setAttribute("class", "flow " + css);
    dot.setAttribute("r", 7);
    document.getElementById("flows").appendChild(dot);
    if (x.subject) badge("id_registry", "⇄", false);
    if (x.consent === "permit") badge("consent", "✓", false);
    if (x.consent === "deny") badge("consent", "✗", true);
    if (from) { flash(from, refused); await along(document.getElementById("path-" + from), false, dot, 350); }
    if (refused) { reasonLabel(x.reason || x.error); }
    else if (to) { flash(to, false); await along(document.getElementById("path-" + to), true, dot, 350); }
    dot.remove();
  }

  function feed(x) {
    const list = document.getElementById("feed");
    if (!list) return;
    const li = document.createElement("li");
    if (x.error || x.outcome === "Failed") li.className = "bad";
    const consent = x.consent !== "not required" ? " · consent " + x.consent : "";
    const a = document.createElement("a");
    a.href = "/log/" + x.seq;
    a.textContent = "#" + x.seq;
    li.appendChild(a);
    li.appendChild(document.createTextNode(" " + (x.client || "—") + " → " + (x.service || "—") +
      " " + x.status + (x.error ? " " + (x.reason || x.error) : "") + consent));
    list.prepend(li);
    while (list.children.length > 30) list.lastChild.remove();
  }

  function readiness(states) {
    document.querySelectorAll("#map .node.service").forEach((node) => {
      const state = states[node.dataset.service];
      node.classList.toggle("ready", state === true);
      node.classList.toggle("down", state === false);
    });
  }

  function step(s) {
    const table = document.getElementById("steps");
    if (!table || table.dataset.run !== s.run) return;
    const row = document.getElementById("step-" + s.index);
    if (!row) return;
    row.className = s.status;
    row.querySelector(".status").textContent =
      s.status + (s.status === "running" ? "" : " (" + s.durationMs + " ms)") +
      (s.failures && s.failures.length ? ": " + s.failures.join("; ") : "");
  }

  const source = new EventSource("/events");
  const live = document.getElementById("live");
  source.onopen = () => live.classList.add("on");
  source.onerror = () => live.classList.remove("on");
  source.addEventListener("ready", (m) => { if (page === "map") readiness(JSON.parse(m.data)); });
  source.addEventListener("exchange", (m) => {
    const x = JSON.parse(m.data);
    if (page === "map") { feed(x); animate(x); }
  });
  source.addEventListener("step", (m) => step(JSON.parse(m.data)));
  source.addEventListener("run-finished", (m) => {
    const run = JSON.parse(m.data).run;
    const table = document.getElementById("steps");
    if ((table && table.dataset.run === run) || document.getElementById("batch")) location.reload();
  });
  source.addEventListener("run-started", () => { if (document.getElementById("batch")) location.reload(); });

  async function panel(url, selected) {
    document.querySelectorAll("#map .selected").forEach((n) => n.classList.remove("selected"));
    if (selected) selected.classList.add("selected");
    const response = await fetch(url);
    document.getElementById("panel").innerHTML = await response.text();
  }
  document.querySelectorAll("#map .node").forEach((node) =>
    node.addEventListener("click", () => panel("/map/node/" + node.dataset.key, node)));
  document.querySelectorAll("#map .edge").forEach((edge) =>
    edge.addEventListener("click", () => panel("/map/edge/" + edge.dataset.key, null)));

  const diagram = document.getElementById("diagram");
  let scale = 1;
  document.querySelectorAll("[data-zoom]").forEach((button) => button.addEventListener("click", () => {
    const svg = diagram.querySelector("svg");
    const how = button.dataset.zoom;
    if (how === "fit") { diagram.classList.add("fit"); svg.style.width = ""; return; }
    diagram.classList.remove("fit");
    scale = how === "in" ? scale * 1.25 : how === "out" ? scale / 1.25 : 1;
    svg.style.width = (Number(svg.getAttribute("width")) * scale) + "px";
    svg.style.height = "auto";
  }));
})();
