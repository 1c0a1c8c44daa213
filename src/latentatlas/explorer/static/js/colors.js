/* Colours: a categorical palette for classes and category columns, viridis for numbers, and the per-point colour
   array the renderer reads. Colours are packed 0xRRGGBB in a Uint32Array; NaN values and the "other" categories
   (beyond the MAX_LEGEND commonest) are grey. */
"use strict";

LA.colors = (function () {
  const MAX_LEGEND = 20;
  const GREY = 0x9a9a9a;
  // Tableau 10 then its lighter partners: distinguishable on white, the usual choice for classes.
  const PALETTE = [
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5,
  ];
  // Viridis (matplotlib) at 9 stops; interpolated linearly into a 256-entry table.
  const VIRIDIS_STOPS = [
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
  ];
  const VIRIDIS = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (VIRIDIS_STOPS.length - 1);
    const k = Math.min(Math.floor(t), VIRIDIS_STOPS.length - 2);
    const f = t - k, a = VIRIDIS_STOPS[k], b = VIRIDIS_STOPS[k + 1];
    const c = [0, 1, 2].map((j) => Math.round(a[j] + f * (b[j] - a[j])));
    VIRIDIS[i] = (c[0] << 16) | (c[1] << 8) | c[2];
  }

  const css = (c) => "#" + c.toString(16).padStart(6, "0");

  /** Colour of category `rank` in a legend (palette order), grey past the palette. */
  function categoryColor(rank) { return rank < PALETTE.length ? PALETTE[rank] : GREY; }

  /** Legend of a categorical field: which categories get their own colour, with counts. */
  function categoricalLegend(field) {
    const count = new Uint32Array(field.categories.length);
    for (let i = 0; i < field.codes.length; i++) count[field.codes[i]]++;
    let order = field.categories.map((_, c) => c);
    const many = order.length > MAX_LEGEND;
    if (many) order.sort((a, b) => count[b] - count[a] || a - b); // the commonest get colours
    const color = new Uint32Array(field.categories.length).fill(GREY);
    const items = [];
    order.forEach((c, rank) => {
      if (many && rank >= MAX_LEGEND - 1) return;
      color[c] = categoryColor(rank);
      items.push({ codes: [c], name: field.categories[c], color: color[c], count: count[c] });
    });
    if (many) {
      const rest = order.slice(MAX_LEGEND - 1);
      items.push({ codes: rest, name: `other (${rest.length} values)`, color: GREY,
        count: rest.reduce((s, c) => s + count[c], 0) });
    }
    return { kind: "categorical", field, items, color };
  }

  /** Robust range of numbers: the 1st and 99th percentiles of the finite values (of a sample above 100k). */
  function robustRange(values) {
    const step = Math.max(1, Math.floor(values.length / 100000));
    const sample = [];
    for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) sample.push(values[i]);
    if (!sample.length) return [0, 1];
    sample.sort((a, b) => a - b);
    let lo = sample[Math.floor(0.01 * (sample.length - 1))], hi = sample[Math.ceil(0.99 * (sample.length - 1))];
    if (!(hi > lo)) { lo = sample[0]; hi = sample[sample.length - 1]; }
    if (!(hi > lo)) hi = lo + 1;
    return [lo, hi];
  }

  /** Per-point colours for a field: returns {colors: Uint32Array(N), legend}. field null = one colour. */
  function compute(field, n) {
    const colors = new Uint32Array(n);
    if (!field) {
      colors.fill(PALETTE[0]);
      return { colors, legend: { kind: "none" } };
    }
    if (field.kind === "categorical") {
      const legend = categoricalLegend(field);
      for (let i = 0; i < n; i++) colors[i] = legend.color[field.codes[i]];
      return { colors, legend };
    }
    const v = field.values;
    const [lo, hi] = robustRange(v);
    const scale = 255 / (hi - lo);
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (x !== x) { colors[i] = GREY; continue; } // NaN
      const t = (x - lo) * scale;
      colors[i] = VIRIDIS[t <= 0 ? 0 : t >= 255 ? 255 : t | 0];
    }
    return { colors, legend: { kind: "numeric", field, lo, hi } };
  }

  /** CSS linear-gradient of viridis for the colour bar. */
  function viridisGradient() {
    const stops = [];
    for (let i = 0; i <= 8; i++) stops.push(css(VIRIDIS[Math.round((i * 255) / 8)]));
    return `linear-gradient(to right, ${stops.join(", ")})`;
  }

  return { compute, css, viridisGradient, robustRange, VIRIDIS, PALETTE, GREY, MAX_LEGEND };
})();
