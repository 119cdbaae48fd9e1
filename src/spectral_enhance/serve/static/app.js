"use strict";
// The serve page: uploads, the queue, the A/B player and the spectrograms. No dependencies.

// matplotlib's magma colour map, 255 steps (byte 1..255 of a spectrogram cell); byte 0 is grey.
const MAGMA =
  "00000401000501010601010802010902020b02020d03030f03031204041405041606051806051a07061c08071e" +
  "0907200a08220b09240c09260d0a290e0b2b100b2d110c2f120d31130d34140e36150e38160f3b180f3d19103f" +
  "1a10421c10441d11471e114920114b21114e22115024125325125527125829115a2a115c2c115f2d11612f1163" +
  "31116533106734106936106b38106c390f6e3b0f703d0f713f0f72400f74420f75440f76451077471078491078" +
  "4a10794c117a4e117b4f127b51127c52137c54137d56147d57157e59157e5a167e5c167f5d177f5f187f601880" +
  "621980641a80651a80671b80681c816a1c816b1d816d1d816e1e81701f81721f81732081752181762181782281" +
  "7922827b23827c23827e24828025828125818326818426818627818827818928818b29818c29818e2a81902a81" +
  "912b81932b80942c80962c80982d80992d809b2e7f9c2e7f9e2f7fa02f7fa1307ea3307ea5317ea6317da8327d" +
  "aa337dab337cad347cae347bb0357bb2357bb3367ab73779b83779ba3878bc3978bd3977bf3a77c03a76c23b75" +
  "c43c75c53c74c73d73c83e73ca3e72cc3f71cd4071cf4070d0416fd2426fd3436ed5446dd6456cd8456cd9466b" +
  "db476adc4869de4968df4a68e04c67e24d66e34e65e44f64e55064e75263e85362e95462ea5661eb5760ec5860" +
  "ed5a5fee5b5eef5d5ef05f5ef1605df2625df2645cf3655cf4675cf4695cf56b5cf66c5cf66e5cf7705cf7725c" +
  "f8745cf8765cf9785df9795df97b5dfa7d5efa7f5efa815ffb835ffb8560fb8761fc8961fc8a62fc8c63fc8e64" +
  "fc9065fd9266fd9467fd9668fd9869fd9a6afd9b6bfe9d6cfe9f6dfea16efea36ffea571fea772fea973feaa74" +
  "feac76feae77feb078feb27afeb47bfeb67cfeb77efeb97ffebb81febd82febf84fec185fec287fec488fec68a" +
  "fec88cfeca8dfecc8ffecd90fecf92fed194fed395fed597fed799fed89afdda9cfddc9efddea0fde0a1fde2a3" +
  "fde3a5fde5a7fde7a9fde9aafdebacfcecaefceeb0fcf0b2fcf2b4fcf4b6fcf6b8fcf7b9fcf9bbfcfbbdfcfdbf";

const LUT = new Uint8Array(256 * 3);
LUT.set([70, 70, 76]);
for (let i = 0; i < 255; i++) {
  for (let c = 0; c < 3; c++) LUT[(i + 1) * 3 + c] = parseInt(MAGMA.substr(i * 6 + c * 2, 2), 16);
}

const state = {
  config: null,
  cards: new Map(),
  players: new Map(),
  removed: new Set(), // job ids taken off the page: a poll already under way still lists them
  active: null,
  context: null,
};
window.spectralEnhance = state; // for the browser tests and the curious

const $ = (root, selector) => root.querySelector(selector);

// Every request names this page's session: each page (tab, reload) has its own files.
function api(path, options = {}) {
  const headers = { ...(options.headers || {}), "X-Session": state.session };
  return fetch(path, { ...options, headers });
}

// Links (downloads) cannot send a header: the session goes in the query.
function link(path) {
  return `${path}?session=${encodeURIComponent(state.session)}`;
}

