// The A/B player: both signals play in step, so switching (T) changes only which one is heard.

import { setState } from "./cards.js";
import { $, api, clock, sessionEnded, state } from "./page.js";

function audioContext() {
  state.context ||= new AudioContext();
  return state.context;
}

async function decode(url) {
  const data = await (await api(url)).arrayBuffer();
  return audioContext().decodeAudioData(data);
}

class ABPlayer {
  constructor(card, id, seconds) {
    this.card = card;
    this.id = id;
    this.duration = seconds;
    this.which = "b";
    this.offset = 0;
    this.playing = false;
    this.starting = false; // Play pressed, its audio still loading
    this.voices = null;
    this.loading = null;
    this.figures = [];
    const element = card.element;
    $(element, ".play").addEventListener("click", () => this.playPause());
    $(element, ".which-a").addEventListener("click", () => this.choose("a"));
    $(element, ".which-b").addEventListener("click", () => this.choose("b"));
    $(element, ".seek").addEventListener("input", (event) => this.seek(event.target.value * this.duration));
  }

  load() {
    this.loading ||= Promise.all([
      decode(`/api/jobs/${this.id}/input`),
      decode(`/api/jobs/${this.id}/output`),
    ]).then(([a, b]) => {
      this.buffers = { a, b };
    });
    return this.loading;
  }

  // Seconds into the file: the same for A and B, which is what switching keeps.
  get position() {
    if (!this.playing) return this.offset;
    const elapsed = Math.max(0, audioContext().currentTime - this.startedAt);
    return Math.min(this.duration, this.offset + elapsed);
  }

  async play() {
    if (this.starting || this.playing) return;
    state.active = this;
    for (const other of state.players.values()) {
      if (other === this) continue;
      other.starting = false; // one still loading does not start after this one has
      if (other.playing) other.pause();
    }
    this.starting = true;
    setState(this.card, "loading audio");
    try {
      await this.load();
    } catch {
      this.loading = null; // try again on the next Play
      this.starting = false;
      const ended = await sessionEnded();
      setState(this.card, ended || "the audio could not be loaded: is the server still running?");
      return;
    }
    const context = audioContext();
    if (context.state === "suspended") await context.resume();
    if (!this.starting) {
      setState(this.card, "done"); // paused, or another file played, while it loaded
      return;
    }
    this.starting = false;
    if (this.offset >= this.duration - 0.01) this.offset = 0;
    const when = context.currentTime + 0.05;
    this.voices = {};
    for (const key of ["a", "b"]) {
      const source = context.createBufferSource();
      source.buffer = this.buffers[key];
      const gain = context.createGain();
      gain.gain.value = key === this.which ? 1 : 0;
      source.connect(gain).connect(context.destination);
      source.start(when, this.offset);
      this.voices[key] = { source, gain };
    }
    const voices = this.voices;
    voices.b.source.onended = () => {
      if (this.voices === voices) this.stop(0);
    };
    this.startedAt = when;
    this.playing = true;
    setState(this.card, "playing");
    $(this.card.element, ".play").textContent = "Pause";
    this.tick();
  }

  stop(offset) {
    if (this.voices) for (const voice of Object.values(this.voices)) voice.source.stop();
    this.voices = null;
    this.playing = false;
    this.offset = offset;
    setState(this.card, "done");
    $(this.card.element, ".play").textContent = "Play";
    this.draw();
  }

  pause() {
    this.stop(this.position);
  }

  playPause() {
    if (this.starting) {
      this.starting = false; // pressed again while loading: it does not start
      setState(this.card, "done");
      return;
    }
    return this.playing ? this.pause() : this.play();
  }

  // Switch what is heard; both keep playing, so the position does not move and nothing stops.
  choose(which) {
    state.active = this;
    this.which = which;
    if (this.voices) {
      const now = audioContext().currentTime;
      for (const [key, voice] of Object.entries(this.voices)) {
        voice.gain.gain.cancelScheduledValues(now);
        voice.gain.gain.setTargetAtTime(key === which ? 1 : 0, now, 0.004); // a 10 ms crossfade
      }
    }
    $(this.card.element, ".which-a").setAttribute("aria-pressed", String(which === "a"));
    $(this.card.element, ".which-b").setAttribute("aria-pressed", String(which === "b"));
  }

  toggle() {
    this.choose(this.which === "a" ? "b" : "a");
  }

  seek(seconds) {
    state.active = this;
    const playing = this.playing;
    if (playing) this.stop(seconds);
    this.offset = Math.max(0, Math.min(seconds, this.duration));
    if (playing) this.play();
    else this.draw();
  }

  tick() {
    if (!this.playing) return;
    this.draw();
    requestAnimationFrame(() => this.tick());
  }

  draw() {
    const position = this.position;
    $(this.card.element, ".time").textContent = `${clock(position)} / ${clock(this.duration)}`;
    $(this.card.element, ".seek").value = this.duration ? position / this.duration : 0;
    for (const figure of this.figures) figure.draw(position);
  }
}

function onKey(event) {
  // A slider takes the arrow keys only: Space and T still play and switch from it.
  const typing = event.target.closest("input, select, textarea") && event.target.type !== "range";
  if (typing || event.ctrlKey || event.metaKey) return;
  if (event.key === " " && event.target.closest("button, a")) return; // Space presses it
  const player = state.active;
  if (!player) return;
  if (event.key === " ") {
    event.preventDefault();
    player.playPause();
  } else if (event.key === "t" || event.key === "T") {
    player.toggle();
  }
}

export { ABPlayer, onKey };
