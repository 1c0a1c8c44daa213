/* Latent-plane controls and the validity map under the points.
   Plane choice: the precomputed planes; a served page may also build any plane of two PCA axes or two latent
   dims. Sliders set the other coordinates: a 3-D static page snaps to its precomputed slices, a served page
   moves freely (and recomputes a coarse validity map through the server). */
"use strict";

LA.LatentUI = (function () {
  const LIVE_MAP = 32; // served validity map: LIVE_MAP x LIVE_MAP decodes per refresh

  /** A plane of two PCA axes or two latent dims, with slider ranges from the training latents (served). */
  function customPlane(lat, kind, i, j) {
    const L = lat.L, dim = lat.dim, n = lat.ds.n, mu = L.latents;
    const order = [i, j].concat([...Array(dim).keys()].filter((k) => k !== i && k !== j));
    const eye = (k) => Array.from({ length: dim }, (_, d) => (d === k ? 1 : 0));
    const basis = order.map((k) => (kind === "pca" ? L.pca_axes[k].slice() : eye(k)));
    const origin = kind === "pca" ? L.pca_mean.slice() : new Array(dim).fill(0);
    const proj = basis.map(() => new Float64Array(n));
    for (let p = 0; p < n; p++) basis.forEach((row, r) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += row[d] * (mu[p * dim + d] - origin[d]);
      proj[r][p] = s;
    });
    const range = (a) => { let lo = Infinity, hi = -Infinity; for (const v of a) { lo = Math.min(lo, v); hi = Math.max(hi, v); } return [lo, hi]; };
    const median = (a) => { const s = Float64Array.from(a).sort(); return s[Math.floor((s.length - 1) / 2)]; };
    const grid = (a) => { const [lo, hi] = range(a), pad = 0.1 * Math.max(hi - lo, 1e-6), G = 64;
      return Array.from({ length: G }, (_, k) => lo - pad + ((hi - lo + 2 * pad) * k) / (G - 1)); };
    const coords = new Float32Array(2 * n);
    for (let p = 0; p < n; p++) { coords[2 * p] = proj[0][p]; coords[2 * p + 1] = proj[1][p]; }
    const name = kind === "pca" ? `PC${i + 1}-PC${j + 1}` : `z${i + 1}-z${j + 1}`;
    return { name, axis_labels: name.split("-"), origin, basis, xs: grid(proj[0]), ys: grid(proj[1]),
      others_default: proj.slice(2).map(median), others_range: proj.slice(2).map(range),
      slice_values: [], images: null, valid: null, coords, custom: true };
  }

  function setPlane(lat, plane) {
    lat.plane = plane;
    lat.others = plane.others_default.slice();
    lat.sliceIndex = lat.defaultSlice();
    lat.liveMap = null;
    lat.morph = { ends: [], path: null, valid: null, frames: null, source: null };
    lat.ui.strip.replaceChildren();
    lat.hooks.setCoords(plane.coords);
    build(lat);
    if (lat.served && (plane.custom || lat.dim > 3)) refreshLiveMap(lat);
  }

  /** Name of a basis row: z<k> for a unit vector, PC<k> for a principal axis, else "axis <r>". */
  function axisName(lat, row, r) {
    const close = (a, b) => a.every((v, d) => Math.abs(v - b[d]) < 1e-9);
    for (let k = 0; k < lat.dim; k++) {
      if (row[k] === 1 && close(row, row.map((_, d) => (d === k ? 1 : 0)))) return `z${k + 1}`;
      if (close(row, lat.L.pca_axes[k])) return `PC${k + 1}`;
    }
    return `axis ${r}`;
  }

  function label(text) { return LA.panels.el("label", null, text); }

  /** (Re)build the controls of the current plane. */
  function build(lat) {
    const { el } = LA.panels, box = lat.ui.controls, p = lat.plane;
    box.replaceChildren();
    const pick = el("select", { id: "plane-select", "aria-label": "plane" });
    lat.L.planes.forEach((q, k) => pick.append(el("option", { value: "p" + k }, q.name + " (precomputed)")));
    if (lat.served) {
      for (const kind of ["pca", "dims"]) for (let i = 0; i < lat.dim; i++) for (let j = i + 1; j < lat.dim; j++) {
        const name = kind === "pca" ? `PC${i + 1}-PC${j + 1}` : `z${i + 1}-z${j + 1}`;
        pick.append(el("option", { value: `${kind}:${i}:${j}` }, name));
      }
    }
    pick.value = p.custom ? `${p.kind}:${p.i}:${p.j}` : "p" + lat.L.planes.indexOf(p);
    pick.addEventListener("change", () => {
      const v = pick.value;
      if (v[0] === "p") return setPlane(lat, lat.L.planes[Number(v.slice(1))]);
      const [kind, i, j] = v.split(":");
      setPlane(lat, Object.assign(customPlane(lat, kind, Number(i), Number(j)), { kind, i: Number(i), j: Number(j) }));
    });
    const row = label("plane ");
    row.append(pick);
    box.append(row, el("p", { class: "note" }, `x: ${p.axis_labels[0]}, y: ${p.axis_labels[1]}; latent dim ${lat.dim}`));
    sliders(lat, box);
  }

  function sliders(lat, box) {
    const { el } = LA.panels, p = lat.plane;
    if (lat.dim === 2) return;
    if (lat.staticSlices) {
      const n = p.slice_values.length;
      const s = el("input", { type: "range", min: 0, max: n - 1, step: 1, value: lat.sliceIndex, id: "slice-slider" });
      const out = el("span", null, p.slice_values[lat.sliceIndex].toPrecision(3));
      s.addEventListener("input", () => {
        lat.sliceIndex = Number(s.value); out.textContent = p.slice_values[lat.sliceIndex].toPrecision(3);
        lat.hooks.redraw();
      });
      const row = label(axisName(lat, p.basis[2], 3) + " ");
      row.append(s, " ", out);
      box.append(row, el("p", { class: "note" }, `static: the third coordinate snaps to ${n} precomputed slices; ` +
        "with --serve every position is decoded exactly"));
      return;
    }
    if (!lat.served) {
      box.append(el("p", { class: "note" }, `the other ${lat.dim - 2} coordinates stay at the training latents' ` +
        "medians: sliders beyond a 3-D latent need --serve (static pages hold one precomputed slice)"));
      return;
    }
    p.others_range.forEach(([lo, hi], k) => {
      const s = el("input", { type: "range", min: lo, max: hi, step: (hi - lo) / 200 || 0.01,
        value: lat.others[k], "data-axis": k, class: "other-slider" });
      const out = el("span", null, Number(lat.others[k]).toPrecision(3));
      let timer = 0;
      s.addEventListener("input", () => {
        lat.others[k] = Number(s.value); out.textContent = lat.others[k].toPrecision(3);
        clearTimeout(timer); timer = setTimeout(() => refreshLiveMap(lat), 150);
      });
      const row = label(axisName(lat, p.basis[2 + k], k + 3) + " ");
      row.append(s, " ", out);
      box.append(row);
    });
  }

  /** Served: validity of a LIVE_MAP x LIVE_MAP grid over the plane at the current sliders. */
  async function refreshLiveMap(lat) {
    const p = lat.plane, G = LIVE_MAP, xs = [], ys = [];
    for (let k = 0; k < G; k++) {
      xs.push(p.xs[0] + ((p.xs[p.xs.length - 1] - p.xs[0]) * k) / (G - 1));
      ys.push(p.ys[0] + ((p.ys[p.ys.length - 1] - p.ys[0]) * k) / (G - 1));
    }
    const z = [];
    for (let iy = 0; iy < G; iy++) for (let ix = 0; ix < G; ix++) z.push(lat.zAt(xs[ix], ys[iy]));
    try {
      const r = await LA.api.decode(z, true);
      lat.liveMap = { G, xs, ys, valid: r.valid.map((v) => (v ? 1 : 0)) };
      lat.hooks.redraw();
    } catch (e) { lat.ui.caption.textContent = "validity map failed: " + e.message; }
  }

  /** The validity map: grid cells tinted green (valid) or red under the points. */
  function background(lat, canvas, view) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    let map = lat.liveMap;
    if (!map && lat.plane.valid && !(lat.served && lat.dim > 3)) {
      const slice = lat.dim === 3 ? lat.sliceIndex : 0, G = lat.plane.xs.length;
      map = { G, xs: lat.plane.xs, ys: lat.plane.ys, valid: lat.plane.valid.subarray(slice * G * G, (slice + 1) * G * G) };
    }
    if (!map) return;
    const G = map.G, img = new ImageData(G, G);
    for (let iy = 0; iy < G; iy++) for (let ix = 0; ix < G; ix++) {
      const q = 4 * ((G - 1 - iy) * G + ix), ok = map.valid[iy * G + ix]; // image row 0 = top = largest y
      img.data[q] = ok ? 47 : 224; img.data[q + 1] = ok ? 158 : 49; img.data[q + 2] = ok ? 68 : 49;
      img.data[q + 3] = 40;
    }
    const off = document.createElement("canvas");
    off.width = G; off.height = G;
    off.getContext("2d").putImageData(img, 0, 0);
    const dx = (map.xs[G - 1] - map.xs[0]) / (G - 1), dy = (map.ys[G - 1] - map.ys[0]) / (G - 1);
    const [x0, y0] = view.toScreen(map.xs[0] - dx / 2, map.ys[G - 1] + dy / 2);
    const [x1, y1] = view.toScreen(map.xs[G - 1] + dx / 2, map.ys[0] - dy / 2);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, x0, y0, x1 - x0, y1 - y0);
  }

  return { build, background, customPlane, refreshLiveMap, setPlane };
})();
