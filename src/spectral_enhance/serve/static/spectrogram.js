// Spectrograms drawn from the server's bytes, 0 Hz to the output's Nyquist; they know no state.

import { clock } from "./page.js";

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

export { Spectrogram };
