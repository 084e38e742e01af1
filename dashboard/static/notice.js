// The notice for urgent alerts (fever, over the limit) on every open page that follows the live
// stream (live.js's "gerbang:live" events: one connection serves both): a banner that stays until
// dismissed, and a short beep unless the user turned sound off (a stored preference: body[data-sound]). Loaded from a file (the CSP forbids inline scripts);
// text goes in with textContent only. window.gerbangBeeps counts beeps (for tests and curious eyes).
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live-url");
  var notice = document.getElementById("notice");
  if (!url || !notice) { return; }
  window.gerbangBeeps = 0;
  var audio = null;

  function beep() {
    if (document.body.getAttribute("data-sound") !== "on") { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.35);
      window.gerbangBeeps += 1;
    } catch (err) { /* a browser that refuses sound still shows the notice */ }
  }

  notice.querySelector(".dismiss").addEventListener("click", function () {
    notice.hidden = true;
  });

  document.addEventListener("gerbang:live", function (event) {
    if (event.detail.kind !== "alert") { return; }
    var data = event.detail.data;
    var kind = String(data.kind);
    var label = notice.getAttribute("data-" + kind.replace(/[^a-z_]/g, ""));
    if (!label) { return; }  // not an urgent kind
    notice.querySelector(".text").textContent = [label, data.room || "", data.station || ""]
      .filter(function (part) { return part; }).join(" · ");
    notice.className = "notice kind-" + kind.replace(/[^a-z_]/g, "");
    notice.hidden = false;
    beep();
  });
}());
