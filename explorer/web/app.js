"use strict";
// Hinterland explorer: reads the node's REST API (through /api) and follows
// new blocks and Hinterland transactions over CometBFT's websocket (/rpc/websocket).

const $ = (id) => document.getElementById(id);
let openTask = null; // the task shown in detail, or null
let fraudEnds = []; // [element, Date] of running fraud windows

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

async function get(path) {
  const r = await fetch("api" + path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

function showError(err) {
  const e = $("error");
  if (!err) { e.hidden = true; return; }
  e.textContent = String(err.message || err);
  e.hidden = false;
}

// base64 (proto JSON bytes) to hex
function hex(b64) {
  if (!b64) return "";
  const bin = atob(b64);
  let s = "";
  for (let i = 0; i < bin.length; i++) s += bin.charCodeAt(i).toString(16).padStart(2, "0");
  return s;
}
const short = (s, n = 12) => (s && s.length > n ? s.slice(0, n) + "…" : s || "");
const status = (s) => (s || "").replace(/^[A-Z]+_STATUS_/, "").replace(/^OUTCOME_/, "").toLowerCase().replace(/_/g, "-");
const coin = (c) => (c ? `${c.amount}${c.denom}` : "");

function model(spec) {
  const h = spec.hidden || [];
  switch (spec.model) {
    case "MODEL_KIND_TRANSFORMER": return `transformer T=${spec.inputs} L=${h[0]} d=${h[1]} H=${h[2]}`;
    case "MODEL_KIND_MLP": return `mlp ${spec.inputs}-${h.join("-")}-${spec.outputs}`;
    default: return `linear ${spec.inputs}-${spec.outputs}`;
  }
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
  if (rows.length === 0) tbody.append(el("tr", {}, el("td", { colSpan: 9, class: "none" }, "none yet")));
}

async function loadTasks() {
  const res = await get("/hinterland/tasks/v1/tasks?pagination.limit=100");
  fill($("tasks").tBodies[0], (res.tasks || []).map((t) => {
    const s = t.spec;
    const segs = Math.ceil(Number(s.total_steps) / Number(s.segment_steps));
    const tr = el("tr", { "data-task": t.id, "data-status": t.status, class: "click" },
      el("td", {}, t.id), el("td", { class: "status " + status(t.status) }, status(t.status)),
      el("td", {}, model(s) + (s.lora_rank ? ` · LoRA r${s.lora_rank}` : "") + (s.objective === "OBJECTIVE_DPO" ? " · DPO" : "")),
      el("td", {}, `${s.total_steps} / ${segs}`), el("td", {}, t.samples), el("td", {}, coin(t.reward)),
      el("td", { title: t.poster }, short(t.poster, 16)));
    tr.onclick = () => showTask(t.id);
    return tr;
  }));
}

async function showTask(id) {
  openTask = id;
  $("task-section").hidden = false;
  $("task-id").textContent = id;
  await loadTask();
  $("task-section").scrollIntoView({ behavior: "smooth" });
}

async function loadTask() {
  if (openTask === null) return;
  const id = openTask;
  const [{ task }, trs, vds] = await Promise.all([
    get(`/hinterland/tasks/v1/tasks/${id}`),
    get(`/hinterland/verification/v1/transcripts/${id}`),
    get(`/hinterland/verification/v1/verdicts?task_id=${id}&pagination.limit=200`),
  ]);
  const s = task.spec;
  $("task-summary").replaceChildren(el("dl", {},
    el("dt", {}, "status"), el("dd", { id: "task-status", "data-status": task.status }, status(task.status)),
    el("dt", {}, "model"), el("dd", {}, model(s)),
    el("dt", {}, "schedule"), el("dd", {}, `${s.total_steps} steps in segments of ${s.segment_steps}, ${task.samples} sampled per transcript`),
    el("dt", {}, "dataset"), el("dd", {}, `${task.dataset.rows} rows, root ${short(hex(task.dataset.root), 16)}`),
    el("dt", {}, "reward / bond"), el("dd", {}, `${coin(task.reward)} / ${coin(task.bond)}`)));
  fraudEnds = [];
  const models = [];
  $("transcripts").replaceChildren(...(trs.transcripts || []).map((tr) => {
    const n = (tr.checkpoints || []).length - 1;
    const sampled = new Set((tr.sampled || []).map(Number));
    const verified = new Set((tr.verified || []).map(Number));
    const strip = el("div", { class: "segments", title: "segments: sampled (outlined) and verified (filled)" });
    for (let i = 0; i < n; i++) {
      strip.append(el("span", { class: "seg" + (sampled.has(i) ? " sampled" : "") + (verified.has(i) ? " verified" : ""), title: `segment ${i}` }));
    }
    const countdown = el("span", { class: "countdown" });
    if (tr.status === "TRANSCRIPT_STATUS_PASSED" && tr.fraud_window_end) fraudEnds.push([countdown, new Date(tr.fraud_window_end)]);
    if (tr.final_model_hash && tr.status === "TRANSCRIPT_STATUS_FINAL") models.push(hex(tr.final_model_hash));
    return el("div", { class: "transcript", "data-worker": tr.worker, "data-status": tr.status },
      el("div", {}, el("b", {}, short(tr.worker, 20)), " ", el("span", { class: "status " + status(tr.status) }, status(tr.status)),
        ` · ${n} segments, ${sampled.size} sampled, ${verified.size} verified · MACs ${tr.macs_verified || 0} recomputed of ${tr.macs_total || 0}`,
        " ", countdown),
      strip, lossBox(id, tr), tr.failure ? el("div", { class: "failure" }, tr.failure) : "");
  }));
  tick();
  fill($("verdicts").tBodies[0], (vds.verdicts || []).map((v) => el("tr", { "data-outcome": v.outcome },
    el("td", {}, v.height), el("td", { title: v.worker }, short(v.worker, 16)), el("td", {}, status(v.outcome)),
    el("td", {}, v.outcome === "OUTCOME_SEGMENT_VERIFIED" ? (v.segment || 0) : ""), el("td", {}, v.macs || ""), el("td", {}, v.reason || ""))));
  await drawLineage(models[0]);
}

// Loss curves: a worker publishes its training loss beside its checkpoints
// (<uri>/../loss.csv, "step,loss" lines) once its transcript is open. The
// page fetches it from the worker directly (the worker allows any origin),
// at most 1 MiB and 5 000 points, and draws it as SVG; nothing from the file
// reaches the page as markup. A curve is fetched once per task and worker.
const lossCurves = new Map(); // "task/worker" -> [[step, loss]...] | "none"

function lossBox(task, tr) {
  const box = el("div", { class: "loss" });
  const key = `${task}/${tr.worker}`;
  const url = (tr.uri || "").replace(/\/checkpoints$/, "/loss.csv");
  if (!/^https?:\/\//.test(url) || !url.endsWith("/loss.csv") || tr.status === "TRANSCRIPT_STATUS_SEALED") return box;
  const have = lossCurves.get(key);
  if (have && have !== "none") { drawLoss(box, have); return box; }
  if (have === "none") return box;
  lossCurves.set(key, "none");
  fetchLoss(url).then((pts) => {
    if (pts.length < 2) { lossCurves.delete(key); return; }
    lossCurves.set(key, pts);
    drawLoss(box, pts);
  }).catch(() => lossCurves.delete(key));
  return box;
}

async function fetchLoss(url) {
  const r = await fetch(url, { mode: "cors", credentials: "omit" });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  // Read at most 1 MiB, however much a (hostile) worker sends.
  const reader = r.body.getReader();
  const chunks = [];
  let size = 0;
  while (size < 1 << 20) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  reader.cancel().catch(() => {});
  const bytes = new Uint8Array(Math.min(size, 1 << 20));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
  }
  const text = new TextDecoder().decode(bytes);
  const pts = [];
  for (const line of text.split("\n")) {
    const m = /^(\d{1,15}),(-?[0-9.]+(?:e[-+]?\d+)?)$/i.exec(line.trim());
    if (!m) continue;
    const step = Number(m[1]), loss = Number(m[2]);
    if (Number.isFinite(step) && Number.isFinite(loss)) pts.push([step, loss]);
    if (pts.length >= 5000) break;
  }
  return pts;
}

function drawLoss(box, pts) {
  const ns = "http://www.w3.org/2000/svg";
  const w = 360, h = 120, pad = 28;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (w - pad - 6);
  const sy = (y) => 6 + (1 - (y - y0) / (y1 - y0 || 1)) * (h - pad);
  const svg = document.createElementNS(ns, "svg");
  Object.entries({ width: w, height: h, class: "loss-curve", "data-points": pts.length }).forEach(([k, v]) => svg.setAttribute(k, v));
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "));
  const label = (x, y, text, anchor) => {
    const t = document.createElementNS(ns, "text");
    Object.entries({ x, y, "text-anchor": anchor || "start" }).forEach(([k, v]) => t.setAttribute(k, v));
    t.textContent = text;
    return t;
  };
  svg.append(line, label(2, 14, y1.toPrecision(3)), label(2, h - pad + 6, y0.toPrecision(3)),
    label(pad, h - 6, `step ${x0}`), label(w - 6, h - 6, `${x1}`, "end"));
  box.replaceChildren(el("div", { class: "legend" }, "training loss (published by the worker)"), svg);
}

// drawLineage draws a model's lineage (model -> base -> ...) as an SVG chain.
async function drawLineage(hash) {
  const box = $("lineage");
  if (!hash) { box.replaceChildren(el("p", { class: "none" }, "no verified model yet")); return; }
  const [lin, info] = await Promise.all([get(`/hinterland/tasks/v1/lineage/${hash}`), get(`/hinterland/tasks/v1/models/${hash}`)]);
  const recs = lin.records || [];
  const ns = "http://www.w3.org/2000/svg";
  const w = 260, h = 64, gap = 40;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", recs.length * (w + gap));
  svg.setAttribute("height", h + 10);
  svg.setAttribute("id", "lineage-graph");
  recs.forEach((r, i) => {
    const x = i * (w + gap);
    const g = document.createElementNS(ns, "g");
    g.setAttribute("data-model", hex(r.model_hash));
    const rect = document.createElementNS(ns, "rect");
    Object.entries({ x, y: 4, width: w, height: h, rx: 8, class: "node" }).forEach(([k, v]) => rect.setAttribute(k, v));
    const t1 = document.createElementNS(ns, "text");
    Object.entries({ x: x + 10, y: 26 }).forEach(([k, v]) => t1.setAttribute(k, v));
    t1.textContent = `${short(hex(r.model_hash), 16)}`;
    const t2 = document.createElementNS(ns, "text");
    Object.entries({ x: x + 10, y: 48, class: "sub" }).forEach(([k, v]) => t2.setAttribute(k, v));
    t2.textContent = `task ${r.task_id} · height ${r.height}` + (r.annotation_job && r.annotation_job !== "0" ? ` · labels of job ${r.annotation_job}` : "");
    g.append(rect, t1, t2);
    svg.append(g);
    if (i + 1 < recs.length) {
      const line = document.createElementNS(ns, "line");
      Object.entries({ x1: x + w, y1: 4 + h / 2, x2: x + w + gap, y2: 4 + h / 2, class: "edge" }).forEach(([k, v]) => line.setAttribute(k, v));
      svg.append(line);
    }
  });
  box.replaceChildren(el("p", {}, `${info.architecture || ""} · ${info.kind || ""} · ${info.parameters || ""} parameters`), svg,
    el("p", { class: "legend" }, "each model on the left of its base (model → base → …)"));
}

function tick() {
  const now = Date.now();
  for (const [node, end] of fraudEnds) {
    const s = Math.max(0, Math.round((end - now) / 1000));
    node.textContent = s > 0 ? `fraud window closes in ${s} s` : "fraud window over";
  }
}

async function loadSide() {
  const [lb, pool, ann, fed] = await Promise.all([
    get("/hinterland/rewards/v1/leaderboard"), get("/hinterland/rewards/v1/pool"),
    get("/hinterland/annotation/v1/jobs"), get("/hinterland/federated/v1/jobs"),
  ]);
  fill($("leaderboard").tBodies[0], (lb.entries || []).map((r) => el("tr", {},
    el("td", { title: r.address }, short(r.address, 18)), el("td", {}, r.verified || 0), el("td", {}, r.failed || 0), el("td", {}, r.verified_macs || 0))));
  const work = pool.epoch_work || [];
  $("pool").replaceChildren(el("dt", {}, "pool balance"), el("dd", {}, (pool.balance || []).map(coin).join(", ") || "empty"),
    el("dt", {}, "workers with verified work this epoch"), el("dd", {}, String(work.length)),
    el("dt", {}, "MACs verified this epoch"), el("dd", {}, String(work.reduce((a, w) => a + Number(w.macs || 0), 0))));
  fill($("annotation").tBodies[0], (ann.jobs || []).map((j) => el("tr", {},
    el("td", {}, j.id), el("td", {}, status(j.status)), el("td", {}, (j.kind || "").replace("LABEL_KIND_", "").toLowerCase()),
    el("td", {}, j.items.rows), el("td", {}, j.redundancy))));
  fill($("federated").tBodies[0], (fed.jobs || []).map((j) => el("tr", {},
    el("td", {}, j.id), el("td", {}, status(j.status)), el("td", {}, j.rounds), el("td", {}, `${j.min_participants}–${j.max_participants}`))));
}

async function refresh() {
  try {
    await Promise.all([loadTasks(), loadTask(), loadSide()]);
    showError(null);
  } catch (err) {
    showError(err);
  }
}

// follow subscribes to new blocks (height) and transactions; a transaction
// carrying a Hinterland event refreshes the page.
function follow() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}${location.pathname.replace(/[^/]*$/, "")}rpc/websocket`);
  ws.onopen = () => {
    $("live").textContent = "live";
    $("live").className = "on";
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "subscribe", id: 1, params: { query: "tm.event='NewBlockHeader'" } }));
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "subscribe", id: 2, params: { query: "tm.event='Tx'" } }));
  };
  let pending = false;
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    const data = msg.result && msg.result.data;
    if (!data) return;
    if (data.type === "tendermint/event/NewBlockHeader") {
      $("height").textContent = data.value.header.height;
      $("chain-id").textContent = data.value.header.chain_id;
      return;
    }
    const events = msg.result.events || {};
    if (Object.keys(events).some((k) => k.startsWith("hinterland.")) && !pending) {
      pending = true;
      setTimeout(() => { pending = false; refresh(); }, 300);
    }
  };
  ws.onclose = () => {
    $("live").textContent = "reconnecting";
    $("live").className = "off";
    setTimeout(follow, 2000);
  };
}

async function start() {
  $("close-task").onclick = () => { openTask = null; $("task-section").hidden = true; };
  try {
    const st = await (await fetch("rpc/status")).json();
    $("chain-id").textContent = st.result.node_info.network;
    $("height").textContent = st.result.sync_info.latest_block_height;
  } catch (err) {
    showError(err);
  }
  const m = location.hash.match(/^#task\/(\d+)$/);
  if (m) {
    // The task may not exist yet: the page shows it once it does.
    openTask = m[1];
    $("task-section").hidden = false;
    $("task-id").textContent = openTask;
  }
  await refresh();
  follow();
  setInterval(tick, 1000);
  setInterval(refresh, 5000); // also catches end-blocker transitions (deadlines, fraud windows)
}

start();