// The server's line if this page's session has ended (idle too long, or the server
// restarted), else null: a download or a player then says so instead of failing silently.
async function sessionEnded() {
  const response = await api("/api/jobs").catch(() => null);
  if (!response) return "the server could not be reached: is it still running?";
  if (response.status !== 404) return null;
  return (await response.json().catch(() => ({}))).error || "this page's session has ended";
}

// A download is followed once the session is known to hold it: a link to a session that has
// ended saved nothing and said nothing.
document.addEventListener("click", async (event) => {
  const anchor = event.target.closest("a.download, #zip");
  if (!anchor || anchor.dataset.checked) return;
  event.preventDefault();
  const ended = await sessionEnded();
  const card = anchor.closest(".card");
  const said = card ? $(card, ".message") : $(document, "#toolbar-status");
  said.textContent = ended || "";
  if (ended) return;
  if (!card) {
    // The ZIP holds the files done: say which are not in it yet.
    const left = [...state.cards.values()].filter(
      (other) => !["done", "failed"].includes(other.element.dataset.state),
    ).length + uploads.running + uploads.waiting.length;
    if (left) said.textContent = `${left} file(s) still on their way are not in it`;
  }
  anchor.dataset.checked = "yes";
  anchor.click();
  delete anchor.dataset.checked;
});

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - 60 * m;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function number(value) {
  return value.toLocaleString("en-US");
}

function bytes(count) {
  return count < 1024 ** 2 ? `${Math.ceil(count / 1024)} KB` : `${(count / 1024 ** 2).toFixed(1)} MB`;
}

// ---- options and start -----------------------------------------------------------------------

// Files chosen before the configuration has arrived wait for it (see upload).
function start() {
  setUpDrop();
  document.addEventListener("keydown", onKey);
  window.addEventListener("pagehide", () => {
    if (state.session) navigator.sendBeacon(link("/api/session/end"));
  });
  // While the page is open its session is not idle, even with nothing to poll for.
  setInterval(() => api("/api/jobs").catch(() => {}), 60_000);
  state.ready = configure();
}

async function configure() {
  state.session = (await (await fetch("/api/session", { method: "POST" })).json()).session;
  state.config = await (await fetch("/api/config")).json();
  const config = state.config;
  $(document, "#model").textContent =
    `model ${config.model}, ${number(config.model_rate)} Hz · everything stays on this machine`;
  const limits = config.limits;
  $(document, "#limits").textContent =
    `${config.readable} · up to ${limits.max_files} files of ` +
    `${limits.max_upload_mb} MB and ${clock(limits.max_seconds).replace(/\.\d$/, "")} each`;
  // The file picker offers what the server reads, by the one list `enhance` takes (.webm and
  // .mka are no audio/* type).
  $(document, "#files").accept = ["audio/*", ...config.suffixes].join(",");
  const format = $(document, "#format");
  for (const name of config.formats) format.add(new Option(name.toUpperCase(), name));
  const rate = $(document, "#rate");
  rate.add(new Option("44,100 Hz, or the input's above it", ""));
  rate.add(new Option("same as the input", "input"));
  for (const r of [44100, 48000]) rate.add(new Option(`${number(r)} Hz`, String(r)));
  if (config.strength) {
    // The share of the model's change added to the input (see docs/serve.md).
    const slider = $(document, "#strength");
    Object.assign(slider, config.strength);
    const shown = () => ($(document, "#strength-value").value = Number(slider.value).toFixed(2));
    slider.addEventListener("input", shown);
    shown();
    $(document, "#strength-option").hidden = false;
  }
  document.body.dataset.ready = "true";
  poll();
}

function setUpDrop() {
  const drop = $(document, "#drop");
  const input = $(document, "#files");
  input.addEventListener("change", () => {
    uploadAll([...input.files]);
    input.value = "";
  });
  const folder = $(document, "#folder");
  folder.addEventListener("change", () => {
    uploadFound([...folder.files].map((file) => ({ file, path: file.webkitRelativePath })));
    folder.value = "";
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    // The entries must be taken now: the drop's data is gone once this handler returns.
    const entries = [...event.dataTransfer.items]
      .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
    if (!entries.some((entry) => entry && entry.isDirectory)) {
      uploadAll([...event.dataTransfer.files]);
      return;
    }
    filesOfEntries(entries.filter(Boolean)).then(uploadFound);
  });
}

