// The annotator page: lists open jobs, claims a batch, shows its items one at
// a time and collects a label for each (keys 0-9, A/B, Enter/→, ←), then asks
// the local server to seal them. The server holds the key and the salts; this
// page only ever sees items and its own choices.
"use strict";

const $ = (id) => document.getElementById(id);

// The token comes in the URL `hinterlandd annotate` prints; it is kept for
// reloads of this tab and removed from the address bar.
const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("annotator-token") || "";
if (params.get("token")) {
  sessionStorage.setItem("annotator-token", token);
  history.replaceState(null, "", location.pathname);
}

async function api(path, body) {
  const opts = { headers: { "X-Annotator-Token": token } };
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({ error: res.status + " " + res.statusText }));
  if (!res.ok) throw new Error(data && data.error ? data.error : res.statusText);
  return data;
}

function showError(err) {
  const el = $("error");
  if (!err) { el.hidden = true; el.textContent = ""; return; }
  el.textContent = String(err.message || err);
  el.hidden = false;
}

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

function when(iso) {
  const t = new Date(iso);
  const s = Math.round((t - Date.now()) / 1000);
  const rel = s >= 0 ? `in ${fmtDur(s)}` : `${fmtDur(-s)} ago`;
  return `${t.toLocaleTimeString()} (${rel})`;
}

function fmtDur(s) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

// ---- labelling -------------------------------------------------------------

let batch = null;  // the batch being labelled (GET /api/batch)
let pos = 0;       // the item shown
let labels = [];   // the person's choice per item, null until chosen
let sealing = false;

function startBatch(b) {
  batch = b;
  labels = b.items.map((_, i) => (b.labels && b.labels.length === b.items.length ? b.labels[i] : null));
  pos = 0;
  sealing = false;
  $("sealed").hidden = true;
  $("labeller").hidden = false;
  if (document.activeElement) document.activeElement.blur();
  $("help").textContent = b.kind === "preference"
    ? "Keys: A or B picks the better side · Enter or → next · ← back. After the last item the batch is sealed."
    : `Keys: 0–${Math.min(9, b.classes - 1)} pick a class · Enter or → next · ← back. After the last item the batch is sealed.`;
  renderItem();
  renderJobs(lastJobs);
}

function renderItem() {
  const n = batch.items.length;
  const done = labels.filter((l) => l !== null).length;
  $("progress-fill").style.width = `${(100 * done) / n}%`;
  $("progress").setAttribute("aria-valuemax", n);
  $("progress").setAttribute("aria-valuenow", done);
  $("position").textContent = `Item ${pos + 1} of ${n} · ${done} labelled`;
  $("lab-job").textContent = batch.job;
  $("lab-group").textContent = batch.group;
  $("lab-deadline").textContent = when(batch.label_deadline);

  const it = batch.items[pos];
  const box = $("item");
  box.replaceChildren();
  box.setAttribute("data-item", it.item);
  box.setAttribute("data-pos", pos);
  const pref = batch.kind === "preference";
  it.sides.forEach((side, i) => {
    const fig = el("figure", { class: "side" + (pref && labels[pos] === i ? " selected" : "") });
    if (pref) fig.append(el("figcaption", {}, i === 0 ? "A" : "B"));
    if (side.image) {
      fig.append(el("img", { src: `${side.image}&token=${encodeURIComponent(token)}`, alt: `item ${it.item}`, width: 224, height: 224, class: "pixels" }));
    } else if (it.prompt !== undefined) {
      // A token preference row: the shared prompt, then this continuation.
      fig.append(el("pre", { class: "text" }, el("span", { class: "prompt" }, it.prompt), side.text || ""));
    } else {
      fig.append(el("div", { class: "values" }, ...side.values.map((v) => el("span", {}, v))));
    }
    box.append(fig);
  });

  const choices = $("choices");
  choices.replaceChildren();
  const opts = pref ? [[0, "A"], [1, "B"]] : Array.from({ length: batch.classes }, (_, c) => [c, String(c)]);
  for (const [value, text] of opts) {
    const b = el("button", { type: "button", class: "choice" + (labels[pos] === value ? " selected" : ""), "data-label": value }, text);
    b.addEventListener("click", () => { choose(value); b.blur(); });
    choices.append(b);
  }
  $("back").disabled = pos === 0 || sealing;
  $("next").disabled = labels[pos] === null || sealing;
  $("next").textContent = pos === n - 1 ? "Seal batch" : "Next →";
}

function choose(value) {
  if (!batch || sealing) return;
  labels[pos] = value;
  renderItem();
}

function next() {
  if (!batch || sealing) return;
  if (labels[pos] === null) { showError("Pick a label for this item first."); return; }
  showError(null);
  if (pos < batch.items.length - 1) { pos++; renderItem(); return; }
  seal();
}

function back() {
  if (!batch || sealing || pos === 0) return;
  pos--;
  renderItem();
}

