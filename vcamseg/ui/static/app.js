// vcamseg settings page. The form is generated from the config's JSON Schema (/api/schema);
// every change is sent as `vcamseg set` KEY=VALUE texts (/api/set), so it is validated and applied
// by the daemon exactly as the CLI's are, and an invalid value comes back with the CLI's message,
// shown next to its field. Every request carries the page's token.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const PREVIEW_INTERVAL_MS = 250; // a few frames a second, only while the page is visible
const STATUS_INTERVAL_MS = 1000;
const $ = (selector, root = document) => root.querySelector(selector);

let SCHEMA = null; // {schema, live}
let CONFIG = null; // the effective config
let view = "output";

function url(path, params = {}) {
  return `${path}?${new URLSearchParams({ ...params, token: TOKEN })}`;
}

async function call(path, { params = {}, body = null } = {}) {
  const init = body === null ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(url(path, params), init);
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { data });
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function showMessage(text, bad = false) {
  const box = $("#message");
  box.textContent = text;
  box.hidden = !text;
  box.classList.toggle("bad", bad);
}

// --- the schema ---------------------------------------------------------------------------------

function resolve(schema) {
  while (schema && schema.$ref) schema = SCHEMA.schema.$defs[schema.$ref.split("/").pop()];
  return schema;
}

// One field's schema reduced to what the form needs: {kind, nullable, enum, ...}.
function describe(raw) {
  let schema = resolve(raw);
  let nullable = false;
  if (schema.anyOf) {
    const options = schema.anyOf.map(resolve).filter((s) => s.type !== "null");
    nullable = options.length < schema.anyOf.length;
    if (options.length === 1) schema = { ...options[0], description: raw.description, default: raw.default };
    else return { kind: "yaml", nullable, schema: raw };
  }
  let kind = "yaml";
  if (schema.type === "object" && schema.properties) kind = "section";
  else if (schema.enum) kind = "enum";
  else if (schema.type === "boolean") kind = "bool";
  else if (schema.type === "integer" || schema.type === "number") kind = "number";
  else if (schema.type === "string") kind = "text";
  return { kind, nullable, schema };
}

function rangeText(schema) {
  const parts = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

// The VALUE of `vcamseg set KEY=VALUE` (read as YAML by the daemon) for what the input holds.
function encode(info, input) {
  if (info.kind === "bool") return String(input.checked);
  const text = input.value.trim();
  if (text === "" && info.nullable) return "null";
  if (info.kind === "enum" || info.kind === "text") return JSON.stringify(input.value);
  return text; // numbers and lists as typed, exactly like the command line
}

function shown(info, value) {
  if (value === null || value === undefined) return "";
  if (info.kind === "yaml") return typeof value === "string" ? value : JSON.stringify(value);
  return String(value);
}

// --- the form -----------------------------------------------------------------------------------

function field(key, name, raw, value) {
  const info = describe(raw);
  if (info.kind === "section") return section(key, name, info.schema, value || {}, true);
  const id = `f-${key}`;
  let input;
  if (info.kind === "bool") {
    input = el("input", { type: "checkbox", id });
    input.checked = Boolean(value);
  } else if (info.kind === "enum") {
    input = el("select", { id });
    if (info.nullable) input.append(el("option", { value: "", text: "(default)" }));
    for (const option of info.schema.enum) input.append(el("option", { value: option, text: option }));
    input.value = value === null || value === undefined ? "" : String(value);
  } else {
    input = el("input", { type: "text", id, spellcheck: "false", inputmode: info.kind === "number" ? "decimal" : null });
    input.value = shown(info, value);
    if (info.nullable) input.placeholder = "default";
  }
  input.dataset.sent = encode(info, input);
  const send = () => {
    const text = encode(info, input);
    if (text === input.dataset.sent) return; // Enter, then the change event as the field loses focus
    input.dataset.sent = text;
    apply([`${key}=${text}`], input);
  };
  input.addEventListener("change", send);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); send(); }
  });
  const description = (info.schema.description || raw.description || "") + rangeText(info.schema);
  const live = SCHEMA.live[key] || SCHEMA.live[key.split(".").slice(0, 2).join(".")] || SCHEMA.live[key.split(".")[0]];
  return el("div", { class: "field", "data-key": key },
    el("label", { for: id, text: name }), input,
    description ? el("p", { class: "desc", text: description }) : null,
    live && live !== "at once" ? el("p", { class: "live", text: `applies ${live.split(" (")[0]}` }) : null,
    el("p", { class: "error", hidden: true }));
}