// Every file below dropped entries (folders searched through), as [{file, path}].
async function filesOfEntries(entries) {
  const found = [];
  for (const entry of entries) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      found.push({ file, path: entry.fullPath.replace(/^\//, "") });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) { // readEntries gives a folder's entries in batches, then an empty one
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        found.push(...(await filesOfEntries(batch)));
      }
    }
  }
  return found;
}

// A folder's files, taken as `enhance FOLDER` takes them: those with an audio suffix, not
// hidden (no part of the path starts with "."); the rest are named in one line.
function uploadFound(found) {
  const suffixes = state.config ? state.config.suffixes : [];
  const audio = ({ file, path }) => {
    const dot = file.name.lastIndexOf(".");
    const hidden = path.split("/").some((part) => part.startsWith("."));
    return dot > 0 && suffixes.includes(file.name.slice(dot).toLowerCase()) && !hidden;
  };
  const taken = found.filter(audio);
  const left = found.filter((item) => !audio(item)).map((item) => item.path).sort();
  const roots = [...new Set(found.map((item) => item.path.split("/")[0]))].join(", ");
  $(document, "#left-out").textContent = left.length
    ? `${roots}: ${taken.length} audio file(s) taken; ${left.length} left out (not audio by ` +
      `their names, or hidden): ${left.slice(0, 5).join(", ")}${left.length > 5 ? ", ..." : ""}`
    : `${roots}: ${taken.length} audio file(s) taken`;
  uploadAll(taken);
}

// ---- uploads and the queue ---------------------------------------------------------------------

const uploads = { waiting: [], running: 0, limit: 2 };

// Files, or [{file, path}] from a folder: its card shows the path below the folder. One pick's
// or drop's cards go above the earlier ones, in the order of their paths, as `enhance` takes a
// folder's files, and are sent in that order.
function uploadAll(files) {
  const items = [...files].map((item) =>
    item instanceof File ? { file: item, path: item.name } : item);
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let previous = null;
  for (const { file, path } of items) {
    const card = newCard(path, previous);
    previous = card;
    card.path = path; // sent as its name: the server keeps the folders for the ZIP
    setState(card, "waiting to be sent");
    uploads.waiting.push({ file, card });
  }
  nextUpload();
}

function nextUpload() {
  while (uploads.running < uploads.limit && uploads.waiting.length) {
    const { file, card } = uploads.waiting.shift();
    uploads.running++;
    upload(file, card).finally(() => {
      uploads.running--;
      nextUpload();
    });
  }
}

async function upload(file, card) {
  await state.ready;
  const query = new URLSearchParams({
    name: card.path,
    format: $(document, "#format").value,
    rate: $(document, "#rate").value,
  });
  if (state.config.strength) query.set("strength", $(document, "#strength").value);
  const cut = $(document, "#lowpass").value.trim();
  if (cut) {
    // Where the band ends, given in kHz, sent in Hz as `enhance --lowpass` takes it.
    const khz = Number(cut.replace(",", "."));
    if (!Number.isFinite(khz) || khz < 0) {
      fail(card, `${file.name}: "Band ends at" must be a number of kHz, 0 or more, or blank to find it in each file`);
      return;
    }
    if (khz * 1000 > state.config.max_rate) {
      const most = state.config.max_rate / 1000;
      fail(card, `${file.name}: "Band ends at" is in kHz: ${cut} kHz is more than any band (${most} kHz at most)`);
      return;
    }
    query.set("lowpass", String(Math.round(khz * 1000)));
  }
  if (card.removed) return;
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    card.request = request;
    request.open("POST", `/api/jobs?${query}`);
    request.setRequestHeader("X-Session", state.session);
    request.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      setState(card, `uploading ${Math.round((100 * event.loaded) / event.total)} %`);
      $(card.element, "progress").value = event.loaded / event.total;
    };
    // Once the file is all sent, the server makes the job whatever the page does: a card
    // removed then is not aborted but waits for the job's id, to delete it (see remove).
    request.upload.onload = () => (card.sent = true);
    request.onabort = () => resolve(); // removed while uploading
    request.onload = () => {
      card.request = null;
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = {};
      }
      if (request.status === 201 && card.removed) {
        state.removed.add(body.id);
        state.cards.delete(body.id);
        api(`/api/jobs/${body.id}`, { method: "DELETE" }); // removed once it was all sent
      } else if (request.status === 201) {
        card.id = body.id;
        state.cards.set(body.id, card);
        update(card, body);
        poll();
      } else {
        fail(card, body.error || `${file.name}: the server refused it (HTTP ${request.status})`);
      }
      resolve();
    };
    request.onerror = () => {
      fail(card, `${file.name}: the upload failed: the server could not be reached`);
      resolve();
    };
    setState(card, "uploading");
    request.send(file);
  });
}

