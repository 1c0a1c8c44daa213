/* What the user touches: header controls, the map's gestures (pan, box, lasso, hover, click), keyboard, and
   the panels they refresh. Reads and changes the LA.App state (main.js). */
"use strict";

LA.controls = (function () {
  const CLICK_PX = 4; // a press that moves less than this is a click, not a drag

  function init(app) {
    const $ = app.$, ds = app.ds, st = app.st;
    document.getElementById("title").textContent = ds.m.title;
    const sel = $("color-by");
    for (const f of app.fields) sel.append(LA.panels.el("option", { value: f.key }, f.name));
    sel.append(LA.panels.el("option", { value: "none" }, "one colour"));
    if (LA.api.served && ds.labels && !ds.nn && LA.api.info.neighbours) {
      sel.append(LA.panels.el("option", { value: "agreement" }, "k-NN label agreement (computed by the server)"));
    }
    sel.value = st.colorKey;
    sel.addEventListener("change", () => (sel.value === "agreement" ? serverAgreement(app) : app.setColor(sel.value)));
    let timer = 0;
    $("search").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { st.search = $("search").value; app.updateVisible(); renderStats(app); app.redraw(); }, 120);
    });
    for (const tool of ["pan", "box", "lasso"]) $("tool-" + tool).addEventListener("click", () => setTool(app, tool));
    $("density").addEventListener("change", () => { app.renderer.density = $("density").checked; app.redraw(); });
    if (ds.m.ellipses) $("ellipses").addEventListener("change", () => app.drawOverlay());
    else $("ellipses").parentElement.hidden = true;
    $("point-size").addEventListener("change", () => { st.pointSize = Number($("point-size").value); app.redraw(); });
    $("reset-view").addEventListener("click", () => { app.view.fit(ds.coords, ds.n); app.redraw(); });
    if (app.latent) {
      $("latent-toggle").hidden = false; $("latent-panel").hidden = false;
      $("latent-mode").addEventListener("change", () => setLatentMode(app, $("latent-mode").checked));
      LA.LatentUI.build(app.latent);
    }
    if (ds.m.class_distances) {
      $("heatmap-panel").hidden = false;
      $("heatmap-title").textContent = "Class distances (" + ds.m.class_distances.name + ")";
      LA.panels.heatmap($("heatmap-canvas"), $("heatmap-info"), ds, (i, j) => heatmapCell(app, i, j));
    }
    const kInput = $("k-input"), kMax = LA.api.served && LA.api.info.neighbours ? LA.api.info.max_k : ds.nn ? ds.nn.k : 10;
    kInput.max = kMax; kInput.value = st.k;
    kInput.addEventListener("change", () => {
      st.k = Math.max(1, Math.min(kMax, Math.round(Number(kInput.value)) || 1));
      kInput.value = st.k;
      if (st.clicked >= 0) app.clickPoint(st.clicked);
    });
    renderNotes(app); renderStats(app);
    LA.attachGestures(app.wrap, app.view, gestures(app));
    document.addEventListener("keydown", (e) => keys(app, e));
  }

  function setTool(app, tool) {
    app.st.tool = tool;
    for (const t of ["pan", "box", "lasso"]) app.$("tool-" + t).classList.toggle("active", t === tool);
    app.wrap.classList.toggle("box", tool === "box"); app.wrap.classList.toggle("lasso", tool === "lasso");
  }

  function setLatentMode(app, on) {
    app.st.latentMode = on;
    app.$("latent-mode").checked = on;
    app.wrap.classList.toggle("latent", on);
    app.$("tooltip").hidden = true;
    app.redraw();
  }

  function heatmapCell(app, i, j) {
    const st = app.st, same = st.emphasisClasses && st.emphasisClasses.has(i) && st.emphasisClasses.has(j)
      && st.emphasisClasses.size === new Set([i, j]).size;
    st.emphasisClasses = same ? null : new Set([i, j]);
    st.selection = null;
    app.updateEmphasis();
    app.$("heatmap-info").textContent = same ? "" : `highlighting ${app.ds.classNames[i]} and ${app.ds.classNames[j]}` +
      " (click the cell again to clear)";
    renderSelection(app);
    app.redraw();
  }

  /** Hooks for LA.attachGestures: what a drag, hover or click does under the current tool and mode. */
  function gestures(app) {
    const st = app.st, tip = app.$("tooltip");
    let start = null, last = null, moved = false;
    return {
      onChange: () => { tip.hidden = true; app.schedule(); },
      onDragStart: (p) => {
        start = p; last = p; moved = false;
        if (st.tool !== "pan" && !st.latentMode) st.drag = { kind: st.tool, points: st.tool === "box" ? [p, p] : [p] };
      },
      onDragMove: (p) => {
        if (Math.hypot(p[0] - start[0], p[1] - start[1]) >= CLICK_PX) moved = true;
        if (st.drag) {
          if (st.drag.kind === "box") st.drag.points[1] = p; else st.drag.points.push(p);
          app.drawOverlay();
        } else if (moved) { app.view.panBy(p[0] - last[0], p[1] - last[1]); tip.hidden = true; app.schedule(); }
        last = p;
      },
      onDragEnd: (p) => {
        const drag = st.drag;
        st.drag = null;
        if (!moved) return click(app, p);
        if (drag) app.setSelection(LA.select.fromDrag(app.ds, st.visible, app.view, drag));
      },
      onDragCancel: () => { st.drag = null; app.drawOverlay(); },
      onHover: (p) => hover(app, p),
      onLeave: () => { tip.hidden = true; st.hovered = -1; app.drawOverlay(); },
    };
  }

  function pickRadius(app) { return Math.max(5, app.pointSize()); }

  function hover(app, p) {
    const st = app.st, tip = app.$("tooltip");
    if (st.latentMode) { const [x, y] = app.view.toData(p[0], p[1]); app.latent.hover(x, y); return; }
    const i = app.renderer.pickNear(p[0], p[1], pickRadius(app), app.ds.coords, app.view);
    if (i !== st.hovered) { st.hovered = i; app.drawOverlay(); }
    if (i < 0) { tip.hidden = true; return; }
    LA.panels.tooltip(tip, app.ds, i);
    tip.hidden = false;
    const W = app.wrap.clientWidth, H = app.wrap.clientHeight;
    tip.style.left = Math.min(p[0] + 14, W - tip.offsetWidth - 4) + "px";
    tip.style.top = Math.min(p[1] + 14, H - tip.offsetHeight - 4) + "px";
  }

  function click(app, p) {
    if (app.st.latentMode) { const [x, y] = app.view.toData(p[0], p[1]); return app.latent.click(x, y); }
    return app.clickPoint(app.renderer.pickNear(p[0], p[1], pickRadius(app), app.ds.coords, app.view));
  }

  function keys(app, e) {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    const v = app.view;
    if (e.key === "0") v.fit(app.ds.coords, app.ds.n);
    else if (e.key === "+" || e.key === "=") v.zoomAt(v.width / 2, v.height / 2, 1.25);
    else if (e.key === "-") v.zoomAt(v.width / 2, v.height / 2, 0.8);
    else if (e.key === "Escape") { app.setSelection(null); app.clickPoint(-1); return; }
    else return;
    app.schedule();
  }

  /** Legend of the colouring; a class list to hide classes by when the colouring is something else. */
  function renderLegend(app) {
    const box = app.$("legend"), lg = app.legend, key = app.st.colorKey;
    app.$("legend-title").textContent = lg.kind === "none" ? "Legend" : "Colour: " + app.field(key).name;
    LA.panels.legend(box, lg, (codes) => app.isHidden(key, codes), (codes) => app.toggle(key, codes));
    if (app.classLegend && key !== "class") {
      const sub = LA.panels.el("div", { id: "class-list" });
      box.append(LA.panels.el("h2", null, "Classes (click to hide / show)"), sub);
      LA.panels.legend(sub, app.classLegend, (c) => app.isHidden("class", c), (c) => app.toggle("class", c));
    }
  }

  function renderStats(app) {
    const ds = app.ds, st = app.st, m = ds.m;
    const parts = [`${ds.n.toLocaleString()} points`];
    if (m.dim) parts.push(`${m.dim}-D, ${m.metric}`);
    if (st.visibleCount !== ds.n) parts.push(`${st.visibleCount.toLocaleString()} shown`);
    parts.push(LA.api.served ? "served" : "static");
    app.$("stats").textContent = parts.join(" · ");
  }

  function renderNotes(app) {
    const m = app.ds.m, box = app.$("notes");
    const lines = ["Map: " + m.projection + "."].concat(m.notes);
    if (app.latent && !app.latent.served) {
      lines.push("Latent mode (static): a hover shows the precomputed decode of the nearest grid position; " +
        "--serve decodes every position exactly.");
    }
    const rows = lines.map((t) => LA.panels.el("p", null, t));
    const links = LA.api.served ? [] : (m.links || []); // served pages see only the explorer's own folder
    if (links.length) {
      const p = LA.panels.el("p", { class: "links" });
      for (const l of links) p.append(LA.panels.el("a", { href: l.href }, l.text), " ");
      rows.unshift(p);
    }
    box.replaceChildren(...rows);
  }

  function renderNeighbours(app) {
    const st = app.st;
    app.$("neighbour-panel").hidden = st.clicked < 0;
    LA.panels.neighbours(app.$("neighbours"), app.ds, st.neighbours, st.neighbourNote, (i) => app.clickPoint(i));
  }

  function renderSelection(app) {
    const st = app.st, panel = app.$("selection-panel");
    panel.hidden = !st.selection;
    if (!st.selection) return;
    LA.select.panel(app.$("selection"), app.ds, st.selection, {
      save: () => saveSelection(app), clear: () => app.setSelection(null), status: st.selectionStatus,
    });
  }

  async function saveSelection(app) {
    const sel = app.st.selection, name = `selection-${sel.indices.length}`;
    if (LA.api.served) {
      try {
        const r = await LA.api.selection(sel.indices, name);
        app.st.selectionStatus = `saved on the server: ${r.path}`;
      } catch (e) { app.st.selectionStatus = "saving failed: " + e.message; }
      renderSelection(app);
      return;
    }
    LA.select.download(LA.select.csv(app.ds, sel.indices), name + ".csv");
  }

  async function serverAgreement(app) {
    const note = app.$("legend");
    note.textContent = "computing every point's neighbours on the server...";
    try {
      const r = await LA.api.agreement(app.st.k);
      const f = { key: "agreement", name: `k-NN label agreement (k = ${r.k})`, kind: "numeric", values: new Float32Array(LA.data.bytes(r.values).buffer) };
      app.fields = app.fields.filter((x) => x.key !== "agreement").concat([f]);
      app.setColor("agreement");
    } catch (e) { note.textContent = "failed: " + e.message; }
  }

  return { init, renderLegend, renderStats, renderNeighbours, renderSelection, setTool, setLatentMode };
})();
