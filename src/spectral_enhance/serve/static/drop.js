// The drop zone and pickers: the files a pick, a folder or a drop gives, taken as `enhance` would.

import { $, state } from "./page.js";
import { uploadAll } from "./uploads.js";

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

export { filesOfEntries, setUpDrop }; // filesOfEntries: also for the browser tests