let polling = null;

const UNREACHABLE_POLLS = 5; // 2 s of polls that found no server
const UNREACHED = "the server could not be reached: is it still running? (trying again)";
let unreachable = 0;

// Each card's line goes from ``was`` to ``now``: the server is away (an unfinished card's
// line says so), or back (each card that said so, finished since or not, is cleared).
function said(was, now) {
  for (const card of state.cards.values()) {
    const line = $(card.element, ".message");
    const finished = ["done", "failed"].includes(card.element.dataset.state);
    if (line.textContent === was && (!now || !finished)) line.textContent = now;
  }
}

function poll() {
  if (polling) return;
  polling = setTimeout(async () => {
    let busy = uploads.running + uploads.waiting.length > 0;
    try {
      const response = await api("/api/jobs");
      if (response.status === 404) {
        // The session has ended (idle too long, or the server restarted): its files are gone.
        const { error } = await response.json();
        for (const card of state.cards.values()) {
          const name = $(card.element, ".name").textContent;
          if (!["done", "failed"].includes(card.element.dataset.state)) fail(card, `${name}: ${error}`);
        }
        polling = null;
        return;
      }
      const body = await response.json();
      for (const job of body.jobs) {
        if (state.removed.has(job.id)) continue;
        const card = state.cards.get(job.id);
        if (!card) {
          // A job the page holds no card for: its upload's answer is still to come, or the
          // upload was removed (aborted) after the server had it all. With no upload left
          // in flight it is the latter: the server is told to drop it.
          if (uploads.running === 0) {
            state.removed.add(job.id);
            api(`/api/jobs/${job.id}`, { method: "DELETE" }).catch(() => {});
          }
          busy = true;
          continue;
        }
        update(card, job);
        busy ||= ["queued", "running", "analysing"].includes(job.state);
      }
      if (unreachable >= UNREACHABLE_POLLS) said(UNREACHED, "");
      unreachable = 0;
    } catch {
      busy = true; // the server is busy or restarting: try again, and after 2 s say so
      if (++unreachable === UNREACHABLE_POLLS) said("", UNREACHED);
    }
    polling = null;
    if (busy) poll();
  }, 400);
}

function newCard(name, after = null) {
  const element = $(document, "#card").content.firstElementChild.cloneNode(true);
  $(element, ".name").textContent = name;
  // Each control says whose it is: a screen reader lists every card's "Remove" alike.
  for (const [selector, label] of [[".remove", `Remove ${name}`], ["progress", `${name}: progress`],
    [".play", `Play ${name}`], [".seek", `Position in ${name}`],
    [".download", `Download ${name}, enhanced`], [".spec-in", `Spectrogram of ${name}, input`],
    [".spec-out", `Spectrogram of ${name}, enhanced`]]) {
    $(element, selector).setAttribute("aria-label", label);
  }
  if (after) after.element.after(element);
  else $(document, "#results").prepend(element);
  const card = { element, id: null, shown: false, removed: false, request: null, sent: false };
  $(element, ".remove").addEventListener("click", () => remove(card));
  return card;
}

