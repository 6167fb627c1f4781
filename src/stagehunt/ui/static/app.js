// stagehunt ui: the search page. Plain JavaScript, no build step; every value from the
// server goes into the page as text (textContent), never as markup, except the timeline
// SVG, which the server renders with every value escaped (report.timeline_svg).
"use strict";

const TOKEN = document.body.dataset.token;
const PAGE = 50;
const $ = (id) => document.getElementById(id);

const state = {
  job: null,        // status of the current search job
  offset: 0,        // first row shown
  tab: "events",    // "events" or "stats"
  poll: null,
  ended: null,      // id of the last job whose end was handled
  histogram: null,  // {start, width, counts}
};

async function api(path, body) {
  const init = { headers: { "X-Stagehunt-Token": TOKEN } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json();
  return { ok: response.ok, data };
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function timeText(epoch) {
  if (typeof epoch !== "number") return epoch === null || epoch === undefined ? "" : String(epoch);
  return new Date(epoch * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

// ------------------------------------------------------------------ time picker

function timeRange() {
  const choice = $("time").value;
  if (choice === "custom") {
    return { earliest: $("earliest").value.trim() || null, latest: $("latest").value.trim() || null };
  }
  if (!choice) return { earliest: null, latest: null };
  const [earliest, latest] = choice.split("|");
  return { earliest, latest };
}

function setCustomRange(earliest, latest) {
  $("time").value = "custom";
  $("custom-time").hidden = false;
  $("earliest").value = String(earliest);
  $("latest").value = String(latest);
  showRange();
}

// epoch seconds in the custom range, shown as UTC times beside the inputs
function showRange() {
  const parts = [$("earliest").value.trim(), $("latest").value.trim()];
  const epochs = parts.map((p) => (/^\d+(\.\d+)?$/.test(p) ? timeText(Number(p)) : null));
  $("range-text").textContent = epochs.every((e) => e) ? `${epochs[0]} → ${epochs[1]} UTC` : "";
}

// ------------------------------------------------------------------ errors

// an engine error as text: the located message, then the query line and a caret
function errorText(error) {
  const where = error.line ? `${error.kind} at line ${error.line}, column ${error.column}: ` : "";
  let text = where + error.message;
  if (error.text !== null && error.text !== undefined && error.column) {
    text += `\n${error.text}\n${" ".repeat(error.column - 1)}^`;
  }
  return text;
}

function showDetectionError(error) {
  $("detection-error").hidden = false;
  $("detection-error").textContent = typeof error === "string" ? error : errorText(error);
}

function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const where = error.line ? `${error.kind} at line ${error.line}, column ${error.column}: ` : "";
  $("error-message").textContent = where + error.message;  // the caret goes below, in a <pre>
  const pre = $("error-where");
  if (error.text !== null && error.text !== undefined && error.column) {
    pre.hidden = false;
    pre.textContent = `${error.text}\n${" ".repeat(error.column - 1)}^`;
  } else {
    pre.hidden = true;
    pre.textContent = "";
  }
}

// ------------------------------------------------------------------ searching

async function runSearch() {
  const spl = $("query").value;
  stopPolling();
  showError(null);
  $("sql").hidden = true;
  const { ok, data } = await api("/api/search", { spl, ...timeRange() });
  if (!ok) {
    showError(data.error);
    $("status").textContent = "";
    return;
  }
  startJob(data);
}

function startJob(status) {
  fitQuery();
  state.job = status;
  state.offset = 0;
  state.histogram = null;
  $("field-list").replaceChildren();
  $("results").replaceChildren();
  $("histogram-box").hidden = true;
  $("page-info").textContent = "";
  for (const id of ["first", "prev", "next", "last"]) $(id).disabled = true;
  const url = new URL(window.location.href);
  url.searchParams.set("q", $("query").value);
  history.replaceState(null, "", url);
  showStatus(status);
  state.poll = setInterval(poll, 150);
}

function stopPolling() {
  if (state.poll !== null) clearInterval(state.poll);
  state.poll = null;
}

async function poll() {
  const job = state.job;
  if (!job) return;
  const { ok, data } = await api(`/api/jobs/${job.id}`);
  if (!ok || state.job === null || state.job.id !== job.id) return;
  state.job = data;
  if (data.state === "queued" || data.state === "running") {
    showStatus(data);
    return;
  }
  stopPolling();
  if (state.ended === data.id) return;  // another poll in flight saw the end first
  state.ended = data.id;
  if (data.state === "failed") {
    showError(data.error);
    showStatus(data);
    return;
  }
  state.tab = data.events ? "events" : "stats";
  await Promise.all([loadPage(), loadFields(), loadHistogram()]);
  showStatus(data);  // "done" once the page, the fields and the histogram are there
}

function showStatus(status) {
  const running = status.state === "queued" || status.state === "running";
  const count = status.rows.toLocaleString("en-US");
  const seconds = status.elapsed.toFixed(2);
  const words = {
    queued: "starting…",
    running: `running… ${count} results so far`,
    done: `${count} results (${seconds} s)`,
    cancelled: `cancelled after ${count} results (${seconds} s)`,
    failed: "failed",
  };
  $("status").textContent = words[status.state] || status.state;
  $("status").dataset.state = status.state;
  $("status").dataset.rows = String(status.rows);
  $("cancel").hidden = !running;
  const progress = $("progress");
  progress.hidden = !running;
  if (running && typeof status.progress === "number") progress.value = status.progress;
  else progress.removeAttribute("value");
  for (const [id, kind] of [["export-csv", "csv"], ["export-json", "json"]]) {
    const link = $(id);
    link.hidden = running || status.state === "failed";
    link.href = `/api/jobs/${status.id}/export.${kind}?token=${encodeURIComponent(TOKEN)}`;
  }
}

async function cancelSearch() {
  if (state.job) await api(`/api/jobs/${state.job.id}/cancel`, {});
}

// ------------------------------------------------------------------ results

async function loadPage() {
  const job = state.job;
  const { ok, data } = await api(`/api/jobs/${job.id}/rows?offset=${state.offset}&count=${PAGE}`);
  if (!ok) return;
  renderTabs();
  const total = job.rows;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const page = Math.floor(state.offset / PAGE) + 1;
  $("page-info").textContent = `page ${page} of ${pages}`;
  $("page-info").dataset.page = String(page);
  $("first").disabled = $("prev").disabled = page <= 1;
  $("next").disabled = $("last").disabled = page >= pages;
  const box = $("results");
  if (data.rows.length === 0) {
    box.replaceChildren(el("div", { class: "empty" }, "No results."));
    return;
  }
  box.replaceChildren(state.tab === "events" ? eventsView(data) : tableView(data));
}

function cell(value, column) {
  if (column === "_time") return document.createTextNode(timeText(value));
  if (Array.isArray(value)) {
    const wrap = el("div", { class: "mv" });
    for (const v of value) wrap.append(el("div", {}, v));
    return wrap;
  }
  return document.createTextNode(value === null ? "" : String(value));
}

function tableView(data) {
  const head = el("tr", {}, ...data.columns.map((c) => el("th", {}, c)));
  const body = data.rows.map((row) => el("tr", {}, ...row.map((v, i) => el("td", {}, cell(v, data.columns[i])))));
  return el("table", { class: "grid", id: "stats-table" }, el("thead", {}, head), el("tbody", {}, ...body));
}

// An event: its time, its _raw, then the selected fields (all fields when it has no _raw).
function eventsView(data) {
  const cols = data.columns;
  const timeAt = cols.indexOf("_time");
  const rawAt = cols.indexOf("_raw");
  const list = el("div", { id: "event-list" });
  data.rows.forEach((row, n) => {
    const body = el("div", { class: "body-cell" });
    const raw = rawAt >= 0 && row[rawAt] !== null;
    if (raw) body.append(el("div", { class: "raw" }, String(row[rawAt])));
    const kv = el("div", { class: "kv" });
    cols.forEach((name, i) => {
      if (i === timeAt || i === rawAt || row[i] === null || name.startsWith("__")) return;
      if (raw && !SELECTED.includes(name)) return;
      const values = Array.isArray(row[i]) ? row[i] : [row[i]];
      kv.append(el("span", {}, el("b", {}, name), "=", values.join("\n")));
    });
    body.append(kv);
    const stamp = timeAt >= 0 ? timeText(row[timeAt]) : `#${state.offset + n + 1}`;
    list.append(el("div", { class: "event" }, el("div", { class: "time" }, stamp), body));
  });
  return list;
}

function renderTabs() {
  $("tab-events").classList.toggle("active", state.tab === "events");
  $("tab-stats").classList.toggle("active", state.tab === "stats");
}

function goTo(offset) {
  if (!state.job) return;
  const last = Math.max(0, Math.ceil(state.job.rows / PAGE) - 1) * PAGE;
  state.offset = Math.min(Math.max(0, offset), last);
  loadPage();
}

// ------------------------------------------------------------------ fields sidebar

// Splunk's grouping: the selected fields, then the interesting ones (in 20% of the rows
// or more), then the rest, folded.
const SELECTED = ["host", "source", "sourcetype"];
const INTERESTING = 20;

async function loadFields() {
  const job = state.job;
  const { ok, data } = await api(`/api/jobs/${job.id}/fields`);
  if (!ok) return;
  const shown = data.fields.filter(
    (f) => f.name !== "_time" && f.name !== "_raw" && !f.name.startsWith("__") && f.count > 0,
  );
  const groups = [
    ["Selected fields", shown.filter((f) => SELECTED.includes(f.name)), false],
    ["Interesting fields", shown.filter((f) => !SELECTED.includes(f.name) && f.coverage >= INTERESTING), false],
    ["More fields", shown.filter((f) => !SELECTED.includes(f.name) && f.coverage < INTERESTING), true],
  ];
  const list = $("field-list");
  list.replaceChildren();
  for (const [title, fields, folded] of groups) {
    if (!fields.length) continue;
    const items = el("ul", { class: "group-fields" });
    if (folded) items.hidden = true;
    const head = el("button", { class: "group", type: "button", onclick: () => { items.hidden = !items.hidden; } },
      `${title} (${fields.length})`);
    for (const field of fields) items.append(fieldItem(field, data.rows));
    list.append(el("li", { class: "group-item" }, head, items));
  }
}

function fieldItem(field, rows) {
  const values = el("ul", { class: "values", hidden: "" });
  for (const top of field.top) {
    const share = rows ? ((100 * top.count) / rows).toFixed(1) : "0";
    values.append(
      el(
        "li",
        {},
        el("button", { class: "value", type: "button", title: top.value, "data-field": field.name,
          onclick: () => narrow(field.name, top.value) }, top.value),
        el("span", { class: "count" }, `${top.count} (${share}%)`),
      ),
    );
  }
  const name = el(
    "button",
    { class: "field-name", type: "button", "data-field": field.name,
      title: `${field.distinct} distinct values, in ${field.coverage}% of the results`,
      onclick: () => { values.hidden = !values.hidden; } },
    el("span", {}, field.name),
    el("span", { class: "cov" }, `${field.distinct} · ${Math.round(field.coverage)}%`),
  );
  return el("li", { "data-field": field.name }, name, values);
}

function quote(value) {
  return `"${String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function hasPipe(spl) {
  let quoted = false;
  for (let i = 0; i < spl.length; i++) {
    const c = spl[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "|") return true;
  }
  return false;
}

// Click a value: the search narrows to it, as in Splunk (after a pipe: `| search`).
function narrow(field, value) {
  const spl = $("query").value.trim();
  const term = `${field}=${quote(value)}`;
  $("query").value = hasPipe(spl) ? `${spl} | search ${term}` : `${spl} ${term}`;
  fitQuery();
  runSearch();
}

// ------------------------------------------------------------------ histogram

async function loadHistogram() {
  const job = state.job;
  const { ok, data } = await api(`/api/jobs/${job.id}/histogram?buckets=60`);
  if (!ok || data.start === null) return;
  state.histogram = data;
  $("histogram-box").hidden = false;
  const svg = $("histogram");
  const width = svg.clientWidth || 800;
  const height = 90;
  const max = Math.max(1, ...data.counts);
  const bar = width / data.counts.length;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const ns = "http://www.w3.org/2000/svg";
  data.counts.forEach((count, i) => {
    if (!count) return;
    const h = Math.max(2, (count / max) * (height - 6));
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("class", "bar");
    rect.setAttribute("x", (i * bar + 1).toFixed(1));
    rect.setAttribute("y", (height - h).toFixed(1));
    rect.setAttribute("width", Math.max(1, bar - 2).toFixed(1));
    rect.setAttribute("height", h.toFixed(1));
    const title = document.createElementNS(ns, "title");
    title.textContent = `${count} at ${timeText(data.start + i * data.width)}`;
    rect.append(title);
    svg.append(rect);
  });
  $("hist-start").textContent = timeText(data.start);
  $("hist-end").textContent = timeText(data.end);
}

function histogramDrag() {
  const svg = $("histogram");
  const ns = "http://www.w3.org/2000/svg";
  let from = null;
  let band = null;
  const at = (event) => {
    const box = svg.getBoundingClientRect();
    return Math.min(Math.max(event.clientX - box.left, 0), box.width);
  };
  svg.addEventListener("mousedown", (event) => {
    if (!state.histogram) return;
    from = at(event);
    band = document.createElementNS(ns, "rect");
    band.setAttribute("class", "selection");
    band.setAttribute("y", "0");
    band.setAttribute("height", "90");
    band.setAttribute("x", String(from));
    band.setAttribute("width", "1");
    svg.append(band);
    event.preventDefault();
  });
  window.addEventListener("mousemove", (event) => {
    if (from === null) return;
    const x = at(event);
    band.setAttribute("x", String(Math.min(from, x)));
    band.setAttribute("width", String(Math.max(1, Math.abs(x - from))));
  });
  window.addEventListener("mouseup", (event) => {
    if (from === null) return;
    const box = svg.getBoundingClientRect();
    const h = state.histogram;
    const span = h.width * h.counts.length;
    let [a, b] = [from, at(event)].sort((p, q) => p - q);
    from = null;
    if (b - a < 3) {  // a click: the bucket under the pointer
      const i = Math.floor((a / box.width) * h.counts.length);
      a = (i / h.counts.length) * box.width;
      b = ((i + 1) / h.counts.length) * box.width;
    }
    const earliest = Math.floor(h.start + (a / box.width) * span);
    const latest = Math.ceil(h.start + (b / box.width) * span) + 1;
    setCustomRange(earliest, latest);
    runSearch();
  });
}

// ------------------------------------------------------------------ explain

async function explain() {
  const box = $("sql");
  if (!box.hidden) {
    box.hidden = true;
    return;
  }
  const { ok, data } = await api("/api/explain", { spl: $("query").value, ...timeRange() });
  if (!ok) {
    showError(data.error);
    return;
  }
  showError(null);
  box.textContent = data.sql;
  box.hidden = false;
}

// ------------------------------------------------------------------ detections

let detectionsLoaded = false;

async function loadDetections() {
  if (detectionsLoaded) return;
  $("detection-count").textContent = "loading…";
  const { ok, data } = await api("/api/detections");
  if (!ok) return;
  detectionsLoaded = true;
  const body = $("detection-list").querySelector("tbody");
  body.replaceChildren(
    ...data.detections.map((d) =>
      el(
        "tr",
        { "data-name": d.name },
        el("td", {}, d.name),
        el("td", {}, d.kind),
        el("td", {}, d.description),
        el("td", {}, d.runnable
          ? el("button", { type: "button", class: "run-detection", onclick: () => runDetection(d) }, "Run")
          : ""),
      ),
    ),
  );
  filterDetections();
}

function filterDetections() {
  const words = $("detection-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  const rows = $("detection-list").querySelectorAll("tbody tr");
  for (const row of rows) {
    const text = row.textContent.toLowerCase();
    row.hidden = !words.every((w) => text.includes(w));
    if (!row.hidden) shown++;
  }
  $("detection-count").textContent = `${shown} of ${rows.length}`;
}

async function runDetection(detection) {
  $("detection-run").hidden = false;
  $("detection-title").textContent = detection.name;
  $("detection-status").textContent = "running…";
  $("detection-error").hidden = true;
  $("hits").replaceChildren();
  $("host-timeline").replaceChildren();
  const { ok, data } = await api("/api/detections/run", { name: detection.name, ...timeRange() });
  if (!ok) {
    showDetectionError(data.error);
    return;
  }
  let status = data;
  while (status.state === "queued" || status.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, 150));
    status = (await api(`/api/jobs/${status.id}`)).data;
    $("detection-status").textContent = `running… ${status.rows} hits so far`;
  }
  if (status.state !== "done") {
    showDetectionError(status.error || status.state);
    return;
  }
  $("detection-status").textContent = `${status.rows} hits (${status.elapsed.toFixed(2)} s)`;
  const page = (await api(`/api/jobs/${status.id}/rows?offset=0&count=200`)).data;
  const head = el("tr", {}, el("th", {}, ""), ...page.columns.map((c) => el("th", {}, c)));
  const rows = page.rows.map((row, i) =>
    el(
      "tr",
      {},
      el("td", {}, el("button", { type: "button", class: "hit-events", onclick: () => hitEvents(status.id, i) }, "events")),
      ...row.map((v, j) => el("td", {}, cell(v, page.columns[j]))),
    ),
  );
  $("hits").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  const svg = await fetch(`/api/jobs/${status.id}/timeline`, { headers: { "X-Stagehunt-Token": TOKEN } });
  if (svg.ok) $("host-timeline").innerHTML = await svg.text();  // escaped by the server
}

async function hitEvents(jobId, row) {
  const { ok, data } = await api(`/api/jobs/${jobId}/drilldown?row=${row}`);
  if (!ok) {
    showDetectionError(data.error);
    return;
  }
  show("search");
  $("query").value = data.spl;
  fitQuery();
  runSearch();
}

// ------------------------------------------------------------------ wiring

function show(view) {
  $("view-search").hidden = view !== "search";
  $("view-detections").hidden = view !== "detections";
  $("nav-search").classList.toggle("active", view === "search");
  $("nav-detections").classList.toggle("active", view === "detections");
  if (view === "detections") loadDetections();
}

$("run").addEventListener("click", runSearch);
$("cancel").addEventListener("click", cancelSearch);
$("explain").addEventListener("click", explain);
// the query bar grows with the query (up to 16 lines; then it scrolls)
function fitQuery() {
  const box = $("query");
  const lines = Math.min(16, Math.max(2, box.value.split("\n").length));
  box.rows = lines;
}
$("query").addEventListener("input", fitQuery);
$("query").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    runSearch();
  }
});
$("earliest").addEventListener("input", showRange);
$("latest").addEventListener("input", showRange);
$("time").addEventListener("change", () => {
  $("custom-time").hidden = $("time").value !== "custom";
});
$("tab-events").addEventListener("click", () => { state.tab = "events"; if (state.job) loadPage(); });
$("tab-stats").addEventListener("click", () => { state.tab = "stats"; if (state.job) loadPage(); });
$("first").addEventListener("click", () => goTo(0));
$("prev").addEventListener("click", () => goTo(state.offset - PAGE));
$("next").addEventListener("click", () => goTo(state.offset + PAGE));
$("last").addEventListener("click", () => goTo(Number.MAX_SAFE_INTEGER));
$("nav-search").addEventListener("click", () => show("search"));
$("nav-detections").addEventListener("click", () => show("detections"));
$("detection-filter").addEventListener("input", filterDetections);
histogramDrag();
renderTabs();
const initial = new URL(window.location.href).searchParams.get("q");
if (initial) $("query").value = initial;
fitQuery();
