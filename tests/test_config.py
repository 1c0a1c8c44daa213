import pytest
import yaml

from latentatlas.config import Config, config_from_dict, load_config, parse_override, save_config
from latentatlas.configs import CONFIG_DIR, builtin_configs
from latentatlas.errors import ConfigError


def test_defaults_and_overrides_are_typed():
    config = config_from_dict({}, ["train.epochs=7", "model.latent_dim=3", "loss.beta=0.5", "model.widths=[8, 16]"])
    assert config.train.epochs == 7 and isinstance(config.train.epochs, int)
    assert config.model.latent_dim == 3
    assert config.loss.beta == 0.5 and isinstance(config.loss.beta, float)
    assert config.model.widths == [8, 16]
    assert config.data.shapes.family == ["cylinder"]


def test_int_given_for_float_is_converted():
    assert config_from_dict({"train": {"lr": 1}}).train.lr == 1.0


def test_yaml_file_holds_only_overrides(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("model:\n  kind: ae\ntrain:\n  epochs: 3\n")
    config = load_config(path, ["train.batch_size=16"])
    assert config.name == "exp"  # named after the file unless it says otherwise
    assert (config.model.kind, config.train.epochs, config.train.batch_size) == ("ae", 3, 16)
    assert config.train.lr == Config().train.lr


def test_saved_config_reloads_identically(tmp_path):
    config = config_from_dict({}, ["data.shapes.family=[cylinder, cone]", "train.grad_clip=1.5"])
    save_config(config, tmp_path / "config.yaml")
    again = config_from_dict(yaml.safe_load((tmp_path / "config.yaml").read_text()))
    assert again == config


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.epochz=3", r"unknown key 'train.epochz'.*epochs"),
        ("nope=1", r"unknown key 'nope'"),
        ("train.epochs.x=1", r"has no sub-keys"),
        ("model.kind=vaee", r"model.kind: 'vaee' is not allowed; use one of ae, vae"),
        ("train.epochs=many", r"train.epochs: expected an integer"),
        ("train.epochs=0", r"train.epochs: must be >= 1"),
        ("model.latent_dim=0", r"model.latent_dim: must be >= 1"),
        ("data.shapes.family=[cilinder]", r"data.shapes.family: 'cilinder' is not one of"),
        ("data.shapes.radius=[-2, 5]", r"data.shapes.radius"),
        ("loss.beta=-1", r"loss.beta: must be >= 0"),
        ("train.progress=maybe", r"train.progress: expected true or false"),
        ("epochs", r"not key=value"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({}, [override])


def test_unknown_key_in_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epoch: 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'train.epoch'"):
        load_config(path)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")


def test_parse_override_reads_yaml_values():
    assert parse_override("train.grad_clip=null") == ("train.grad_clip", None)
    assert parse_override("train.progress=false") == ("train.progress", False)


@pytest.mark.parametrize("name", builtin_configs())
def test_builtin_configs_load(name):
    config = load_config(CONFIG_DIR / f"{name}.yaml")
    assert config.name == name


def test_scientific_notation_without_dot_is_a_number():
    assert config_from_dict({}, ["train.lr=1e-3"]).train.lr == 1e-3
    assert parse_override("name=abc") == ("name", "abc")
