/* The side panels and the tooltip: legend or colour bar, class list, class-distance heatmap, neighbour list,
   thumbnails from the sprite sheets. DOM only; what happens on a click is passed in by main.js. */
"use strict";

LA.panels = (function () {
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmt = (v) => (v === null || v === undefined || Number.isNaN(v) ? "n/a"
    : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v));

  /** A canvas holding thumbnail i at 1:1 (tile_w x tile_h; CSS scales it up pixelated), or null. */
  function thumb(ds, i, cls) {
    const t = ds.thumbs;
    if (!t || i < 0 || i >= t.n) return null;
    const perAtlas = t.per_side * t.per_side;
    const sheet = Math.floor(i / perAtlas), within = i % perAtlas;
    const sx = (within % t.per_side) * t.tile_w, sy = Math.floor(within / t.per_side) * t.tile_h;
    const c = el("canvas", { class: cls || "thumb", "data-index": i, "data-sheet": sheet });
    c.width = t.tile_w; c.height = t.tile_h;
    const ctx = c.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(t.images[sheet], sx, sy, t.tile_w, t.tile_h, 0, 0, t.tile_w, t.tile_h);
    return c;
  }

  /** [key, value] rows describing point i: index, class, metadata, quantities. */
  function describe(ds, i) {
    const rows = [["index", String(i)]];
    if (ds.labels) rows.push(["label", ds.classNames[ds.labels[i]]]);
    for (const c of ds.metadata) {
      rows.push([c.name, c.kind === "numeric" ? fmt(c.values[i]) : c.categories[c.codes[i]]]);
    }
    for (const q of ds.quantities) rows.push([q.name, fmt(q.values[i])]);
    return rows;
  }

  function tooltip(box, ds, i) {
    box.replaceChildren();
    for (const [k, v] of describe(ds, i)) {
      const line = el("div");
      line.append(el("span", { class: "k" }, k + ": "), el("span", { class: "v", "data-key": k }, v));
      box.append(line);
    }
    const t = thumb(ds, i, "thumb tooltip-thumb");
    if (t) box.append(t);
  }

  /** Categorical legend (click an entry to hide / show it) or numeric colour bar. */
  function legend(box, lg, isHidden, onToggle) {
    box.replaceChildren();
    if (lg.kind === "numeric") {
      const bar = el("div", { class: "colorbar" });
      bar.style.background = LA.colors.viridisGradient();
      const labels = el("div", { class: "colorbar-labels" });
      labels.append(el("span", null, fmt(lg.lo)), el("span", null, fmt(lg.hi)));
      box.append(bar, labels, el("p", { class: "note" }, "colours span the 1st to 99th percentile; grey = no value"));
      return;
    }
    if (lg.kind !== "categorical") return;
    for (const item of lg.items) {
      const row = el("div", { class: "item" + (isHidden(item.codes) ? " off" : ""), role: "button",
        "data-name": item.name, title: "click to hide / show" });
      const sw = el("span", { class: "swatch" });
      sw.style.background = LA.colors.css(item.color);
      row.append(sw, el("span", { class: "name" }, item.name), el("span", { class: "count" }, item.count.toLocaleString()));
      row.addEventListener("click", () => onToggle(item.codes));
      box.append(row);
    }
  }

  /** The class-distance heatmap: C x C cells in viridis; click (i, j) calls onCell(i, j). */
  function heatmap(canvas, info, ds, onCell) {
    const M = ds.m.class_distances.matrix, C = M.length;
    canvas.width = C; canvas.height = C;
    const ctx = canvas.getContext("2d");
    let lo = Infinity, hi = -Infinity;
    for (const row of M) for (const v of row) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const span = hi > lo ? hi - lo : 1;
    const img = ctx.createImageData(C, C);
    for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) {
      const v = M[i][j], q = 4 * (i * C + j);
      const c = v === null ? 0xffffff : LA.colors.VIRIDIS[Math.round((255 * (v - lo)) / span)];
      img.data[q] = c >>> 16; img.data[q + 1] = (c >>> 8) & 255; img.data[q + 2] = c & 255; img.data[q + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const cell = (e) => {
      const r = canvas.getBoundingClientRect();
      return [Math.floor(((e.clientY - r.top) / r.height) * C), Math.floor(((e.clientX - r.left) / r.width) * C)];
    };
    const name = (k) => ds.classNames[k];
    canvas.onmousemove = (e) => {
      const [i, j] = cell(e);
      if (i >= 0 && j >= 0 && i < C && j < C) info.textContent = `${name(i)} / ${name(j)}: ${fmt(M[i][j])}`;
    };
    canvas.onclick = (e) => { const [i, j] = cell(e); if (i >= 0 && j >= 0 && i < C && j < C) onCell(i, j); };
    info.textContent = `${fmt(lo)} (dark) to ${fmt(hi)} (yellow); click a cell to highlight its two classes`;
  }

  /** The neighbour list: a note, then rows of rank, thumbnail, index, label, distance. */
  function neighbours(box, ds, list, note, onPick) {
    box.replaceChildren();
    box.append(el("p", { class: "note" }, note));
    if (!list) return;
    const table = el("table", { class: "small", id: "neighbour-table" });
    const head = el("tr");
    ["#", "", "index", "label", "distance"].forEach((h) => head.append(el("th", null, h)));
    table.append(head);
    list.forEach(({ index, distance }, r) => {
      const tr = el("tr", { "data-index": index });
      const tc = el("td");
      const t = thumb(ds, index);
      if (t) tc.append(t);
      tr.append(el("td", { class: "num" }, String(r + 1)), tc, el("td", { class: "num" }, String(index)),
        el("td", null, ds.labels ? ds.classNames[ds.labels[index]] : ""),
        el("td", { class: "num" }, distance.toPrecision(5)));
      tr.addEventListener("click", () => onPick(index));
      table.append(tr);
    });
    box.append(table);
  }

  return { el, fmt, thumb, describe, tooltip, legend, heatmap, neighbours };
})();