// Take a card off the page, whatever its stage: not yet sent, uploading, waiting, being
// enhanced (the server stops it) or done; the server removes its files.
function remove(card) {
  card.removed = true;
  uploads.waiting = uploads.waiting.filter((item) => item.card !== card);
  if (card.request && !card.sent) card.request.abort();
  if (card.id != null) {
    state.removed.add(card.id);
    state.cards.delete(card.id);
    const player = state.players.get(card.id);
    if (player) {
      player.starting = false;
      if (player.playing) player.pause();
      state.players.delete(card.id);
      if (state.active === player) state.active = null;
    }
    api(`/api/jobs/${card.id}`, { method: "DELETE" }).catch(() => {}); // a session ended: gone
  }
  // Focus goes to the next card's Remove (or the one before, or the file picker), not to
  // the top of the page.
  const next = card.element.nextElementSibling || card.element.previousElementSibling;
  const focused = card.element.contains(document.activeElement);
  card.element.remove();
  if (focused) (next ? $(next, ".remove") : $(document, "#files")).focus();
  if (!document.querySelector(".card.done")) $(document, "#toolbar").hidden = true;
}

function setState(card, text) {
  $(card.element, ".state").textContent = text;
  // A screen reader hears each stage once ("enhancing", "done"), not every percent.
  const stage = text.replace(/ \d+ %$/, "");
  if (stage !== card.stage) {
    card.stage = stage;
    $(document, "#announce").textContent = `${$(card.element, ".name").textContent}: ${stage}`;
  }
}

function fail(card, message) {
  card.element.classList.add("failed");
  setState(card, "failed");
  $(card.element, ".message").textContent = message;
}

function ordinal(n) {
  const suffix = n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd"
    : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th";
  return `${n}${suffix}`;
}

function update(card, job) {
  const element = card.element;
  element.dataset.job = job.id;
  element.dataset.state = job.state;
  $(element, "progress").value = job.progress;
  if (job.state === "queued") {
    setState(card, job.position === 1 ? "next in line" : `waiting: ${ordinal(job.position)} in line`);
  } else if (job.state === "running") {
    setState(card, `enhancing ${Math.round(100 * job.progress)} %`);
  } else if (job.state === "analysing") {
    setState(card, "drawing spectrograms");
  } else if (job.state === "failed") {
    fail(card, job.error);
  } else if (job.state === "done" && !card.shown) {
    card.shown = true;
    element.classList.add("done");
    $(document, "#toolbar-status").textContent = ""; // its count of files left out is old
    setState(card, "done");
    showResult(card, job);
  }
  const warnings = $(element, ".warnings");
  if (warnings.childElementCount !== job.warnings.length) {
    warnings.replaceChildren(
      ...job.warnings.map((line) => Object.assign(document.createElement("li"), { textContent: line })),
    );
  }
}

// ---- a result ----------------------------------------------------------------------------------

