/* The scatter, drawn on the CPU into an ImageData (canvas 2D, no WebGL/WebGPU: it works in VMs with no GPU).

One pass over the points splats each visible point as an s x s square (a disc from s = 4) into per-pixel
buffers: a count, the sums of R, G, B (so overlapping classes blend), and the index of the last point drawn
(the pick buffer hover reads). A second pass over the touched pixels only writes the image:
   colour = mean colour of the points on the pixel,
   alpha  = 1 when no pixel holds more than 4 points, else a1 + (1 - a1) log(count) / log(max count),
so where points overlap the density shows (dense areas opaque, lone points light) instead of one blob.
Points outside the "emphasis" (a selection, or the classes of a heatmap cell) are drawn as light grey ghosts
under the others. The cost is O(N + touched pixels): see benchmarks/bench_explore.py. */
"use strict";

LA.Renderer = class {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.W = 0; this.H = 0; this.nTouched = 0;
    this.density = true;
    this.lastMs = 0;
  }

  /** Allocate the buffers for a W x H canvas (CSS pixels). */
  resize(W, H) {
    W = Math.max(1, Math.floor(W)); H = Math.max(1, Math.floor(H));
    if (W === this.W && H === this.H) return;
    this.W = W; this.H = H;
    this.canvas.width = W; this.canvas.height = H;
    const n = W * H;
    this.image = this.ctx.createImageData(W, H);
    this.px = new Uint32Array(this.image.data.buffer); // 0xAABBGGRR on little-endian machines
    this.count = new Uint32Array(n);
    this.sr = new Uint32Array(n); this.sg = new Uint32Array(n); this.sb = new Uint32Array(n);
    this.ghost = new Uint8Array(n);
    this.pick = new Int32Array(n).fill(-1);
    this.touched = new Int32Array(n);
    this.nTouched = 0;
  }

  /** Pixel offsets (dx, dy pairs) of a point of size s: a square, or a disc from s = 4. */
  static stamp(s) {
    const out = [], h = (s - 1) / 2;
    for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) {
      if (s >= 4 && (dx - h) ** 2 + (dy - h) ** 2 > (s / 2) ** 2 + 0.25) continue;
      out.push(dx, dy);
    }
    return out;
  }

  /** Draw the points. p: {n, coords, visible, colors, emphasis|null, size}, view: LA.View. Returns ms. */
  draw(p, view) {
    const t0 = performance.now();
    const W = this.W, H = this.H, count = this.count, pick = this.pick, touched = this.touched;
    for (let j = 0; j < this.nTouched; j++) pick[touched[j]] = -1; // forget the last frame's picks
    const a = view.scale, bx = W / 2 - view.cx * a, by = H / 2 + view.cy * a;
    const s = p.size, half = (s - 1) >> 1;
    let nt = 0;
    if (s === 1) nt = this.splat1(p, a, bx, by);
    else nt = this.splatN(p, a, bx, by, s, half);
    this.nTouched = nt;
    this.composite(nt);
    this.ctx.putImageData(this.image, 0, 0);
    this.lastMs = performance.now() - t0;
    return this.lastMs;
  }

  /** One pixel per point: the fast path for large N. Returns the number of touched pixels. */
  splat1(p, a, bx, by) {
    const W = this.W, H = this.H, xy = p.coords, vis = p.visible, col = p.colors, emph = p.emphasis;
    const count = this.count, sr = this.sr, sg = this.sg, sb = this.sb, ghost = this.ghost;
    const pick = this.pick, touched = this.touched;
    let nt = 0;
    for (let i = 0, n = p.n; i < n; i++) {
      if (vis[i] === 0) continue;
      const fx = xy[2 * i] * a + bx, fy = by - xy[2 * i + 1] * a;
      if (!(fx >= 0 && fx < W && fy >= 0 && fy < H)) continue;
      const q = (fy | 0) * W + (fx | 0); // fx, fy >= 0 here, so | 0 is floor
      if (count[q] === 0 && ghost[q] === 0) touched[nt++] = q;
      if (emph !== null && emph[i] === 0) { ghost[q] = 1; if (count[q] === 0) pick[q] = i; continue; }
      const c = col[i];
      count[q]++; sr[q] += c >>> 16; sg[q] += (c >>> 8) & 255; sb[q] += c & 255;
      pick[q] = i;
    }
    return nt;
  }

  /** s x s (or disc) stamps. Returns the number of touched pixels. */
  splatN(p, a, bx, by, s, half) {
    const W = this.W, H = this.H, xy = p.coords, vis = p.visible, col = p.colors, emph = p.emphasis;
    const count = this.count, sr = this.sr, sg = this.sg, sb = this.sb, ghost = this.ghost;
    const pick = this.pick, touched = this.touched;
    const offs = LA.Renderer.stamp(s), no = offs.length;
    let nt = 0;
    // Ghosts first, so emphasized points are drawn over them; then the others.
    for (let pass = emph === null ? 1 : 0; pass < 2; pass++) {
      for (let i = 0, n = p.n; i < n; i++) {
        if (vis[i] === 0) continue;
        const isGhost = emph !== null && emph[i] === 0;
        if (isGhost !== (pass === 0)) continue;
        const x0 = Math.floor(xy[2 * i] * a + bx) - half, y0 = Math.floor(by - xy[2 * i + 1] * a) - half;
        if (x0 >= W || y0 >= H || x0 + s <= 0 || y0 + s <= 0) continue;
        const c = col[i], r = c >>> 16, g = (c >>> 8) & 255, b = c & 255;
        for (let k = 0; k < no; k += 2) {
          const x = x0 + offs[k], y = y0 + offs[k + 1];
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          const q = y * W + x;
          if (count[q] === 0 && ghost[q] === 0) touched[nt++] = q;
          pick[q] = i;
          if (isGhost) { ghost[q] = 1; continue; }
          count[q]++; sr[q] += r; sg[q] += g; sb[q] += b;
        }
      }
    }
    return nt;
  }

  /** Write the touched pixels into the image and clear the buffers behind them. */
  composite(nt) {
    const px = this.px, count = this.count, sr = this.sr, sg = this.sg, sb = this.sb, ghost = this.ghost;
    const touched = this.touched;
    px.fill(0); // transparent: the page (or the latent validity map) shows through
    let cmax = 0;
    for (let j = 0; j < nt; j++) { const c = count[touched[j]]; if (c > cmax) cmax = c; }
    const lut = this.alphaTable(cmax);
    const lutMax = lut.length - 1;
    const GHOST = (150 << 24) | (0xd4 << 16) | (0xd4 << 8) | 0xd4;
    for (let j = 0; j < nt; j++) {
      const q = touched[j], c = count[q];
      if (c === 0) { px[q] = GHOST; ghost[q] = 0; continue; }
      const r = (sr[q] / c) | 0, g = (sg[q] / c) | 0, b = (sb[q] / c) | 0;
      px[q] = ((lut[c > lutMax ? lutMax : c] << 24) | (b << 16) | (g << 8) | r) >>> 0;
      count[q] = 0; sr[q] = 0; sg[q] = 0; sb[q] = 0; ghost[q] = 0;
    }
  }

  /** Alpha (0-255) per pixel count, up to the largest count of this frame. The lone-point alpha a1 falls
      from 1 as overlap grows (a few overlapping discs: no shading; thousands per pixel: a1 = 0.3). */
  alphaTable(cmax) {
    const size = Math.min(Math.max(cmax, 1), 65535) + 1;
    const lut = new Uint8Array(size).fill(255);
    if (!this.density || cmax <= 4) return lut;
    const a1 = Math.max(0.3, 1 - 0.25 * Math.log2(cmax / 4)), logMax = Math.log(cmax);
    for (let c = 1; c < size; c++) lut[c] = Math.round(255 * (a1 + (1 - a1) * Math.min(1, Math.log(c) / logMax)));
    return lut;
  }

  /** The point nearest to (mx, my) among those drawn within r pixels, or -1. */
  pickNear(mx, my, r, coords, view) {
    const W = this.W, H = this.H;
    let best = -1, bestD = Infinity;
    const x0 = Math.max(0, Math.floor(mx - r)), x1 = Math.min(W - 1, Math.floor(mx + r));
    const y0 = Math.max(0, Math.floor(my - r)), y1 = Math.min(H - 1, Math.floor(my + r));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      const i = this.pick[y * W + x];
      if (i < 0 || i === best) continue;
      const [sx, sy] = view.toScreen(coords[2 * i], coords[2 * i + 1]);
      const d = (sx - mx) ** 2 + (sy - my) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    return bestD <= (r + 1) * (r + 1) ? best : -1;
  }

  /** RGBA of the drawn image at canvas pixel (x, y). */
  pixel(x, y) {
    const q = Math.floor(y) * this.W + Math.floor(x), v = this.px[q];
    return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
  }
};
