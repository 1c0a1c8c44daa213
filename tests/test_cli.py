"""The command line: every command has --help, bad input is one line on stderr with exit code 2, nothing is lost."""

import pytest
from safetensors.torch import save_file

from latentatlas.cli.main import build_parser, main

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


def test_all_commands_are_registered():
    assert {"train", "demo", "compare", "shapes", "analyze", "embed", "data", "sweep"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: latentatlas " + command) and len(out.splitlines()) > 3


def _one_line_error(capsys, code, *needles):
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    "override, needle",
    [
        ("data.shapes.family=[cilinder]", "data.shapes.family: 'cilinder' is not one of"),
        ("data.shapes.radius=[0, 5]", "data.shapes.radius"),
        ("data.shapes.height=[-3, 5]", "data.shapes.height"),
        ("model.latent_dim=0", "model.latent_dim: must be >= 1"),
        ("train.epochs=0", "train.epochs: must be >= 1"),
        ("train.epoch=3", "unknown key 'train.epoch'"),
    ],
)
def test_train_bad_config_values(override, needle, capsys, tmp_path):
    code = main(["train", "configs/shapes-vae.yaml", override, "--runs-root", str(tmp_path)])
    _one_line_error(capsys, code, needle)
    assert not any(tmp_path.iterdir())  # nothing created


def test_train_missing_config_file(capsys, tmp_path):
    _one_line_error(capsys, main(["train", str(tmp_path / "nope.yaml")]), "not found")


def test_train_into_existing_run_dir_is_refused(capsys, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.jsonl").write_text("precious\n")
    code = main(["train", "configs/shapes-ae.yaml", "--run-dir", str(tmp_path / "run")])
    _one_line_error(capsys, code, "already exists")
    assert (tmp_path / "run" / "metrics.jsonl").read_text() == "precious\n"


def test_resume_with_foreign_or_unreadable_checkpoint(capsys, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    save_file({"w": __import__("torch").zeros(1)}, str(run / "checkpoints" / "last.safetensors"))
    _one_line_error(capsys, main(["train", "--resume", str(run)]), "not written by latentatlas")
    (run / "checkpoints" / "last.safetensors").write_bytes(b"garbage")
    _one_line_error(capsys, main(["train", "--resume", str(run)]), "not a readable safetensors file")


def test_resume_refuses_a_config(capsys, tmp_path):
    code = main(["train", "configs/shapes-ae.yaml", "--resume", str(tmp_path)])
    _one_line_error(capsys, code, "drop the config")


def test_unknown_command_and_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["trian"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["train", "--nope"])
    assert exc.value.code == 2


def test_output_into_a_closed_pipe_is_not_a_traceback(tmp_path):
    import subprocess
    import sys

    grid = "loss.beta=" + ",".join(map(str, range(1, 400)))  # about 30 kB of plan: more than one stdout buffer
    cmd = [sys.executable, "-m", "latentatlas", "sweep", "shapes-vae", "--grid", grid, "--dry-run", "--out", "s"]
    with subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and not (tmp_path / "s").exists()
