/* window.__explorer: a small, stable handle on the page for tests and benchmarks (and the browser console).
   Coordinates: toScreen / toData use canvas pixels (CSS px from the map canvas's top-left corner, see
   canvasRect() for where that corner is in the window). redraw() paints synchronously and returns its ms. */
"use strict";

LA.hook = function (app) {
  const st = app.st;
  const selection = () => st.selection && {
    kind: st.selection.kind, box: st.selection.box || null, polygon: st.selection.polygon || null,
    count: st.selection.indices.length, indices: st.selection.indices.slice(),
    counts: LA.select.classCounts(app.ds, st.selection.indices),
  };
  const latent = () => {
    const lat = app.latent;
    if (!lat) return null;
    const d = lat.last;
    return {
      plane: lat.plane.name, sliceIndex: lat.sliceIndex, served: !!lat.served,
      last: d && { x: d.x, y: d.y, z: d.z, ix: d.ix, iy: d.iy, slice: d.slice, valid: d.valid, source: d.source,
        binary: d.binary, pixels: Array.from(d.pixels), badge: app.$("decode-badge").textContent },
      morph: lat.morph.valid && { valid: lat.morph.valid.slice(), source: lat.morph.source, mode: lat.morph.mode,
        ends: lat.morph.ends.map((e) => e.slice()),
        frames: lat.morph.frames.map((f) => Array.from(f)) },
    };
  };
  return {
    ready: true,
    readyMs: performance.now(), // since navigation start: the page's load-to-interactive time
    n: app.ds.n,
    app,
    redraw: () => app.redraw(),
    lastRedrawMs: () => app.lastRedrawMs,
    view: () => app.view.snapshot(),
    toScreen: (x, y) => app.view.toScreen(x, y),
    toData: (px, py) => app.view.toData(px, py),
    canvasRect: () => { const r = app.renderer.canvas.getBoundingClientRect(); return { left: r.left, top: r.top, width: r.width, height: r.height }; },
    pixel: (x, y) => app.renderer.pixel(x, y),
    isVisible: (i) => app.st.visible[i] === 1,
    fields: () => app.fields.map((f) => ({ key: f.key, name: f.name, kind: f.kind })),
    setColor: (key) => app.setColor(key),
    toggle: (key, code) => app.toggle(key, [code]),
    search: (text) => { st.search = text; app.updateVisible(); app.redraw(); return st.visibleCount; },
    setTool: (tool) => LA.controls.setTool(app, tool),
    setLatentMode: (on) => LA.controls.setLatentMode(app, on),
    clickPoint: (i) => app.clickPoint(i),
    setView: (scale, cx, cy) => { app.view.scale = scale; app.view.cx = cx; app.view.cy = cy; return app.redraw(); },
    state: () => ({
      colorKey: st.colorKey, search: st.search, visibleCount: st.visibleCount, hovered: st.hovered,
      clicked: st.clicked, neighbours: st.neighbours && st.neighbours.map((x) => ({ index: x.index, distance: x.distance })),
      neighbourNote: st.neighbourNote, selection: selection(), latentMode: st.latentMode, pointSize: app.pointSize(),
      hidden: Object.fromEntries([...st.hidden].map(([k, s]) => [k, [...s].sort((a, b) => a - b)])),
      emphasisClasses: st.emphasisClasses && [...st.emphasisClasses], served: LA.api.served,
    }),
    latent,
  };
};
