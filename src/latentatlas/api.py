"""The Python entry points a user calls: `latentatlas.analyze(...)` returns an `Analysis` that can save and show
itself. This module sits on top of the geometry layer (the numbers) and the report layer (figures, pages), so
neither needs the other."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from latentatlas.analysis.analyze import Analysis as GeometryAnalysis
from latentatlas.analysis.analyze import analyze as analyze_geometry
from latentatlas.report.analysis_report import notebook_html, save_analysis, summary_lines

__all__ = ["Analysis", "analyze"]


class Analysis(GeometryAnalysis):
    """The geometry of N labelled embeddings (see `latentatlas.analysis.Analysis`), with `save`, a terminal
    summary and a Jupyter view."""

    def save(self, path: str | Path, force: bool = False, projector: bool = False, images: Any = None) -> Path:
        """Write `analysis.json`, `figures/*.png`, `report.html` (and `projector/` if asked) into `path`.

        `images`: (N, H, W), (N, H, W, C) or (N, C, H, W) pixels, row i = embedding i: the report then shows the
        embeddings a k-NN vote gets wrong with their neighbours. Refuses a non-empty folder unless `force`; `path`
        never holds a half-written result.
        """
        return save_analysis(self, path, force=force, projector=projector, images=images)

    def summary_text(self) -> str:
        """A few lines for the terminal."""
        return "\n".join(summary_lines(self))

    def _repr_html_(self) -> str:
        return notebook_html(self)


def analyze(embeddings: Any, labels: Any, class_names: list[str] | None = None, **kwargs: Any) -> Analysis:
    """Measure the geometry of labelled embeddings; arguments as `latentatlas.analysis.analyze`."""
    result = analyze_geometry(embeddings, labels, class_names=class_names, **kwargs)
    return Analysis(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)})
