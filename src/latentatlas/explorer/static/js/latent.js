/* Latent-plane mode of AE/VAE runs: what the decoder draws at the mouse, judged by the validity oracle.

A plane position (x, y) with slider values s is the latent z = origin + x b0 + y b1 + sum_k s_k b(2+k) (the plane's
basis rows). Static pages show the precomputed decode of the NEAREST grid position (a G x G grid, 1 bit per
pixel) of the nearest precomputed slice; a 3-D latent has a few slices along b2, beyond 3-D the sliders need
--serve. Served pages decode every position exactly through /api/decode. A morph joins two clicked positions
with lerp or slerp (the same formulas as latentatlas.latentmaps.morph), each step framed by its validity. */
"use strict";

LA.Latent = class {
  constructor(ds, ui, hooks) {
    this.ds = ds; this.L = ds.latent; this.ui = ui; this.hooks = hooks;
    this.dim = this.L.latent_dim; this.S = this.L.image_size;
    this.plane = this.L.planes[0];
    this.others = this.plane.others_default.slice();
    this.sliceIndex = this.defaultSlice();
    this.last = null;            // the decode on show: {x, y, z, valid, pixels, source, ...}
    this.morph = { ends: [], path: null, valid: null, frames: null, source: null };
    this.liveMap = null;         // served: validity of a coarse grid at the current sliders
    this.pending = null; this.busy = false;
  }

  get served() { return LA.api.served && LA.api.info && LA.api.info.decoder; }
  get staticSlices() { return this.dim === 3 && !this.served; }

  defaultSlice() {
    const v = this.plane.slice_values, d = this.plane.others_default[0];
    if (this.dim !== 3) return 0;
    let best = 0;
    v.forEach((s, k) => { if (Math.abs(s - d) < Math.abs(v[best] - d)) best = k; });
    return best;
  }

  /** Slider values in use: static 3-D snaps the third coordinate to the chosen slice. */
  sliderValues() {
    if (this.staticSlices) return [this.plane.slice_values[this.sliceIndex]];
    return this.served ? this.others : this.plane.others_default;
  }

  zAt(x, y) {
    const p = this.plane, s = this.sliderValues(), z = new Array(this.dim);
    for (let d = 0; d < this.dim; d++) {
      let v = p.origin[d] + x * p.basis[0][d] + y * p.basis[1][d];
      for (let k = 0; k < s.length; k++) v += s[k] * p.basis[2 + k][d];
      z[d] = v;
    }
    return z;
  }

  /** Coordinates of z along every basis row of the plane (x, y, then the slider axes). */
  project(z) {
    const p = this.plane;
    return p.basis.map((row) => row.reduce((acc, b, d) => acc + b * (z[d] - p.origin[d]), 0));
  }

  /** Nearest grid position of (x, y): indices along xs and ys (linspace grids) and the cell index. */
  gridCell(x, y) {
    const xs = this.plane.xs, ys = this.plane.ys, G = xs.length;
    const near = (g, v) => Math.min(G - 1, Math.max(0, Math.round(((v - g[0]) / (g[G - 1] - g[0])) * (G - 1))));
    const ix = near(xs, x), iy = near(ys, y);
    return { ix, iy, cell: iy * G + ix, G };
  }

  /** The precomputed decode (0/1 pixels) and verdict at a grid cell of a slice. */
  gridDecode(slice, cell) {
    const p = this.plane, G = p.xs.length, nb = Math.ceil((this.S * this.S) / 8);
    const off = (slice * G * G + cell) * nb, px = new Uint8Array(this.S * this.S);
    for (let j = 0; j < px.length; j++) px[j] = (p.images[off + (j >> 3)] >> (7 - (j & 7))) & 1;
    return { pixels: px, valid: p.valid[slice * G * G + cell] === 1 };
  }

  nearestSlice(value) {
    const v = this.plane.slice_values;
    let best = 0;
    v.forEach((s, k) => { if (Math.abs(s - value) < Math.abs(v[best] - value)) best = k; });
    return best;
  }

  /** Show the decode at plane position (x, y). */
  hover(x, y) {
    if (this.served) { this.requestLive(x, y); return; }
    const g = this.gridCell(x, y), slice = this.dim === 3 ? this.sliceIndex : 0;
    const d = this.gridDecode(slice, g.cell);
    const gx = this.plane.xs[g.ix], gy = this.plane.ys[g.iy];
    this.show({ x, y, z: this.zAt(gx, gy), ix: g.ix, iy: g.iy, slice, valid: d.valid, pixels: d.pixels,
      binary: true, source: "grid",
      caption: `precomputed decode at the nearest of the ${g.G} x ${g.G} grid positions: (${g.ix}, ${g.iy}) = ` +
        `(${gx.toPrecision(3)}, ${gy.toPrecision(3)})` + this.sliceCaption() + "; pixels at 1 bit" });
  }

  sliceCaption() {
    if (this.dim === 3) {
      const n = this.plane.slice_values.length;
      return `, slice ${this.sliceIndex + 1} of ${n} precomputed`;
    }
    return this.dim > 3 ? ", other coordinates at the training medians (sliders need --serve)" : "";
  }

  /** Served: one decode request in flight, the latest position waiting behind it. */
  async requestLive(x, y) {
    this.pending = [x, y];
    if (this.busy) return;
    this.busy = true;
    while (this.pending) {
      const [px, py] = this.pending; this.pending = null;
      const z = this.zAt(px, py);
      try {
        const r = await LA.api.decode([z]);
        const pixels = LA.data.bytes(r.probs);
        this.show({ x: px, y: py, z, valid: r.valid[0], pixels, binary: false, source: "server",
          caption: `exact decode at (${px.toPrecision(4)}, ${py.toPrecision(4)}) by the server` });
      } catch (e) { this.ui.caption.textContent = "decode failed: " + e.message; }
    }
    this.busy = false;
  }

  /** Draw a decode in the preview canvas with its validity frame and badge. */
  show(d) {
    this.last = d;
    LA.Latent.paint(this.ui.canvas, d.pixels, this.S, d.binary);
    const cls = d.valid ? "valid" : "invalid";
    this.ui.canvas.className = cls;
    this.ui.badge.className = cls;
    this.ui.badge.textContent = d.valid ? "valid" : "not valid";
    this.ui.caption.textContent = d.caption;
  }

  /** Paint S x S pixels (0/1 when binary, else 0-255 probabilities) dark on white. */
  static paint(canvas, pixels, S, binary) {
    canvas.width = S; canvas.height = S;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(S, S);
    for (let j = 0; j < S * S; j++) {
      const g = binary ? (pixels[j] ? 20 : 255) : 255 - pixels[j];
      img.data[4 * j] = g; img.data[4 * j + 1] = g; img.data[4 * j + 2] = g; img.data[4 * j + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  /** Interpolation path between two latents, as latentatlas.latentmaps.morph.lerp / slerp. */
  static path(a, b, T, mode) {
    const lerp = () => Array.from({ length: T }, (_, k) => a.map((v, d) => v + (k / (T - 1)) * (b[d] - v)));
    if (mode !== "slerp") return lerp();
    const na = Math.hypot(...a), nb = Math.hypot(...b);
    if (na === 0 || nb === 0) return lerp();
    const cos = Math.min(1, Math.max(-1, a.reduce((s, v, d) => s + (v / na) * (b[d] / nb), 0)));
    const w = Math.acos(cos), sw = Math.sin(w);
    if (sw < 1e-6) return lerp();
    return Array.from({ length: T }, (_, k) => {
      const t = k / (T - 1), ca = Math.sin((1 - t) * w) / sw, cb = Math.sin(t * w) / sw;
      return a.map((v, d) => ca * v + cb * b[d]);
    });
  }

  /** A click in latent mode: first end, second end (then the morph), a third click starts over. */
  async click(x, y) {
    const m = this.morph;
    if (m.ends.length >= 2) { m.ends = []; m.path = null; m.valid = null; this.ui.strip.replaceChildren(); }
    m.ends.push([x, y]);
    if (m.ends.length === 2) await this.computeMorph();
    this.hooks.redraw();
  }

  async computeMorph() {
    const m = this.morph, T = this.L.morph_steps, mode = this.ui.mode.value;
    const [a, b] = m.ends.map(([x, y]) => this.zAt(x, y));
    let frames, valid, zs, binary;
    if (this.served) {
      const r = await LA.api.morph(a, b, T, mode);
      const all = LA.data.bytes(r.probs), n = this.S * this.S;
      frames = Array.from({ length: T }, (_, k) => all.subarray(k * n, (k + 1) * n));
      valid = r.valid; zs = r.z; binary = false; m.source = "server";
    } else {
      zs = LA.Latent.path(a, b, T, mode);
      const steps = zs.map((z) => {
        const c = this.project(z), g = this.gridCell(c[0], c[1]);
        const slice = this.dim === 3 ? this.nearestSlice(c[2]) : 0;
        return this.gridDecode(slice, g.cell);
      });
      frames = steps.map((s) => s.pixels); valid = steps.map((s) => s.valid); binary = true; m.source = "grid";
    }
    m.path = zs.map((z) => this.project(z).slice(0, 2));
    m.valid = valid; m.frames = frames; m.mode = mode;
    this.ui.strip.replaceChildren(...frames.map((f, k) => {
      const c = LA.panels.el("canvas", { class: "frame " + (valid[k] ? "valid" : "invalid"), "data-step": k });
      LA.Latent.paint(c, f, this.S, binary);
      return c;
    }));
    const nValid = valid.filter(Boolean).length;
    this.ui.morphCaption.textContent = `${mode}, ${T} steps: ${nValid} of ${T} valid` + (this.served
      ? " (exact decodes by the server)"
      : " (static: decodes of the nearest precomputed grid positions; steps off the plane are projected onto it)");
  }
};
