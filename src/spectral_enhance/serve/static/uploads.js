// Uploads and the queue (two files at a time), and the polls that follow their jobs to the end.

import { fail, newCard, setState } from "./cards.js";
import { $, api, state, uploads } from "./page.js";
import { update } from "./result.js";

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

export { poll, uploadAll };
