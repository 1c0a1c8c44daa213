"""Built-in experiment configs (YAML files of overrides); the repository's `configs/` links here."""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent


def builtin_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def resolve_config_path(name: str) -> Path:
    """A path as given, or the built-in config of that name (`shapes-vae` or `shapes-vae.yaml`)."""
    path = Path(name)
    if path.exists():
        return path
    builtin = CONFIG_DIR / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    return builtin if builtin.exists() and path.parent in (Path("."), Path("configs")) else path
