// The kiosk page: shows the station's state as it arrives over Server-Sent Events.
"use strict";

const texts = JSON.parse(document.getElementById("texts").textContent);
const config = JSON.parse(document.getElementById("config").textContent);
let language = localStorage.getItem("gerbang-language") || config.language;
let last = null;

function t(key) {
  const words = texts[language] || texts.id;
  return (words[key] || key).replace("{retest_min}", config.retest_min);
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
  setText("alt-text", alt.text || "");
  setText("alt-phone", alt.phone ? "☎ " + alt.phone : "");
  setText("alt-whatsapp", alt.whatsapp ? "WhatsApp " + alt.whatsapp : "");
  if (last) show(last);
}

function show(state) {
  // The first /state answer can arrive after a newer state from the event stream: keep the newer.
  if (last && state !== last && state.seq < last.seq) return;
  last = state;
  const light = document.getElementById("light");
  light.className = "light " + state.light;
  light.dataset.decision = state.decision || "";
  const full = state.room_state === "full";
  let message = t(state.message);
  if (state.queue_ticket !== null && state.queue_ticket !== undefined) message = t("full");
  setText("message", message);
  setText("temperature", state.body_c === null ? "–" : state.body_c.toFixed(1) + " °C");
  setText("mask", state.mask ? t(state.mask) : "–");
  setText("occupancy", state.occupancy_people);
  setText("limit", state.limit_people);
  const roomState = document.getElementById("room-state");
  roomState.className = "room-state " + state.room_state;
  roomState.textContent = t(state.room_state === "full" ? "full_state" : state.room_state);
  setText("called", state.queue_called === null ? "–" : state.queue_called);
  setText("waiting", state.queue_waiting.length ? state.queue_waiting.join(", ") : "–");
  const ticket = document.getElementById("ticket");
  const number = state.queue_ticket ?? (state.decision === "retest" ? state.retest_ticket : null);
  ticket.hidden = number === null || number === undefined;
  if (!ticket.hidden) {
    setText("ticket-label", t(state.queue_ticket ? "queue_ticket" : "retest_ticket"));
    setText("ticket-number", number);
    setText("ticket-wait", state.queue_wait_min ? t("queue_wait") + ": " + Math.ceil(state.queue_wait_min) + " " + t("minutes") : "");
  }
  document.getElementById("alternatives").hidden = !(full || state.queue_ticket || state.decision === "deny") || !Object.keys(config.alternatives || {}).length;
  const notice = document.getElementById("notice");
  const problems = [];
  if (!state.journal_ok) problems.push(t("journal_full"));
  if (state.devices && state.devices.dashboard === "offline") problems.push(t("offline"));
  if (state.devices && state.devices.thermometer === "offline") problems.push(t("sensor_offline"));
  if (state.set_aside) problems.push(t("set_aside").replace("{n}", state.set_aside));
  notice.hidden = problems.length === 0;
  notice.textContent = problems.join(" ");
  showDoors(state.doors || {});
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

async function act(action) {
  const body = {
    pin: document.getElementById("pin").value,
    by: document.getElementById("by").value,
    reason: document.getElementById("reason").value,
    action: action,
  };
  if (action === "plus" || action === "minus") { body.action = "correct"; body.delta = action === "plus" ? 1 : -1; }
  if (action === "set") { body.action = "correct"; body.value = parseInt(document.getElementById("count").value, 10); }
  if (action === "retest") body.ticket = parseInt(document.getElementById("retest-ticket").value, 10);
  localStorage.setItem("gerbang-guard", body.by);
  const response = await fetch("/api/action", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  const answer = await response.json();
  setText("guard-result", response.ok ? t("done") : (response.status === 403 ? t("wrong_pin") : answer.error));
  if (response.ok) show(answer.state);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("by").value = localStorage.getItem("gerbang-guard") || "";
  document.getElementById("language").addEventListener("click", () => {
    language = language === "id" ? "en" : "id";
    localStorage.setItem("gerbang-language", language);
    translatePage();
  });
  const dialog = document.getElementById("guard");
  document.getElementById("guard-open").addEventListener("click", () => {
    dialog.showModal();
    if (document.getElementById("door-frame")) {
      refreshDoorFrame();
      doorTimer = setInterval(refreshDoorFrame, 1000);
    }
  });
  dialog.addEventListener("close", () => { clearInterval(doorTimer); doorTimer = null; });
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  translatePage();
  fetch("/state").then((r) => r.json()).then(show);
  connect();
});
