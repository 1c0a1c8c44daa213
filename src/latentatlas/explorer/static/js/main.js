/* The explorer page: loads the data, holds the state, wires the views together, and exposes window.__explorer
   (state, transforms and a timed redraw) for tests and benchmarks. Order of the other files: data, colors,
   view, render, overlay, panels, select, latent, latent_ui, api, controls, hook, then this one. */
"use strict";

LA.App = class {
  constructor(ds) {
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    this.ds = ds;
    this.wrap = $("map-wrap");
    this.view = new LA.View();
    this.renderer = new LA.Renderer($("map-canvas"));
    this.overlay = new LA.Overlay($("overlay-canvas"));
    this.bg = $("bg-canvas");
    this.fields = LA.App.fields(ds);
    this.classField = this.fields.find((f) => f.key === "class") || null;
    this.classLegend = this.classField ? LA.colors.compute(this.classField, ds.n).legend : null;
    this.st = {
      colorKey: (this.fields.find((f) => f.name === ds.m.color_by) || this.fields[0] || { key: "none" }).key,
      hidden: new Map(), search: "", visible: new Uint8Array(ds.n).fill(1), visibleCount: ds.n,
      emphasisClasses: null, selection: null, emphasis: null,
      hovered: -1, clicked: -1, neighbours: null, neighbourNote: "",
      tool: "pan", drag: null, latentMode: false, pointSize: 0, k: ds.nn ? ds.nn.k : 10,
    };
    this.frame = 0;
    this.latent = ds.latent ? new LA.Latent(ds, {
      canvas: $("decode-canvas"), badge: $("decode-badge"), caption: $("decode-caption"),
      strip: $("morph-strip"), morphCaption: $("morph-caption"), mode: $("morph-mode"),
      controls: $("latent-controls"),
    }, {
      setCoords: (c) => { this.ds.coords = c; this.view.fit(c, ds.n); this.redraw(); },
      redraw: () => this.schedule(),
    }) : null;
  }

  /** Colourable fields: class, metadata columns, per-point quantities. */
  static fields(ds) {
    const out = [];
    if (ds.labels) out.push({ key: "class", name: "class", kind: "categorical", codes: ds.labels, categories: ds.classNames });
    ds.metadata.forEach((c, i) => out.push(Object.assign({ key: "meta" + i }, c)));
    ds.quantities.forEach((q, i) => out.push(Object.assign({ key: "q" + i }, q)));
    return out;
  }

  field(key) { return this.fields.find((f) => f.key === key) || null; }

  /** Recompute which points are shown: hidden categories and the search text. */
  updateVisible() {
    const st = this.st, vis = st.visible, n = this.ds.n;
    vis.fill(1);
    for (const [key, set] of st.hidden) {
      if (!set.size) continue;
      const f = this.field(key), mask = new Uint8Array(f.categories.length);
      for (const c of set) mask[c] = 1;
      for (let i = 0; i < n; i++) if (mask[f.codes[i]]) vis[i] = 0;
    }
    const q = st.search.trim().toLowerCase();
    if (q) {
      const cat = this.fields.filter((f) => f.kind === "categorical")
        .map((f) => ({ codes: f.codes, hit: Uint8Array.from(f.categories, (s) => String(s).toLowerCase().includes(q)) }));
      const asIndex = /^\d+$/.test(q) ? Number(q) : -1;
      for (let i = 0; i < n; i++) {
        if (!vis[i]) continue;
        let hit = i === asIndex;
        for (let f = 0; !hit && f < cat.length; f++) hit = cat[f].hit[cat[f].codes[i]] === 1;
        if (!hit) vis[i] = 0;
      }
    }
    let count = 0;
    for (let i = 0; i < n; i++) count += vis[i];
    st.visibleCount = count;
  }

  /** Points outside the selection (or the heatmap's two classes) become ghosts. */
  updateEmphasis() {
    const st = this.st, n = this.ds.n;
    if (st.selection) {
      st.emphasis = new Uint8Array(n);
      for (const i of st.selection.indices) st.emphasis[i] = 1;
    } else if (st.emphasisClasses) {
      st.emphasis = new Uint8Array(n);
      for (let i = 0; i < n; i++) st.emphasis[i] = st.emphasisClasses.has(this.ds.labels[i]) ? 1 : 0;
    } else st.emphasis = null;
  }

  setColor(key) {
    const st = this.st;
    st.colorKey = key;
    const c = LA.colors.compute(this.field(key), this.ds.n);
    this.colors = c.colors; this.legend = c.legend;
    LA.controls.renderLegend(this);
    this.schedule();
  }

  isHidden(key, codes) { const s = this.st.hidden.get(key); return !!s && codes.every((c) => s.has(c)); }

  /** Hide the categories `codes` of field `key`, or show them again when all are hidden. */
  toggle(key, codes) {
    const st = this.st;
    if (!st.hidden.has(key)) st.hidden.set(key, new Set());
    const s = st.hidden.get(key), hide = !this.isHidden(key, codes);
    for (const c of codes) (hide ? s.add(c) : s.delete(c));
    this.updateVisible();
    LA.controls.renderLegend(this);
    LA.controls.renderStats(this);
    this.redraw();
  }

  pointSize() {
    if (this.st.pointSize > 0) return this.st.pointSize;
    const nv = this.st.visibleCount;
    const base = nv <= 3000 ? 5 : nv <= 30000 ? 3 : nv <= 300000 ? 2 : 1;
    return Math.max(1, Math.min(10, Math.round(base * Math.pow(Math.max(this.view.zoom, 1), 0.3))));
  }

  /** Everything the overlay draws. */
  scene() {
    const st = this.st, ds = this.ds, ell = ds.m.ellipses;
    const classColor = (c) => (this.classLegend ? this.classLegend.color[c] : 0x333333);
    return {
      coords: ds.coords, hovered: st.latentMode ? -1 : st.hovered, clicked: st.clicked,
      neighbours: st.neighbours && st.neighbours.map((x) => x.index),
      ellipses: ell && this.$("ellipses").checked ? ell.items : null, classColor,
      hiddenClass: (c) => this.isHidden("class", [c]), drag: st.drag,
      morph: this.latent && st.latentMode && this.latent.morph.ends.length ? this.latent.morph : null,
    };
  }

  /** Full redraw now (points, validity map, overlay); returns its duration in ms. */
  redraw() {
    const t0 = performance.now();
    this.renderer.draw({
      n: this.ds.n, coords: this.ds.coords, visible: this.st.visible, colors: this.colors,
      emphasis: this.st.emphasis, size: this.pointSize(),
    }, this.view);
    if (this.latent && this.st.latentMode) LA.LatentUI.background(this.latent, this.bg, this.view);
    else this.bg.getContext("2d").clearRect(0, 0, this.bg.width, this.bg.height);
    this.overlay.draw(this.scene(), this.view);
    this.lastRedrawMs = performance.now() - t0;
    return this.lastRedrawMs;
  }

  /** Redraw at the next animation frame (many events, one redraw). */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.redraw(); });
  }

  drawOverlay() { this.overlay.draw(this.scene(), this.view); }

  resize() {
    const W = this.wrap.clientWidth, H = this.wrap.clientHeight, first = this.view.width <= 1;
    this.view.width = W; this.view.height = H;
    this.renderer.resize(W, H); this.overlay.resize(W, H);
    this.bg.width = Math.max(1, W); this.bg.height = Math.max(1, H);
    if (first) this.view.fit(this.ds.coords, this.ds.n);
    this.redraw();
  }

  /** Click on point i: list its neighbours in the full space (precomputed, or from the server). */
  async clickPoint(i) {
    const st = this.st, ds = this.ds;
    st.clicked = i; st.neighbours = null;
    const dim = ds.m.dim, where = `in the full ${dim}-D space (${ds.m.metric})`;
    if (i < 0) { st.neighbourNote = ""; }
    else if (ds.nn && st.k <= ds.nn.k) {
      const K = ds.nn.k;
      st.neighbours = Array.from({ length: st.k }, (_, r) => ({ index: ds.nn.index[i * K + r], distance: ds.nn.distance[i * K + r] }));
      st.neighbourNote = `${st.k} nearest neighbours of point ${i} ${where}, exact, precomputed`;
    } else if (LA.api.served && LA.api.info.neighbours) {
      try {
        const r = await LA.api.neighbours(i, st.k);
        st.neighbours = r.neighbours.map((index, k) => ({ index, distance: r.distances[k] }));
        st.neighbourNote = `${st.k} nearest neighbours of point ${i} ${where}, exact, from the server`;
      } catch (e) { st.neighbourNote = "neighbour query failed: " + e.message; }
    } else if (dim === null) {
      st.neighbourNote = "no embeddings were given with this map, so there are no full-space neighbours";
    } else {
      st.neighbourNote = `neighbours are precomputed up to N = ${ds.m.limits.static_neighbours_max_n.toLocaleString()}` +
        ` points (this map has ${ds.n.toLocaleString()}): open it with latentatlas explore --serve`;
    }
    LA.controls.renderNeighbours(this);
    this.drawOverlay();
  }

  setSelection(sel) {
    this.st.selection = sel && sel.indices.length ? sel : null;
    this.st.selectionStatus = "";
    this.updateEmphasis();
    LA.controls.renderSelection(this);
    this.redraw();
  }
};

/** Start: load the data, build the app, expose window.__explorer. */
LA.start = async function () {
  const loading = document.getElementById("loading");
  let ds;
  try {
    ds = await LA.data.load();
  } catch (e) {
    loading.textContent = "The explorer's data did not load: " + e.message;
    console.error(e);
    return;
  }
  await LA.api.init();
  const app = new LA.App(ds);
  LA.controls.init(app);
  app.setColor(app.st.colorKey);
  new ResizeObserver(() => app.resize()).observe(app.wrap);
  app.resize();
  loading.remove();
  window.__explorer = LA.hook(app);
};

LA.start();
