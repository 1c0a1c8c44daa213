"""What `latentatlas demo` prints after training: this run's AE-vs-VAE validity difference and where the
multi-seed verdict is (docs/studies/vae.md); tested on the printing function, not by training."""

from __future__ import annotations

import re
from pathlib import Path

from latentatlas.cli.demo import STUDY, study_path, summary_lines

AE = {"grid_validity": 0.916, "sample_validity": 0.7, "val_recon_validity": 0.95, "variational": False}
VAE = {"grid_validity": 0.898, "sample_validity": 0.8825, "val_recon_validity": 0.9, "variational": True}


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"[-+]?\d+\.\d+", text)]


def test_the_demo_states_this_runs_difference_and_points_to_the_study():
    lines = summary_lines(AE, VAE, Path("/repo/docs/studies/vae.md"))
    assert lines[0].startswith("In this run the VAE's decoded grid")
    grid = _numbers(lines[0])
    assert grid[:2] == [0.898, 0.916] and abs(grid[2] - (0.898 - 0.916)) < 5e-4  # VAE, AE, VAE - AE
    expected = [0.8825, 0.7, 0.9, 0.95]  # samples VAE vs AE, reconstructions VAE vs AE (printed to 3 decimals)
    assert all(abs(got - want) < 6e-4 for got, want in zip(_numbers(lines[1]), expected, strict=True))
    assert lines[-1].endswith("/repo/docs/studies/vae.md") and "noise" in lines[-1]


def test_without_the_study_file_it_still_names_where_the_study_is():
    lines = summary_lines(AE, VAE, None)
    assert "docs/studies/vae.md in the latentatlas repository" in lines[-1]
    assert summary_lines({}, {}, None)[0].startswith("This run measured no validity")


def test_the_study_is_found_in_the_source_tree():
    path = study_path()
    assert path is not None and path.as_posix().endswith(STUDY.as_posix()) and path.is_file()
