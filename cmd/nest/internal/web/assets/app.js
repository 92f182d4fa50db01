// nest ui: renders the schema tree with live figures, a memory chart, TTL
// histograms and key values, from the JSON API of package web. No
// framework; every node is built with the DOM API (no innerHTML), so a key
// name or value can never inject markup.
"use strict";

const csrf = document.querySelector('meta[name="nest-csrf"]').content;
const writes = document.querySelector('meta[name="nest-writes"]').content === "true";
const SVG = "http://www.w3.org/2000/svg";
let schema = null;
let labels = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

function showError(msg) {
  const box = document.getElementById("error");
  box.textContent = msg;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 8000);
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin" }, opts));
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function fmtCount(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " "); }

function fmtBytes(n, sampled) {
  if (!sampled) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

function fmtMS(ms) {
  const s = ms / 1000;
  if (s >= 172800) return (s / 86400).toFixed(1) + "d";
  if (s >= 3600) return (s / 3600).toFixed(1) + "h";
  if (s >= 60) return Math.round(s / 60) + "m";
  if (s >= 1) return Math.round(s) + "s";
  return ms + "ms";
}

// histogram draws the TTL histogram of one group as a small SVG.
function histogram(h) {
  const w = 8 * 12, hgt = 18, max = Math.max(1, ...h);
  const s = svg("svg", { width: w, height: hgt, class: "hist", role: "img" });
  const title = h.map((n, i) => labels[i] + ": " + n).join(", ");
  s.append(svg("title", {}, "TTL left: " + title));
  h.forEach((n, i) => {
    const bh = n ? Math.max(2, Math.round((n / max) * hgt)) : 0;
    s.append(svg("rect", { class: "hbar", x: i * 12, y: hgt - bh, width: 10, height: bh }));
  });
  return s;
}

function ttlCell(g) {
  const t = g.ttl;
  if (!t.expiring) return el("span", { class: "muted" }, t.none ? "none" : "–");
  return el("span", { title: "min / median / max time left" },
    fmtMS(t.min_ms) + " / " + fmtMS(t.median_ms) + " / " + fmtMS(t.max_ms));
}

function keyRow(k, g) {
  const sensitive = k.kind === "secret" || k.kind === "password" || ["fernet", "argon2id", "bcrypt"].includes(k.codec);
  const name = el("span", { class: "tpl" }, k.template.split(":").pop(), " ",
    el("span", { class: "tag" + (sensitive ? " secret" : "") }, k.kind || k.codec));
  const count = g ? g.count : 0;
  const missing = g && g.ttl.missing_declared ? el("span", { class: "warn", title: "keys without the declared TTL" }, " ⚠ " + g.ttl.missing_declared) : null;
  const row = el("div", { class: "key", "data-template": k.template, title: k.template + " (" + k.field + ", " + k.go_type + ")",
    onclick: () => listKeys(k, row) },
    name,
    el("span", { class: "num count" }, fmtCount(count)),
    el("span", { class: "num" }, g ? fmtBytes(g.memory.estimated_bytes, g.memory.sampled) : "–"),
    el("span", {}, g ? ttlCell(g) : "–", missing),
    g ? histogram(g.ttl.histogram) : el("span"),
    el("span", { class: "muted" }, k.redis_type));
  return row;
}

function nsNode(n, groups) {
  const head = el("div", { class: "ns-head" }, el("span", { class: "tpl" }, n.template),
    n.ttl && n.ttl.seconds ? el("span", { class: "tag" }, "ttl " + fmtMS(n.ttl.seconds * 1000)) : null);
  if (writes) head.append(el("button", { class: "danger", type: "button", onclick: () => clearSubtree(n) }, "Clear subtree…"));
  const box = el("div", { class: "ns", "data-namespace": n.template }, head);
  for (const k of n.keys || []) box.append(keyRow(k, groups.get(k.template)));
  for (const c of n.children || []) box.append(nsNode(c, groups));
  return box;
}

function memChart(groups) {
  const data = groups.filter(g => g.memory.sampled > 0).sort((a, b) => b.memory.estimated_bytes - a.memory.estimated_bytes).slice(0, 25);
  const box = document.getElementById("memchart");
  box.replaceChildren();
  if (!data.length) { box.append(el("p", { class: "muted" }, "No keys measured.")); return; }
  const rowH = 20, labelW = 260, barW = 200, w = labelW + barW + 80;
  const max = Math.max(1, ...data.map(g => g.memory.estimated_bytes));
  const s = svg("svg", { width: w, height: data.length * rowH + 4, role: "img", "aria-label": "memory by template" });
  data.forEach((g, i) => {
    const y = i * rowH;
    const label = g.pattern.length > 40 ? "…" + g.pattern.slice(-39) : g.pattern;
    s.append(svg("text", { x: labelW - 6, y: y + 14, "text-anchor": "end" }, label));
    const bw = Math.max(1, Math.round((g.memory.estimated_bytes / max) * barW));
    const bar = svg("rect", { class: "bar", x: labelW, y: y + 3, width: bw, height: rowH - 6 });
    bar.append(svg("title", {}, g.pattern + ": " + fmtBytes(g.memory.estimated_bytes, 1)));
    s.append(bar);
    s.append(svg("text", { x: labelW + bw + 6, y: y + 14 }, fmtBytes(g.memory.estimated_bytes, 1)));
  });
  box.append(s);
}

async function refresh() {
  try {
    if (!schema) {
      schema = await api("api/schema");
      labels = schema.histogram_labels;
      document.getElementById("schema-name").textContent = schema.root.template;
      const mode = document.getElementById("mode");
      mode.textContent = writes ? "writes allowed" : "read-only";
      if (writes) mode.classList.add("writes");
    }
    const rep = await api("api/tree");
    const groups = new Map(rep.groups.filter(g => g.kind === "declared").map(g => [g.pattern, g]));
    const head = el("div", { class: "key head" }, el("span", {}, "template"), el("span", { class: "num" }, "keys"),
      el("span", { class: "num" }, "memory"), el("span", {}, "TTL min/med/max"), el("span", {}, "TTL histogram"), el("span", {}, "type"));
    const tree = document.getElementById("tree");
    tree.replaceChildren(head, nsNode(schema.root, groups));
    tree.setAttribute("aria-busy", "false");
    const others = rep.groups.filter(g => g.kind !== "declared");
    const ob = document.getElementById("others");
    ob.replaceChildren(...(others.length ? others.map(g => el("div", { class: "key other", "data-kind": g.kind },
      el("span", { class: "tpl" }, g.pattern + " ", el("span", { class: "tag" }, g.kind)),
      el("span", { class: "num" }, fmtCount(g.count)), el("span", { class: "num" }, fmtBytes(g.memory.estimated_bytes, g.memory.sampled)),
      ttlCell(g), histogram(g.ttl.histogram), el("span", { class: "muted" }, Object.keys(g.types).join("+"))))
      : [el("p", { class: "muted" }, "Nothing: every key matches a template.")]));
    const total = rep.groups.reduce((n, g) => n + g.count, 0);
    const summary = document.getElementById("summary");
    summary.textContent = fmtCount(total) + " keys on " + rep.nodes + (rep.nodes > 1 ? " masters" : " server");
    summary.title = "updated " + new Date().toLocaleTimeString(); // not in the text: the test's screenshot stays stable
    memChart(rep.groups);
  } catch (e) {
    showError("refresh: " + e.message);
  }
}

async function listKeys(k, row) {
  document.querySelectorAll(".key.selected").forEach(r => r.classList.remove("selected"));
  row.classList.add("selected");
  document.getElementById("keys-template").textContent = k.template;
  const ul = document.getElementById("keys");
  ul.replaceChildren(el("li", { class: "muted" }, "loading…"));
  try {
    const res = await api("api/keys?template=" + encodeURIComponent(k.template));
    ul.replaceChildren(...res.keys.map(name => {
      const li = el("li", { "data-key": name, onclick: () => showValue(name, li) }, name);
      return li;
    }));
    if (!res.keys.length) ul.append(el("li", { class: "muted" }, "no keys"));
  } catch (e) {
    ul.replaceChildren(el("li", { class: "muted" }, e.message));
  }
}

async function showValue(name, li) {
  document.querySelectorAll("#keys li.selected").forEach(r => r.classList.remove("selected"));
  if (li) li.classList.add("selected");
  document.getElementById("value-key").textContent = name;
  const box = document.getElementById("value");
  box.replaceChildren(el("p", { class: "muted" }, "loading…"));
  try {
    const v = await api("api/value?key=" + encodeURIComponent(name));
    const meta = v.field + " · " + v.go_type + " · codec " + v.codec + " · " + v.redis_type +
      " · TTL " + (v.ttl_ms < 0 ? "none" : fmtMS(v.ttl_ms)) + (v.truncated ? " · truncated" : "") + (v.note ? " · " + v.note : "");
    box.replaceChildren(el("p", { class: "meta" }, meta), el("pre", { id: "value-json" }, JSON.stringify(v.value, null, 2)));
  } catch (e) {
    box.replaceChildren(el("p", { class: "refused" }, e.message));
  }
}

async function clearSubtree(n) {
  const params = {};
  const names = [];
  const re = /\{([^{}:]+)\}/g;
  let m;
  while ((m = re.exec(n.template)) !== null) names.push(m[1]);
  for (const p of names) {
    const v = prompt("Value of {" + p + "} in " + n.template + ":");
    if (v === null) return;
    params[p] = v;
  }
  const body = { target: n.template, params: names.length ? params : undefined };
  const post = extra => api("api/clear", { method: "POST", headers: { "Content-Type": "application/json", "X-Nest-CSRF": csrf },
    body: JSON.stringify(Object.assign({}, body, extra)) });
  try {
    const dry = await post({ dry_run: true });
    if (!dry.count) { alert("The subtree of " + dry.prefix + " holds no keys."); return; }
    if (!confirm("Delete the " + fmtCount(dry.count) + " keys of the subtree of " + dry.prefix + "?")) return;
    const res = await post({ dry_run: false });
    alert("Deleted " + fmtCount(res.deleted) + " keys.");
    refresh();
  } catch (e) {
    showError("clear: " + e.message);
  }
}

let timer = null;
document.getElementById("refresh").addEventListener("click", refresh);
document.getElementById("auto").addEventListener("change", e => {
  clearInterval(timer);
  if (e.target.checked) timer = setInterval(refresh, 10000);
});
refresh();