async function showResult(card, job) {
  const element = card.element;
  const facts = job.facts;
  const download = $(element, ".download");
  download.href = link(`/api/jobs/${job.id}/output`);
  download.download = job.download_name;
  $(document, "#zip").href = link("/api/zip");
  $(document, "#toolbar").hidden = false;
  const lowpass = facts.own_band_hz != null
    ? `none: its band ends at ${(facts.own_band_hz / 1000).toFixed(2)} kHz, ${facts.own_band_why}`
    : facts.lowpass_hz == null
      ? (facts.lowpass_given ? "none: nothing rebuilt"
        : facts.rebuilt_hz ? "none under its rate's edge" : "none: the content reaches Nyquist")
      : `${(facts.lowpass_hz / 1000).toFixed(2)} kHz`;
  const band = (hz, none) => hz == null ? none
    : `${(hz[0] / 1000).toFixed(1)}-${(hz[1] / 1000).toFixed(1)} kHz`;
  const rows = [
    ["input", `${number(facts.input_rate)} Hz, ${facts.channels === 1 ? "mono" : facts.channels === 2 ? "stereo" : `${facts.channels} channels`}`],
    ["length", clock(facts.seconds)],
    ["input size", bytes(facts.input_bytes)],
    [facts.lowpass_given ? "low-pass given" : "low-pass found", lowpass],
    ["rebuilt", facts.rebuilt_hz ? band(facts.rebuilt_hz)
      : facts.strength === 0 ? "nothing: strength 0 gives the input as it is"
      : facts.lowpass_hz != null ? facts.line // a cut, and why nothing was rebuilt over it
      : "nothing"],
    ["codec's holes filled", band(facts.mended_hz, "none")],
    ["output", `${number(facts.output_rate)} Hz ${facts.output_format.toUpperCase()}, ${bytes(facts.output_bytes)}`],
    ["model", `${facts.model}, strength ${facts.strength}`],
    ["enhanced in", `${facts.enhance_seconds < 0.1 ? `${Math.round(1000 * facts.enhance_seconds)} ms` : `${facts.enhance_seconds.toFixed(1)} s`} (${Math.round(facts.seconds / Math.max(facts.enhance_seconds, 1e-3))}x real time)`],
  ];
  $(element, ".facts").replaceChildren(
    ...rows.map(([term, value]) => {
      const row = document.createElement("div");
      row.append(
        Object.assign(document.createElement("dt"), { textContent: term }),
        Object.assign(document.createElement("dd"), { textContent: value }),
      );
      return row;
    }),
  );
  $(element, ".result").hidden = false;
  const player = new ABPlayer(card, job.id, facts.seconds);
  state.players.set(job.id, player);
  state.active ||= player;
  const figures = await (await api(`/api/jobs/${job.id}/spectrograms`)).json();
  player.figures = [
    new Spectrogram($(element, ".spec-in"), figures, figures.input, player),
    new Spectrogram($(element, ".spec-out"), figures, figures.output, player),
  ];
  player.draw();
}

// ---- the A/B player: both signals play in step; switching changes which one is heard -----------

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

// ---- spectrograms: drawn from the server's bytes, 0 Hz to the output's Nyquist -----------------

class Spectrogram {
  // The canvas holds as many pixels as it is shown with (times the screen's pixel ratio), redrawn
  // when its width changes, so its labels keep their size on a narrow window or a phone.
  constructor(canvas, figures, image, player) {
    this.canvas = canvas;
    this.image = image;
    this.top = figures.top_hz;
    this.seconds = figures.seconds;
    this.lowpass = figures.lowpass_hz;
    this.lowpassHow = figures.lowpass_given ? "given" : "found";
    this.fit();
    canvas.addEventListener("click", (event) => {
      const box = canvas.getBoundingClientRect();
      const x = ((event.clientX - box.left) * canvas.width) / box.width;
      const fraction = (x - this.margin.left) / this.plotWidth;
      if (fraction >= 0 && fraction <= 1) player.seek(fraction * this.seconds);
    });
    new ResizeObserver(() => this.fit() && player.draw()).observe(canvas);
  }

  // Size the canvas to its shown width (760 x 300 CSS pixels' shape, at least 180 high) and draw
  // its picture again; false when nothing changed.
  fit() {
    const scale = window.devicePixelRatio || 1;
    const shown = this.canvas.clientWidth || 760;
    const width = Math.round(shown * scale);
    if (width === this.canvas.width && this.base) return false;
    this.scale = scale;
    this.canvas.width = width;
    this.canvas.height = Math.round(Math.max((shown * 300) / 760, 180) * scale);
    this.margin = { left: 46 * scale, right: 8 * scale, top: 8 * scale, bottom: 24 * scale };
    this.base = this.render(this.image);
    return true;
  }

  get plotWidth() {
    return this.canvas.width - this.margin.left - this.margin.right;
  }

