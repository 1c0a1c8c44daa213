"""Findings of the shapes lab: one AE or VAE run, and the demo's AE-vs-VAE comparison (this run's validity
difference first, then a pointer to the multi-seed study)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from latentatlas.report.findings import MAX_SENTENCES, Finding, get_number

SWEEP_HINT = "latentatlas sweep configs/shapes-vae.yaml --grid model.kind=ae,vae --seeds 3"


def _f3(value: float) -> str:
    return f"{value:.3f}"


def grid_sentence(s: Mapping[str, Any]) -> Finding | None:
    """E.g. "150 of 225 decoded cells of a grid of prior quantiles are valid figures (grid validity 0.667)"."""
    gv, n = get_number(s, "grid_validity"), get_number(s, "grid_n")
    if gv is None or n is None:
        return None
    cells = int(n) ** 2
    where = {
        "prior quantiles": "a grid of prior quantiles",
        "bounding box": "a grid over the training latents' bounding box",
    }.get(s.get("grid_kind"), "the grid")
    return Finding(
        f"{round(gv * cells)} of {cells} decoded cells of {where} are valid figures (grid validity {_f3(gv)})."
    )


def samples_sentence(s: Mapping[str, Any]) -> Finding | None:
    """E.g. "Sample validity 0.880 (400 prior samples); reconstruction validity 0.960 (held-out figures)"."""
    sv, n, rv = get_number(s, "sample_validity"), get_number(s, "n_samples"), get_number(s, "val_recon_validity")
    if sv is None or rv is None:
        return None
    source = "prior samples" if s.get("variational") else "random latents in the training box"
    count = f"{int(n)} " if n is not None else ""
    return Finding(
        f"Sample validity {_f3(sv)} ({count}{source}); reconstruction validity {_f3(rv)} (held-out figures)."
    )


def morph_sentence(s: Mapping[str, Any]) -> Finding | None:
    mv, ms, mm = (get_number(s, f"morph_{k}") for k in ("validity", "smoothness", "monotonicity"))
    if mv is None or ms is None or mm is None:
        return None
    return Finding(
        f"Morphs between training cylinders are {_f3(mv)} valid, with smoothness {ms:.2f} "
        f"(1 = even steps) and monotonicity {_f3(mm)}."
    )


def holes_sentence(s: Mapping[str, Any]) -> Finding | None:
    ec, ts = get_number(s, "latent_empty_cells"), get_number(s, "latent_type_separation")
    if ec is None:
        return None
    types = f"; standing and lying figures separate with silhouette {ts:.2f}" if ts is not None else ""
    return Finding(f"{_f3(ec)} of the grid's cells hold no training latent (the seed's holes){types}.")


def units_sentence(s: Mapping[str, Any]) -> Finding | None:
    au, dim, th = get_number(s, "active_units"), get_number(s, "latent_dim"), get_number(s, "active_threshold")
    if au is None or dim is None:
        return None
    kl = get_number(s, "kl_total")
    tail = f"; total KL {kl:.2f} nats" if kl is not None else ""
    limit = f" (variance above {th:g})" if th is not None else ""
    return Finding(f"{int(au)} of {int(dim)} latent dimensions are active{limit}{tail}.")


def families_sentence(s: Mapping[str, Any]) -> Finding | None:
    fs, fmv = get_number(s, "family_separation"), get_number(s, "family_morph_validity")
    if fs is None and fmv is None:
        return None
    parts = [f"families separate with silhouette {fs:.2f}"] if fs is not None else []
    if fmv is not None:
        path = str(s.get("family_morph_path", "")).replace("->", " -> ")
        parts.append(f"the path {path} decodes {_f3(fmv)} valid frames")
    text = "; ".join(parts)
    return Finding(text[:1].upper() + text[1:] + ".")


def shapes_run_findings(summary: Mapping[str, Any]) -> list[Finding]:
    """Findings of one shapes run (summary.json): validity of grid, samples, reconstructions and morphs, holes,
    active units, families."""
    makers = (grid_sentence, samples_sentence, morph_sentence, holes_sentence, units_sentence, families_sentence)
    return [f for f in (m(summary) for m in makers) if f is not None][:MAX_SENTENCES]


def _versus(s_vae: Mapping[str, Any], s_ae: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    v, a = get_number(s_vae, key), get_number(s_ae, key)
    return None if v is None or a is None else (float(v), float(a))


def ae_vae_findings(ae: Mapping[str, Any], vae: Mapping[str, Any], study_href: str | None = None) -> list[Finding]:
    """The demo's comparison: this run's validity difference first, then samples, reconstructions, holes, morphs,
    and where mean ± std over seeds is (`study_href`, e.g. a link to docs/studies/vae.md when it exists)."""
    out = []
    grid = _versus(vae, ae, "grid_validity")
    if grid:
        out.append(
            Finding(
                f"In this run the VAE's decoded grid is {_f3(grid[0])} valid against {_f3(grid[1])} for "
                f"the AE ({grid[0] - grid[1]:+.3f})."
            )
        )
    samples, recon = _versus(vae, ae, "sample_validity"), _versus(vae, ae, "val_recon_validity")
    if samples and recon:
        out.append(
            Finding(
                f"Sample validity {_f3(samples[0])} (VAE) vs {_f3(samples[1])} (AE); reconstruction "
                f"validity {_f3(recon[0])} vs {_f3(recon[1])}."
            )
        )
    holes, morph = _versus(vae, ae, "latent_empty_cells"), _versus(vae, ae, "morph_validity")
    if holes:
        out.append(Finding(f"Empty grid cells (holes): {_f3(holes[0])} (VAE) vs {_f3(holes[1])} (AE)."))
    if morph:
        out.append(Finding(f"Morph validity: {_f3(morph[0])} (VAE) vs {_f3(morph[1])} (AE)."))
    if study_href:
        out.append(
            Finding(
                "One seed per model, so small differences can be noise; mean ± std over seeds:",
                study_href,
                "the multi-seed study",
            )
        )
    else:
        out.append(Finding(f"One seed per model, so small differences can be noise; `{SWEEP_HINT}` gives mean ± std."))
    return out[:MAX_SENTENCES]
