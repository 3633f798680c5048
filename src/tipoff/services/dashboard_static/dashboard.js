// tipoff dashboard: fetches the coordinator's JSON and draws it. Charts are hand-written SVG,
// so the page needs nothing beyond the coordinator (no CDN, no chart library).
"use strict";

const params = new URLSearchParams(location.search);
const REFRESH_S = Math.max(2, Number(params.get("refresh") || 30));
const DAYS = Math.min(366, Math.max(1, Number(params.get("days") || 30)));
const SVG = "http://www.w3.org/2000/svg";
let predictions = [];

const $ = (id) => document.getElementById(id);
const fmt = (v, digits = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
const pct = (v) => (v === null || v === undefined ? "–" : `${fmt(v)}%`);
const time = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return `${fmt(seconds, 0)} s`;
  if (seconds < 3600) return `${fmt(seconds / 60)} min`;
  return `${fmt(seconds / 3600)} h`;
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (cls) td.className = cls;
  return td;
}

function fillTable(id, rows, columns, empty) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(empty, "muted");
    td.colSpan = columns.length;
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const [value, cls] of columns.map((c) => c(row))) tr.append(cell(value, cls));
    body.append(tr);
  }
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) {
    location.assign("/dashboard/login");
    throw new Error("signed out");
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.append(node);
  return node;
}

function chartFrame(container, maxY, unit, nights) {
  const [w, h, left, bottom] = [600, 220, 44, 22];
  container.replaceChildren();
  const root = svg("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none" }, container);
  svg("line", { x1: left, y1: 8, x2: left, y2: h - bottom, class: "axis" }, root);
  svg("line", { x1: left, y1: h - bottom, x2: w - 4, y2: h - bottom, class: "axis" }, root);
  const y = (v) => h - bottom - ((h - bottom - 8) * v) / maxY;
  for (const tick of [0, maxY / 2, maxY]) {
    svg("text", { x: 2, y: y(tick) + 3 }, root).textContent = `${fmt(tick, 0)}${unit}`;
  }
  const step = (w - left - 8) / Math.max(1, nights.length);
  const x = (i) => left + 4 + i * step;
  const every = Math.ceil(nights.length / 8);
  nights.forEach((n, i) => {
    const last = i === nights.length - 1 && i % every >= every / 2;
    if (i % every === 0 || last) {
      svg("text", { x: x(i), y: h - 6 }, root).textContent = n.game_date.slice(5);
    }
  });
  return { root, x, y, step };
}

function drawLatency(nights) {
  const minutes = nights.map((n) => (n.latency_seconds === null ? null : n.latency_seconds / 60));
  const maxY = Math.max(10, ...minutes.filter((m) => m !== null)) * 1.1;
  const { root, x, y, step } = chartFrame($("latency-chart"), maxY, "m", nights);
  nights.forEach((n, i) => {
    if (minutes[i] === null) return;
    // At least 2 px: a hand-off of a few seconds still shows as a (green) bar.
    const height = Math.max(2, y(0) - y(minutes[i]));
    const bar = svg("rect", { x: x(i), y: y(0) - height, width: Math.max(2, step * 0.7),
                              height, class: `latency ${n.latency_class}` }, root);
    svg("title", {}, bar).textContent = `${n.game_date}: ${duration(n.latency_seconds)} (${n.latency_class})`;
  });
}

function drawCoverage(nights) {
  const { root, x, y, step } = chartFrame($("coverage-chart"), 100, "%", nights);
  svg("line", { x1: x(0), x2: x(nights.length - 1) + step, y1: y(95), y2: y(95), class: "target" }, root);
  const points = nights.map((n, i) => (n.batch_id ? `${x(i) + step / 3},${y(n.coverage_pct)}` : null))
    .filter(Boolean);
  if (points.length) svg("polyline", { points: points.join(" "), class: "line" }, root);
  nights.forEach((n, i) => {
    const sla = n.sla;
    const dot = svg("circle", { cx: x(i) + step / 3, cy: y(n.batch_id ? n.coverage_pct : 0), r: 4,
                                class: `sla ${sla}` }, root);
    svg("title", {}, dot).textContent = `${n.game_date}: coverage ${pct(n.coverage_pct)}, ` +
      `lined ${pct(n.lined_coverage_pct)}, 07:00 PT promise ${sla.replace("_", " ")}`;
  });
}

