// Live updates: the page's one connection to the dashboard's Server-Sent Events.
// Every message is dispatched as a DOM event, "gerbang:live" on document with detail {kind, data, id},
// so other scripts (notice.js) share this connection instead of opening their own. It updates the
// room cards itself; a page region marked data-live-region (with data-live-kinds, and data-live-site
// with data-live-room to follow one room only) is fetched again from the server and swapped in when
// a message of its kinds arrives (the overview's open alerts among them, so a new alert shows as the
// full line the server renders). A room is known by its site and its slug together: two sites may
// each have a "hall", and one's messages never touch the other's card or regions. The #live-lost banner shows while the stream is
// down and clears when it is back. Loaded from a file (the Content-Security-Policy forbids inline
// scripts). Message text goes in with textContent only, never as HTML.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live-url");
  if (!url || !window.EventSource) { return; }
  var lastId = null;
  var lostTimer = null;
  var LOST_AFTER_MS = 1500;  // a stream that ends on schedule reconnects within this: no banner

  function setLost(lost) {
    var banner = document.getElementById("live-lost");
    document.body.setAttribute("data-live-state", lost ? "lost" : "live");
    if (banner) { banner.hidden = !lost; }
    document.dispatchEvent(new CustomEvent("gerbang:connection", { detail: { lost: lost } }));
  }

  // EventSource reconnects by itself after a dropped stream, but gives up on an answer that is not
  // a stream (503 when the server has its fill of live pages, with Retry-After: 5): then open a new
  // one a few seconds later, after the last message this page got.
  function connect() {
    var target = url;
    if (lastId !== null) { target = url.replace(/([?&]after=)[^&]*/, "$1" + encodeURIComponent(lastId)); }
    var source = new EventSource(target);
    ["occupancy", "alert", "queue", "station"].forEach(function (kind) {
      source.addEventListener(kind, function (message) { dispatch(kind, message); });
    });
    source.addEventListener("open", function () {
      if (lostTimer !== null) { window.clearTimeout(lostTimer); lostTimer = null; }
      if (document.body.getAttribute("data-live-state") === "lost") { refreshAll(); }
      setLost(false);
    });
    source.addEventListener("error", function () {
      if (lostTimer === null && document.body.getAttribute("data-live-state") !== "lost") {
        lostTimer = window.setTimeout(function () { lostTimer = null; setLost(true); }, LOST_AFTER_MS);
      }
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(connect, 5000 + Math.floor(Math.random() * 5000));
      }
    });
  }

  function dispatch(kind, message) {
    if (message.lastEventId) { lastId = message.lastEventId; }
    var data;
    try { data = JSON.parse(message.data); } catch (err) { return; }
    document.dispatchEvent(new CustomEvent("gerbang:live", { detail: { kind: kind, data: data, id: lastId } }));
  }

  document.addEventListener("gerbang:live", function (event) {
    var detail = event.detail;
    if (detail.kind === "occupancy") { onOccupancy(detail.data); }
    scheduleRefresh(detail.kind, detail.data);
  });

  function sameRoom(element, prefix, data) {
    return element.getAttribute(prefix + "room") === data.room && element.getAttribute(prefix + "site") === data.site;
  }

  function onOccupancy(data) {
    document.querySelectorAll(".card[data-room]").forEach(function (card) {
      if (!sameRoom(card, "data-", data)) { return; }
      card.querySelector(".count").textContent = String(data.occupancy);
      card.querySelector(".limit").textContent = String(data.limit);
      card.classList.remove("state-open", "state-near", "state-full");
      card.classList.add("state-" + data.state);
      var state = card.querySelector(".state");
      if (state) { state.textContent = state.getAttribute("data-" + data.state) || data.state; }
    });
  }

  // Regions fetched again: several messages in a burst cost one request.
  var refreshTimer = null;
  var pending = {};

  function follows(region, kind, data) {
    var kinds = (region.getAttribute("data-live-kinds") || "").split(" ");
    if (kinds.indexOf(kind) < 0) { return false; }
    // a region of one room follows that room's messages, and those of no room (a silent station's)
    return !region.hasAttribute("data-live-room") || !data.room || sameRoom(region, "data-live-", data);
  }

  function scheduleRefresh(kind, data) {
    var any = false;
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      if (follows(region, kind, data)) { pending[region.id] = true; any = true; }
    });
    // a little random delay: a thousand open pages do not all ask at the same instant
    if (any && refreshTimer === null) { refreshTimer = window.setTimeout(refresh, 250 + Math.floor(Math.random() * 750)); }
  }

  function refreshAll() {
    document.querySelectorAll("[data-live-region]").forEach(function (region) { pending[region.id] = true; });
    if (refreshTimer === null) { refreshTimer = window.setTimeout(refresh, 250); }
  }

  function refresh() {
    refreshTimer = null;
    var ids = Object.keys(pending);
    pending = {};
    if (!ids.length || !window.fetch || !window.DOMParser) { return; }
    window.fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");  // the server's own page: no script runs
        ids.forEach(function (id) { swap(document.getElementById(id), fresh.getElementById(id)); });
        document.dispatchEvent(new CustomEvent("gerbang:refreshed", { detail: { regions: ids } }));
      })
      .catch(function () { /* the banner says when the server is gone; the next message tries again */ });
  }

  // Swap a region for its fresh copy, keeping what the user chose in it (ticked boxes, typed text).
  function swap(current, fresh) {
    if (!current || !fresh) { return; }
    var ticked = {};
    current.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { ticked[box.value] = true; });
    fresh.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (ticked[box.value]) { box.checked = true; }
    });
    current.replaceWith(document.importNode(fresh, true));
  }

  connect();
}());
