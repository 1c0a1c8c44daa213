"""Training curves: the selecting metric with the kept epoch, losses without duplicated or empty terms, times."""

import math

import pytest

from latentatlas.report.curves import chosen_epoch, loss_series, plot_epoch_times, plot_losses, plot_selection


def metric_rows(koleo: bool, epochs: int = 4):
    rows = []
    for e in range(1, epochs + 1):
        triplet = 0.3 / e
        row = {
            "epoch": e,
            "train_triplet": triplet,
            "train_active_fraction": 0.5,
            "val_loss": 0.25 / e,
            "val_pair_auc": 0.8 + 0.01 * e,
            "epoch_time_s": 10.0 + e,
            "elapsed_s": 11.0 * e,
            "lr": 1e-3,
        }
        if koleo:
            row["train_koleo"] = 2.0 - 0.1 * e
        row["train_loss"] = triplet + (0.1 * row["train_koleo"] if koleo else 0.0)
        rows.append(row)
    return rows


def shapes_rows(variational: bool):
    rows = []
    for e in range(1, 4):
        recon, kl = 500.0 / e, (8.0 + e if variational else 0.0)
        rows.append(
            {
                "epoch": e,
                "train_loss": recon + kl,
                "train_recon": recon,
                "train_kl": kl,
                "val_loss": recon + kl + 1,
                "val_recon": recon + 1,
                "val_kl": kl,
                "epoch_time_s": 2.0,
            }
        )
    return rows


def test_a_term_equal_to_its_total_is_not_drawn_twice(tmp_path):
    curves = plot_losses(metric_rows(koleo=False), tmp_path / "losses.png")
    assert curves.series == ["train_loss", "val_loss"]  # KoLeo off: the triplet loss is the total
    assert curves.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_terms_that_differ_from_the_total_are_drawn(tmp_path):
    assert plot_losses(metric_rows(koleo=True), tmp_path / "l.png").series == [
        "train_loss",
        "val_loss",
        "train_triplet",
        "train_koleo",
    ]
    vae = plot_losses(shapes_rows(variational=True), tmp_path / "vae.png")
    assert vae.series == ["train_loss", "val_loss", "train_recon", "val_recon", "train_kl", "val_kl"]


def test_an_ae_draws_neither_its_zero_kl_nor_its_reconstruction_equal_to_the_loss():
    rows = shapes_rows(variational=False)
    for r in rows:
        r["val_loss"] = r["val_recon"]
    assert loss_series(rows) == (["train_loss", "val_loss"], [])


def test_the_kept_epoch_is_the_first_best_as_the_training_loop_keeps_it(tmp_path):
    rows = [
        {"epoch": 1, "val_pair_auc": 0.8},
        {"epoch": 2, "val_pair_auc": 0.9},
        {"epoch": 3, "val_pair_auc": 0.9},
        {"epoch": 4, "val_pair_auc": math.nan},
        {"epoch": 5, "val_pair_auc": 0.85},
    ]
    assert chosen_epoch(rows, "val_pair_auc", "max") == (2, 0.9)
    assert chosen_epoch(rows, "val_pair_auc", "min") == (1, 0.8)
    curves = plot_selection(rows, "val_pair_auc", "max", tmp_path / "sel.png")
    assert curves.marked == (2, 0.9) and curves.series == ["val_pair_auc"] and curves.path.is_file()
    assert plot_selection(rows, "val_loss", "min", tmp_path / "none.png") == type(curves)(None)


def test_time_per_epoch(tmp_path):
    curves = plot_epoch_times(metric_rows(koleo=False), tmp_path / "t.png")
    assert curves.series == ["epoch_time_s"] and curves.path.is_file()
    assert plot_epoch_times([{"epoch": 1}], tmp_path / "none.png").path is None


@pytest.mark.parametrize("rows", [[], [{"epoch": 1, "lr": 0.1}]])
def test_nothing_to_draw(tmp_path, rows):
    assert plot_losses(rows, tmp_path / "x.png").path is None
    assert not (tmp_path / "x.png").exists()
