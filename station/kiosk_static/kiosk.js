// The kiosk page: shows the station's state as it arrives over Server-Sent Events.
//
// The station says which scene to show (its table: light, icon, headline, detail); this page only
// puts it in words, in the visitor's language. A visitor may switch the language; it is kept
// (localStorage) until the visit is over, then the page returns to the station's language.
"use strict";

const texts = JSON.parse(document.getElementById("texts").textContent);
const config = JSON.parse(document.getElementById("config").textContent);
const LANGUAGE_KEY = "gerbang-language";
const VISIT_SCENES = new Set(["checking", "sensor_offline", "admitted", "denied", "queued", "retest", "retest_desk"]);
const GUARD_IDLE_MS = 30000;
let language = localStorage.getItem(LANGUAGE_KEY) || config.language;
let last = null;
let chimedFor = null;

// A word of the page's language; {name} is filled from ``params``; a key with _one/_other forms is
// a plural chosen by the language's rule from the number it counts (minutes, seconds, else n).
function t(key, params = {}) {
  const words = texts[language] || texts.id;
  let text = words[key];
  if (text === undefined && (words[key + "_other"] !== undefined)) {
    const count = Number(params.min ?? params.seconds ?? params.n ?? 0);  // the number the noun counts
    const form = new Intl.PluralRules(language).select(count);
    text = words[key + "_" + form] ?? words[key + "_other"];
  }
  if (text === undefined) return key;
  const values = text.includes("{rest}") ? {rest: minutes(config.retest_min), ...params} : params;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function minutes(count) {
  return t("minutes", {n: count});
}

function setText(id, value) {
  document.getElementById(id).textContent = value;
}

function translatePage() {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = t(element.dataset.text);
  }
  const alt = config.alternatives || {};
  const altText = language === "en" ? (alt.text_en || t("alternatives_default")) : (alt.text || t("alternatives_default"));
  setText("alt-text", altText);
  setText("alt-phone", alt.phone ? "☎ " + alt.phone : "");
  setText("alt-whatsapp", alt.whatsapp ? "WhatsApp " + alt.whatsapp : "");
  showClock();
  if (last) show(last);
}

function showClock() {
  const time = new Intl.DateTimeFormat(language === "en" ? "en-GB" : "id-ID", {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: config.time_zone,
  }).format(new Date());
  setText("clock", time.replace(".", ":") + " " + config.zone_name);
}

function hasAlternatives() {
  const alt = config.alternatives || {};
  return Boolean(alt.text || alt.phone || alt.whatsapp || alt.link);
}

function show(state) {
  // The first /state answer can arrive after a newer state from the event stream: keep the newer.
  if (last && state !== last && state.seq < last.seq) return;
  const previous = last;
  last = state;
  if (previous && VISIT_SCENES.has(previous.scene) && !VISIT_SCENES.has(state.scene)) endVisit();
  const scene = state.scene || "welcome";
  document.getElementById("kiosk").dataset.scene = scene;
  const light = document.getElementById("light");
  light.className = "light " + state.light;
  light.dataset.decision = state.decision || "";
  light.dataset.scene = scene;
  setText("light-icon", state.icon || "");
  setText("light-word", t(state.light_word || "light_ready"));
  const number = scene === "called" ? state.queue_called : state.queue_ticket;
  setText("headline", t(state.headline || "head_welcome", {n: number}));
  setText("message", t(state.detail || state.message, {n: number}));
  setText("temperature", state.body_c === null ? "–" : state.body_c.toFixed(1) + " °C");
  setText("mask", state.mask ? t(state.mask) : "–");
  setText("occupancy", state.occupancy_people);
  setText("limit", state.limit_people);
  const roomState = document.getElementById("room-state");
  roomState.className = "room-state " + state.room_state;
  roomState.textContent = t(state.room_state === "full" ? "full_state" : state.room_state);
  setText("called", state.queue_called === null ? "–" : state.queue_called);
  setText("waiting", waitingText(state.queue_waiting));
  showTicket(state, scene);
  const full = state.room_state === "full";
  const refused = scene === "denied" || scene === "queued" || scene === "full" || (full && scene !== "called");
  document.getElementById("alternatives").hidden = !(refused && hasAlternatives());
  showNotice(state);
  showDoors(state.doors || {});
  if (scene === "called" && chimedFor !== state.queue_called) {
    chimedFor = state.queue_called;
    chime();
  }
}

// The waiting numbers, the first few of a long queue and how many more.
function waitingText(numbers) {
  if (!numbers.length) return "–";
  if (numbers.length <= 4) return numbers.join(", ");
  return numbers.slice(0, 3).join(", ") + " … +" + (numbers.length - 3);
}

function showTicket(state, scene) {
  const ticket = document.getElementById("ticket");
  let number = null;
  let label = "";
  if (scene === "queued") { number = state.queue_ticket; label = "queue_ticket"; }
  if (scene === "retest") { number = state.retest_ticket; label = "retest_ticket"; }
  ticket.hidden = number === null || number === undefined;
  if (ticket.hidden) return;
  setText("ticket-label", t(label));
  setText("ticket-number", number);
  const wait = scene === "queued" && state.queue_wait_min ? Math.ceil(state.queue_wait_min) : null;
  setText("ticket-wait", wait ? t("queue_wait") + ": " + minutes(wait) : "");
}

function showNotice(state) {
  const notice = document.getElementById("notice");
  const problems = [];
  if (!state.journal_ok) problems.push(t("journal_full"));
  if (state.devices && state.devices.dashboard === "offline") problems.push(t("offline"));
  if (state.limit_source === "last_known") problems.push(t("limit_last_known", {n: state.limit_people}));
  if (state.devices && state.devices.thermometer === "offline" && state.scene !== "sensor_offline") {
    problems.push(t("sensor_offline"));
  }
  if (state.set_aside) problems.push(t("set_aside", {n: state.set_aside}));
  notice.hidden = problems.length === 0;
  notice.textContent = problems.join(" ");
}

