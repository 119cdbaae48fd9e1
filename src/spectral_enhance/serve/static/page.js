// What every other module imports: the page's state and upload counts, its session, number formats.

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

// Files waiting to be sent, and how many are being sent (at most `limit` side by side).
const uploads = { waiting: [], running: 0, limit: 2 };

export { $, api, bytes, clock, link, number, sessionEnded, state, uploads };
