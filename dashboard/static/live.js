// Live updates: listens to the dashboard's Server-Sent Events and updates room cards and alerts.
// Loaded from a file (the Content-Security-Policy forbids inline scripts). Text goes in with
// textContent only, never as HTML.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live-url");
  if (!url || !window.EventSource) { return; }
  var source = new EventSource(url);

  source.addEventListener("occupancy", function (message) {
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
  });

  source.addEventListener("alert", function (message) {
    var data = JSON.parse(message.data);
    var list = document.getElementById("live-alerts");
    if (!list) { return; }
    var item = document.createElement("li");
    item.className = "alert kind-" + String(data.kind).replace(/[^a-z_]/g, "");
    var kind = list.getAttribute("data-" + String(data.kind)) || String(data.kind);
    item.textContent = [kind, data.room || "", data.station || "", data.detail || ""].join(" · ");
    list.insertBefore(item, list.firstChild);
  });
}());
