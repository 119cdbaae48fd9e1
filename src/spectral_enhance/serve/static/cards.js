// A file's card: made, its state line, removed; apart from results, so the player can set its line.

import { $, api, state, uploads } from "./page.js";

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

export { fail, newCard, setState };