function section(key, name, schema, values, nested) {
  const body = el("div", { class: "body" });
  for (const [prop, raw] of Object.entries(schema.properties)) {
    if (key === "" && prop === "effects") continue;
    body.append(field(key ? `${key}.${prop}` : prop, prop, raw, values[prop]));
  }
  const error = el("p", { class: "error", hidden: true });
  if (nested) return el("fieldset", { "data-key": key }, el("legend", { text: name }), body, error);
  return el("details", { "data-key": key },
    el("summary", { text: name }, el("span", { class: "note", text: firstSentence(schema.description) })), body, error);
}

function firstSentence(text) {
  return (text || "").split(/(?<=[.:])\s/)[0].replace(/^`[a-z]+:` — /, "").replaceAll("`", "").replace(/:$/, "");
}

function effectTypes() {
  const items = SCHEMA.schema.properties.effects.items;
  return Object.fromEntries(Object.entries(items.discriminator.mapping).map(([name, ref]) => [name, resolve({ $ref: ref })]));
}

// What a new effect of this type starts as: `replace` needs a background, so a colour to change.
function newEffect(type) {
  return type === "replace" ? { type, color: "green" } : { type };
}

function effectsEditor(effects) {
  const types = effectTypes();
  const list = el("div", { class: "body", id: "effects" });
  effects.forEach((effect, index) => {
    const schema = types[effect.type];
    const typeSelect = el("select", { class: "effect-type", "aria-label": `effect ${index + 1} type` });
    for (const name of Object.keys(types)) typeSelect.append(el("option", { value: name, text: name }));
    typeSelect.value = effect.type;
    typeSelect.addEventListener("change", () => {
      const changes = [`effects.${index}.type=${typeSelect.value}`]; // clears the item: the new type's defaults
      if (typeSelect.value === "replace") changes.push(`effects.${index}.color=green`);
      apply(changes, typeSelect);
    });
    const move = (to) => {
      const reordered = effects.slice();
      [reordered[index], reordered[to]] = [reordered[to], reordered[index]];
      apply([`effects=${JSON.stringify(reordered)}`]);
    };
    const up = el("button", { type: "button", class: "move-up", title: "earlier", text: "↑", disabled: index === 0 });
    const down = el("button", { type: "button", class: "move-down", title: "later", text: "↓", disabled: index === effects.length - 1 });
    const remove = el("button", { type: "button", class: "remove", title: "remove", text: "✕" });
    up.addEventListener("click", () => move(index - 1));
    down.addEventListener("click", () => move(index + 1));
    remove.addEventListener("click", () => apply([`effects=${JSON.stringify(effects.filter((_, i) => i !== index))}`]));
    const item = el("fieldset", { class: "effect", "data-key": `effects.${index}`, "data-effect-index": index },
      el("legend", {}, `${index + 1}.`, typeSelect, up, down, remove),
      el("p", { class: "desc", text: schema.description || "" }));
    for (const [prop, raw] of Object.entries(schema.properties)) {
      if (prop !== "type") item.append(field(`effects.${index}.${prop}`, prop, raw, effect[prop]));
    }
    item.append(el("p", { class: "error", hidden: true }));
    list.append(item);
  });
  const addType = el("select", { id: "add-effect-type", "aria-label": "new effect type" });
  for (const name of Object.keys(types)) addType.append(el("option", { value: name, text: name }));
  const add = el("button", { type: "button", id: "add-effect", text: "Add effect" });
  add.addEventListener("click", () => apply([`effects=${JSON.stringify([...effects, newEffect(addType.value)])}`]));
  list.append(el("div", { class: "add" }, addType, add));
  return el("details", { open: true, "data-key": "effects" },
    el("summary", { text: "effects" }, el("span", { class: "note", text: "applied in order to every frame" })),
    list, el("p", { class: "error", hidden: true }));
}

function render() {
  const form = $("#settings");
  const open = new Set([...form.querySelectorAll("details[open]")].map((d) => d.dataset.key));
  const scroll = window.scrollY;
  form.replaceChildren(effectsEditor(CONFIG.effects || []));
  const root = SCHEMA.schema;
  for (const [name, raw] of Object.entries(root.properties)) {
    if (name === "effects") continue;
    const details = section(name, name, resolve(raw), CONFIG[name] || {}, false);
    if (open.has(name)) details.open = true;
    form.append(details);
  }
  window.scrollTo(0, scroll);
}

function clearErrors() {
  for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
  for (const node of document.querySelectorAll(".error")) { node.hidden = true; node.textContent = ""; }
}