function drawTonight(t) {
  $("tonight-date").textContent = t.game_date;
  $("state").textContent = t.state;
  $("state").className = `value ${t.state}`;
  const done = t.players_predicted + t.players_skipped + t.players_failed;
  $("progress").textContent = `${done} / ${t.players_requested}`;
  $("progress-bar").style.width = `${t.players_requested ? (100 * done) / t.players_requested : 0}%`;
  $("coverage").textContent = `${pct(t.coverage_pct)} (${t.players_predicted}/${t.players_ready})`;
  $("lined-coverage").textContent = `${pct(t.lined_coverage_pct)} (${t.players_lined_predicted}/${t.players_lined})`;
  $("latency").textContent = duration(t.latency_seconds);
  $("latency").className = `value ${t.latency_class || ""}`;
  const sla = t.sla;
  $("sla").textContent = sla.replace("_", " ");
  $("sla").className = `value ${sla}`;
  const list = $("timeline");
  list.replaceChildren();
  for (const step of t.timeline) {
    const li = document.createElement("li");
    li.textContent = `${step.step}: ${time(step.at)}`;
    if (!step.at) li.className = "pending";
    list.append(li);
  }
}

function drawLists(data) {
  fillTable("decisions", data.decisions.slice(0, 25), [
    (d) => [time(d.at)], (d) => [d.game_date], (d) => [d.source], (d) => [d.decision, d.decision],
    (d) => [d.reason, "reason"]], "no decisions yet");
  fillTable("alerts", data.alerts, [
    (a) => [a.game_date], (a) => [a.type], (a) => [a.severity, a.severity], (a) => [a.channel],
    (a) => [a.status, a.status]], "no alerts");
  fillTable("dead-letters", data.dead_letters, [
    (d) => [time(d.failed_at)], (d) => [d.topic], (d) => [d.player_lookup || d.game_date],
    (d) => [d.error, "reason"]], "none");
  fillTable("breakers", data.breakers, [
    (b) => [b.system_id], (b) => [b.state, b.state], (b) => [b.consecutive_failures]],
    "all closed (no failures recorded)");
}

function applyFilters() {
  const search = $("f-search").value.trim().toLowerCase();
  const system = $("f-system").value;
  const recommendation = $("f-recommendation").value;
  const minConfidence = Number($("f-confidence").value || 0);
  const rows = predictions.filter((p) =>
    (!search || p.player.toLowerCase().includes(search) || p.player_lookup.includes(search)
      || (p.team || "").toLowerCase().includes(search))
    && (!system || p.system_id === system)
    && (!recommendation || p.recommendation === recommendation)
    && p.confidence >= minConfidence);
  fillTable("predictions", rows.slice(0, 500), [
    (p) => [p.player], (p) => [p.team], (p) => [p.system_id], (p) => [fmt(p.line)],
    (p) => [p.bookmaker || p.line_source], (p) => [fmt(p.predicted_points)], (p) => [fmt(p.edge)],
    (p) => [fmt(p.confidence, 0)], (p) => [p.recommendation, p.recommendation]],
    "no prediction matches");
  $("row-count").textContent = `${rows.length} of ${predictions.length} rows`;
}

async function loadPredictions(day) {
  const data = await getJson(`/dashboard/api/predictions?game_date=${encodeURIComponent(day)}`);
  predictions = data.predictions;
  const select = $("f-system");
  const chosen = select.value;
  select.replaceChildren(new Option("all", ""), ...data.systems.map((s) => new Option(s, s)));
  select.value = data.systems.includes(chosen) ? chosen : "";
  fillTable("edges", data.largest_edges, [
    (p) => [p.player], (p) => [`${fmt(p.line)} ${p.bookmaker || p.line_source}`],
    (p) => [fmt(p.predicted_points)], (p) => [fmt(p.edge)], (p) => [fmt(p.confidence, 0)],
    (p) => [p.recommendation, p.recommendation]], "no lines priced");
  applyFilters();
}

async function refresh() {
  try {
    const data = await getJson(`/dashboard/api/overview?days=${DAYS}`);
    for (const el of document.querySelectorAll(".window-days")) el.textContent = DAYS;
    drawTonight(data.tonight);
    drawLatency(data.nights);
    drawCoverage(data.nights);
    drawLists(data);
    if (!$("f-date").value) $("f-date").value = data.game_date;
    await loadPredictions($("f-date").value);
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()} · every ${REFRESH_S} s`;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (error) {
    $("updated").textContent = `refresh failed: ${error.message}`;
  }
}

for (const id of ["f-search", "f-system", "f-recommendation", "f-confidence"]) {
  $(id).addEventListener("input", applyFilters);
}
$("f-date").addEventListener("change", () => loadPredictions($("f-date").value));
refresh();
setInterval(refresh, REFRESH_S * 1000);
