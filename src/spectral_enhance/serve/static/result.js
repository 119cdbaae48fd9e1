// A job's stage and warnings on its card, then its result: facts, A/B player and spectrograms.

import { fail, setState } from "./cards.js";
import { $, api, bytes, clock, link, number, state } from "./page.js";
import { ABPlayer } from "./player.js";
import { Spectrogram } from "./spectrogram.js";

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

export { update };
