// Live updates: listens to the dashboard's Server-Sent Events and updates room cards and alerts.
// Loaded from a file (the Content-Security-Policy forbids inline scripts). Text goes in with
// textContent only, never as HTML.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live-url");
  if (!url || !window.EventSource) { return; }
  var lastId = null;

  // EventSource reconnects by itself after a dropped stream, but gives up on an answer that is not
  // a stream (503 when the server has its fill of live pages, with Retry-After: 5): then open a new
  // one a few seconds later, after the last message this page got.
  function connect() {
    var target = url;
    if (lastId !== null) { target = url.replace(/([?&]after=)[^&]*/, "$1" + encodeURIComponent(lastId)); }
    var source = new EventSource(target);
    source.addEventListener("occupancy", onOccupancy);
    source.addEventListener("alert", onAlert);
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(connect, 5000 + Math.floor(Math.random() * 5000));
      }
    });
  }

  function remember(message) {
    if (message.lastEventId) { lastId = message.lastEventId; }
  }

  function onOccupancy(message) {
    remember(message);
    var data = JSON.parse(message.data);
    document.querySelectorAll(".card[data-room]").forEach(function (card) {
      if (card.getAttribute("data-room") !== data.room) { return; }
      card.querySelector(".count").textContent = String(data.occupancy);
      card.querySelector(".limit").textContent = String(data.limit);
      card.classList.remove("state-open", "state-near", "state-full");
      card.classList.add("state-" + data.state);
      var state = card.querySelector(".state");
      if (state) { state.textContent = state.getAttribute("data-" + data.state) || data.state; }
    });
  }

  function onAlert(message) {
    remember(message);
    var data = JSON.parse(message.data);
    var list = document.getElementById("live-alerts");
    if (!list) { return; }
    var item = document.createElement("li");
    item.className = "alert kind-" + String(data.kind).replace(/[^a-z_]/g, "");
    var kind = list.getAttribute("data-" + String(data.kind)) || String(data.kind);
    item.textContent = [kind, data.room || "", data.station || "", data.detail || ""].join(" · ");
    list.insertBefore(item, list.firstChild);
  }

  connect();
}());