async function seal() {
  sealing = true;
  renderItem();
  $("position").textContent = "Sealing…";
  try {
    const res = await api("/api/seal", { job: batch.job, group: batch.group, items: batch.items.map((i) => i.item), labels });
    $("sealed-job").textContent = res.job;
    $("sealed-group").textContent = res.group;
    $("sealed-seal").textContent = res.seal.slice(0, 16) + "…";
    $("sealed-tx").textContent = res.tx;
    $("labeller").hidden = true;
    $("sealed").hidden = false;
    batch = null;
    showError(null);
    refresh();
  } catch (err) {
    sealing = false;
    renderItem();
    showError(`Sealing failed: ${err.message}. Press Enter to try again.`);
  }
}

document.addEventListener("keydown", (e) => {
  if (!batch || e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key;
  if (batch.kind === "class" && /^[0-9]$/.test(k)) {
    if (Number(k) < batch.classes) choose(Number(k));
  } else if (batch.kind === "preference" && /^[abAB]$/.test(k)) {
    choose(k.toLowerCase() === "a" ? 0 : 1);
  } else if (k === "Enter" || k === "ArrowRight") {
    next();
  } else if (k === "ArrowLeft") {
    back();
  } else {
    return;
  }
  e.preventDefault(); // Enter must not also press a focused button
});
$("next").addEventListener("click", next);
$("back").addEventListener("click", back);
$("sealed-ok").addEventListener("click", () => { $("sealed").hidden = true; });

// ---- jobs and status -------------------------------------------------------

let lastJobs = [];

function renderJobs(jobs) {
  lastJobs = jobs;
  const body = $("jobs").tBodies[0];
  body.replaceChildren();
  $("no-jobs").hidden = jobs.length > 0;
  for (const j of jobs) {
    const claim = el("button", { type: "button", "data-claim": j.id }, "Claim a batch");
    claim.disabled = j.own || j.batches_left === 0 || batch !== null;
    if (j.own) claim.title = "You posted this job";
    claim.addEventListener("click", async () => {
      claim.disabled = true;
      claim.textContent = "Claiming…";
      try {
        await api("/api/claim", { job: j.id });
        showError(null);
        const b = await api("/api/batch");
        if (b) startBatch(b);
      } catch (err) {
        showError(`Claim failed: ${err.message}`);
      }
      refresh();
    });
    const kind = j.kind === "preference" ? "preference (A/B)" : `${j.classes} classes`;
    body.append(el("tr", { "data-job": j.id },
      el("td", {}, String(j.id)), el("td", {}, kind), el("td", {}, String(j.items)), el("td", {}, String(j.batch_size)),
      el("td", {}, j.pay_per_label), el("td", {}, j.stake), el("td", {}, String(j.batches_left)),
      el("td", {}, when(j.label_deadline)), el("td", {}, claim)));
  }
}

function renderStatus(st) {
  $("address").textContent = st.address;
  $("earned").textContent = st.earned || "0";
  const body = $("batches").tBodies[0];
  body.replaceChildren();
  for (const b of st.batches) {
    const settled = b.job_status === "settled";
    const gold = settled ? `${b.gold_correct} / ${b.gold_seen}` : "–";
    const accepted = settled ? `${b.accepted} / ${b.items}` : "–";
    let note = b.note || "";
    if (!note && b.status === "sealed") note = `opens after ${when(b.label_deadline)}`;
    body.append(el("tr", { "data-batch": `${b.job}-${b.group}`, class: "st-" + b.status.replace(/ /g, "-") },
      el("td", {}, String(b.job)), el("td", {}, String(b.group)), el("td", {}, String(b.items)),
      el("td", { class: "status" }, b.status), el("td", { class: "job-status" }, b.job_status),
      el("td", { class: "gold" }, gold), el("td", { class: "accepted" }, accepted),
      el("td", { class: "paid" }, settled ? b.paid || "0" : "–"), el("td", { class: "note" }, note)));
  }
  const r = st.record;
  $("record").textContent = `Record: ${r.batches || 0} batches, ${r.labels_opened || 0} labels opened, ` +
    `${r.labels_accepted || 0} accepted, gold ${r.gold_correct || 0} / ${r.gold_seen || 0} correct, ` +
    `${r.batches_slashed || 0} slashed, ${r.batches_forfeited || 0} forfeited.`;
}

let refreshing = false;
let refreshFailed = false; // the error shown is refresh's own: cleared by the next good one
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [jobs, st] = await Promise.all([api("/api/jobs"), api("/api/status")]);
    renderJobs(jobs);
    renderStatus(st);
    if (!batch && $("sealed").hidden) {
      const b = await api("/api/batch");
      if (b && !batch) startBatch(b);
    }
    if (refreshFailed) showError(null);
    refreshFailed = false;
  } catch (err) {
    showError(err);
    refreshFailed = true;
  } finally {
    refreshing = false;
  }
}

refresh();
setInterval(refresh, 3000);