  get plotHeight() {
    return this.canvas.height - this.margin.top - this.margin.bottom;
  }

  render(image) {
    const cells = Uint8Array.from(atob(image.cells), (c) => c.charCodeAt(0));
    const { rows, columns } = image;
    const picture = new ImageData(columns, rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const value = cells[r * columns + c];
        const at = ((rows - 1 - r) * columns + c) * 4;
        picture.data[at] = LUT[value * 3];
        picture.data[at + 1] = LUT[value * 3 + 1];
        picture.data[at + 2] = LUT[value * 3 + 2];
        picture.data[at + 3] = 255;
      }
    }
    const small = document.createElement("canvas");
    small.width = columns;
    small.height = rows;
    small.getContext("2d").putImageData(picture, 0, 0);
    const base = document.createElement("canvas");
    base.width = this.canvas.width;
    base.height = this.canvas.height;
    const g = base.getContext("2d");
    const { left, top } = this.margin;
    const width = this.plotWidth;
    const height = this.plotHeight;
    const px = this.scale; // one CSS pixel
    g.fillStyle = "#fff";
    g.fillRect(0, 0, base.width, base.height);
    g.imageSmoothingEnabled = true;
    g.drawImage(small, left, top, width, height);
    g.fillStyle = "#333";
    g.strokeStyle = "#333";
    g.font = `${11 * px}px system-ui, sans-serif`;
    g.textAlign = "right";
    g.textBaseline = "middle";
    const kHz = this.top / 1000;
    const step = kHz > 16 ? 4 : kHz > 6 ? 2 : 1;
    for (let f = 0; f <= kHz + 1e-9; f += step) {
      const y = top + height * (1 - f / kHz);
      g.fillText(`${f}`, left - 6 * px, y);
      g.fillRect(left - 4 * px, Math.round(y), 4 * px, px);
    }
    g.save();
    g.translate(11 * px, top + height / 2);
    g.rotate(-Math.PI / 2);
    g.textAlign = "center";
    g.fillText("kHz", 0, 0);
    g.restore();
    g.textAlign = "center";
    g.textBaseline = "top";
    // about one label per 80 CSS pixels, so a narrow canvas's labels do not run together
    // (three at least: a 4 s file at 360 px had "0 s" alone, its step 5 s)
    const most = Math.max(3, Math.floor(width / px / 80));
    const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
    const tick = steps.find((s) => this.seconds / s <= most) || 1200;
    for (let t = 0; t <= this.seconds + 1e-9; t += tick) {
      const x = left + (width * t) / this.seconds;
      g.fillRect(Math.round(x), top + height, px, 4 * px);
      g.textAlign = x > left + width - 16 * px ? "right" : "center"; // the last label stays inside
      g.fillText(tick >= 60 ? clock(t).replace(/\.\d$/, "") : `${+t.toFixed(1)} s`, x, top + height + 6 * px);
    }
    if (this.lowpass != null && this.lowpass < this.top) {
      const y = top + height * (1 - this.lowpass / this.top);
      g.setLineDash([6 * px, 4 * px]);
      g.strokeStyle = "#7ff3ff";
      g.lineWidth = 1.5 * px;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(left + width, y);
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = "#7ff3ff";
      g.textAlign = "right";
      const below = y - top < 16 * px; // no room above the line: write under it
      g.textBaseline = below ? "top" : "bottom";
      const label = `low-pass ${this.lowpassHow}: ${(this.lowpass / 1000).toFixed(2)} kHz`;
      g.fillText(label, left + width - 6 * px, below ? y + 3 * px : y - 3 * px);
    }
    return base;
  }

  draw(position) {
    const g = this.canvas.getContext("2d");
    g.drawImage(this.base, 0, 0);
    const x = this.margin.left + (this.plotWidth * position) / this.seconds;
    g.fillStyle = "#fff";
    g.fillRect(Math.round(x), this.margin.top, 2 * this.scale, this.plotHeight);
  }
}

start();
