// The entry index.html loads: the options and the start, and downloads checked before followed.

import { setUpDrop } from "./drop.js";
import { $, api, clock, link, number, sessionEnded, state, uploads } from "./page.js";
import { onKey } from "./player.js";
import { poll } from "./uploads.js";

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

start();