// The visit is over: the next visitor starts in the station's language.
function endVisit() {
  localStorage.removeItem(LANGUAGE_KEY);
  if (language !== config.language) {
    language = config.language;
    translatePage();
  }
}

// A short two-tone chime when a queue number is called (where the browser lets a page make sound).
function chime() {
  try {
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    [660, 880].forEach((frequency, index) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.value = 0.2;
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + index * 0.35);
      tone.stop(audio.currentTime + index * 0.35 + 0.3);
    });
  } catch (error) {
    // no sound on this screen; the green headline says it anyway
  }
}

// The guard's panel: today's crossings per door (counting by camera).
function showDoors(doors) {
  const body = document.querySelector("#door-counts tbody");
  if (!body) return;
  body.replaceChildren(...Object.keys(doors).sort().map((door) => {
    const row = document.createElement("tr");
    for (const value of [door, doors[door].in, doors[door].out]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    return row;
  }));
}

// While the guard's panel is open, the door camera's frame (with its lines) is refreshed every second.
let doorTimer = null;
function refreshDoorFrame() {
  const image = document.getElementById("door-frame");
  if (image) image.src = "/door.jpg?t=" + Date.now();
}

function connect() {
  const source = new EventSource("/events");
  source.onmessage = (event) => show(JSON.parse(event.data));
  source.onerror = () => { source.close(); setTimeout(connect, 1000); };
}

let pending = null;  // an action waiting for the guard's second tap
let guardName = null;  // the name the guard picked (several guards), or null

// The guard picks their name (one of the configured guards); their PIN is checked against it only.
function pickGuard(name) {
  guardName = name;
  for (const button of document.querySelectorAll("#guard-names [data-guard]")) {
    button.setAttribute("aria-checked", String(button.dataset.guard === name));
  }
}

function number(id) {
  const text = document.getElementById(id).value.trim();
  return /^\d+$/.test(text) ? parseInt(text, 10) : text;
}

async function act(action, confirm = false) {
  const body = {
    pin: document.getElementById("pin").value,
    reason: document.getElementById("reason").value,
    action: action,
  };
  if (guardName !== null) body.guard = guardName;
  if (action === "plus" || action === "minus") { body.action = "correct"; body.delta = action === "plus" ? 1 : -1; }
  if (action === "set") { body.action = "correct"; body.value = number("count"); }
  if (action === "retest") body.ticket = number("retest-ticket");
  if (confirm) body.confirm = true;
  let response;
  let answer;
  try {
    response = await fetch("/api/action", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    });
    answer = await response.json();
  } catch (error) {
    answer = {code: "bad_request", params: {}};
    response = {ok: false, status: 0};
  }
  const result = document.getElementById("guard-result");
  result.textContent = t(answer.code || (response.ok ? "done" : "bad_request"), answer.params || {});
  result.dataset.ok = response.ok && answer.changed !== false ? "yes" : "no";
  result.dataset.code = answer.code || "";
  const confirmButton = document.getElementById("confirm");
  pending = response.status === 409 ? action : null;
  confirmButton.hidden = pending === null;
  if (response.ok) {
    show(answer.state);
    document.getElementById("reason").value = "";
  }
}

function clearGuard() {
  for (const input of document.querySelectorAll("#guard input")) input.value = "";
  setText("guard-result", "");
  document.getElementById("confirm").hidden = true;
  pending = null;
  pickGuard(null);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("language").addEventListener("click", () => {
    language = language === "id" ? "en" : "id";
    localStorage.setItem(LANGUAGE_KEY, language);
    translatePage();
  });
  const dialog = document.getElementById("guard");
  let idleTimer = null;
  const stillThere = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => dialog.close(), GUARD_IDLE_MS);
  };
  let numeric = document.getElementById("pin");
  for (const input of document.querySelectorAll("#guard input.numeric")) {
    input.addEventListener("focus", () => { numeric = input; });
  }
  for (const key of document.querySelectorAll("#keypad [data-key]")) {
    key.addEventListener("click", () => {
      const value = key.dataset.key;
      if (value === "clear") numeric.value = "";
      else if (value === "back") numeric.value = numeric.value.slice(0, -1);
      else if (numeric.value.length < (numeric.maxLength > 0 ? numeric.maxLength : 12)) numeric.value += value;
    });
  }
  for (const button of document.querySelectorAll("#guard-names [data-guard]")) {
    button.addEventListener("click", () => {
      pickGuard(button.dataset.guard);
      numeric = document.getElementById("pin");
      numeric.focus();
    });
  }
  document.getElementById("guard-open").addEventListener("click", () => {
    clearGuard();
    dialog.showModal();
    numeric = document.getElementById("pin");
    stillThere();
    if (document.getElementById("door-frame")) {
      refreshDoorFrame();
      doorTimer = setInterval(refreshDoorFrame, 1000);
    }
  });
  for (const kind of ["pointerdown", "keydown", "input"]) dialog.addEventListener(kind, stillThere);
  dialog.addEventListener("close", () => {
    clearInterval(doorTimer);
    doorTimer = null;
    clearTimeout(idleTimer);
    clearGuard();  // nothing typed stays for the next person at the screen
  });
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  document.getElementById("confirm").addEventListener("click", () => { if (pending) act(pending, true); });
  translatePage();
  setInterval(showClock, 10000);
  // The stream sends the current state once it has one; this answer only fills the page until then
  // (a state of the same sequence number from the stream is newer than it).
  fetch("/state").then((r) => r.json()).then((state) => { if (!last) show(state); });
  connect();
});
