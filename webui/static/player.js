// Recording player: the waveform of both channels drawn on a canvas; click or drag on
// it to jump; a line follows the playback position.
"use strict";
(() => {
  const box = document.getElementById("player");
  const audio = document.getElementById("recording");
  const canvas = document.getElementById("waveform");
  if (!box || !audio || !canvas) return;
  const g = canvas.getContext("2d");
  let wave = null;

  function draw() {
    const w = canvas.width, h = canvas.height;
    g.clearRect(0, 0, w, h);
    if (!wave) return;
    const chans = wave.channels.length ? wave.channels : [[]];
    const band = h / chans.length;
    chans.forEach((peaks, i) => {
      const mid = band * i + band / 2;
      g.fillStyle = i === 0 ? "#1f3a5f" : "#2d6a4f";
      const step = w / Math.max(1, peaks.length);
      peaks.forEach((p, x) => {
        const y = Math.max(1, p * band / 2);
        g.fillRect(x * step, mid - y, Math.max(1, step - 0.5), 2 * y);
      });
    });
    const dur = audio.duration || wave.seconds;
    if (dur) {
      g.fillStyle = "#d00";
      g.fillRect((audio.currentTime / dur) * w, 0, 2, h);
    }
    document.getElementById("position").textContent =
      `${audio.currentTime.toFixed(1)} / ${(dur || 0).toFixed(1)} s`;
  }

  function seek(ev) {
    const dur = audio.duration || (wave && wave.seconds);
    if (!dur) return;
    const r = canvas.getBoundingClientRect();
    audio.currentTime = Math.min(dur, Math.max(0, ((ev.clientX - r.left) / r.width) * dur));
    draw();
  }

  canvas.addEventListener("mousedown", (ev) => {
    seek(ev);
    const move = (e) => seek(e);
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", () => window.removeEventListener("mousemove", move), { once: true });
  });
  audio.addEventListener("timeupdate", draw);
  audio.addEventListener("loadedmetadata", draw);
  fetch(box.dataset.waveform).then((r) => (r.ok ? r.json() : null)).then((data) => {
    wave = data;
    box.dataset.waveformLoaded = data ? String(data.channels.length) : "0";
    draw();
  }).catch(() => {});
})();