// The element a problem about `key` is shown at: the key's field, or the nearest section around it.
function placeFor(key) {
  let parts = key ? key.split(".") : [];
  while (parts.length) {
    const node = document.querySelector(`[data-key="${CSS.escape(parts.join("."))}"]`);
    if (node) return node;
    parts = parts.slice(0, -1);
  }
  return null;
}

function showProblems(error) {
  const problems = (error.data && error.data.problems) || [];
  let placed = 0;
  for (const problem of problems) {
    const place = placeFor(problem.key);
    const box = place && place.querySelector(":scope > .error");
    if (!box) continue;
    box.hidden = false;
    box.textContent = box.textContent ? `${box.textContent}\n${problem.message}` : problem.message;
    place.classList.add("invalid");
    placed += 1;
  }
  const fix = error.data && error.data.fix ? `\nfix: ${error.data.fix}` : "";
  showMessage(`not applied (the running configuration is unchanged): ${placed ? "see the field" : error.message}${fix}`, true);
}

async function apply(changes, input = null) {
  clearErrors();
  document.body.dataset.busy = "applying"; // until the reply is shown (the tests wait for it too)
  try {
    const reply = await call("/api/set", { body: { changes, save: false } });
    showMessage(reply.message);
    CONFIG = await call("/api/config");
    render();
  } catch (error) {
    showProblems(error);
    if (input) input.dataset.sent = ""; // sending the same text again retries
  } finally {
    delete document.body.dataset.busy;
  }
  refreshStatus();
}

// --- status and preview -------------------------------------------------------------------------

function figure(label, value) {
  return el("span", {}, `${label} `, el("b", { text: value }));
}

async function refreshStatus() {
  const box = $("#status");
  try {
    const s = await call("/api/status");
    const cpu = s.cpu_ms_per_frame === null ? "–" : `${s.cpu_ms_per_frame.toFixed(1)} ms`;
    box.replaceChildren(
      figure("fps", s.fps.toFixed(1)), figure("CPU/frame", cpu), figure("dropped", String(s.dropped)),
      figure("inference", s.inference_device), figure("state", s.idle ? "idle" : s.source_state),
      figure("readers", s.readers), figure("source", s.source || "–"), figure("output", s.sink || "–"));
    const unsaved = s.daemon.runtime_changes.length;
    const pending = s.daemon.config_pending.length ? ` · pending: ${s.daemon.config_pending.join(", ")}` : "";
    $("#unsaved").textContent = (unsaved ? `${unsaved} unsaved change${unsaved > 1 ? "s" : ""}` : "saved") + pending;
    // A key whose written value does not run yet (the output, the service: until a restart; a model
    // still loading): its field shows what runs, marked as pending.
    for (const node of document.querySelectorAll(".field")) {
      node.classList.toggle("pending", s.daemon.config_pending.includes(node.dataset.key));
    }
    if (CONFIG === null) await load();
  } catch (error) {
    box.replaceChildren(el("span", { class: "down", text: `daemon: ${error.message}` }));
  }
}

async function load() {
  SCHEMA = SCHEMA || await call("/api/schema");
  CONFIG = await call("/api/config");
  render();
}

function pollPreview() {
  const image = $("#preview");
  const note = $("#preview-note");
  const next = () => setTimeout(pollPreview, PREVIEW_INTERVAL_MS);
  if (document.hidden) { next(); return; }
  const asked = view;
  fetch(url("/api/frame", { view: asked, max_width: 640 })).then(async (response) => {
    if (!response.ok) {
      note.textContent = (await response.json()).error;
      return;
    }
    const blob = await response.blob();
    const seq = response.headers.get("X-Frame-Seq");
    const old = image.src;
    await new Promise((done) => {
      image.onload = image.onerror = done;
      image.src = URL.createObjectURL(blob);
    });
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    image.dataset.seq = seq;
    image.dataset.view = asked;
    note.textContent = `${asked} · frame ${seq} · ${image.naturalWidth}×${image.naturalHeight}`;
  }).catch((error) => { note.textContent = `preview: ${error.message}`; }).finally(next);
}

function start() {
  for (const button of document.querySelectorAll(".views button")) {
    button.addEventListener("click", () => {
      view = button.dataset.view;
      for (const other of document.querySelectorAll(".views button")) other.classList.toggle("active", other === button);
    });
  }
  $("#settings").addEventListener("submit", (event) => event.preventDefault());
  $("#save").addEventListener("click", async () => {
    clearErrors();
    try {
      showMessage((await call("/api/save", { body: {} })).message);
    } catch (error) {
      showProblems(error);
    }
    refreshStatus();
  });
  refreshStatus();
  setInterval(refreshStatus, STATUS_INTERVAL_MS);
  pollPreview();
}

start();
