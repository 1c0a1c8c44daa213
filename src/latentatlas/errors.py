"""User-facing errors: the CLI prints them as one line and exits with code 2."""


class LatentAtlasError(Exception):
    """A problem with the user's input (file, config, arguments), not a bug.

    The message names the problem and how to fix it, in one line.
    """


class ConfigError(LatentAtlasError):
    """A config key is unknown or its value is not allowed."""


class DataError(LatentAtlasError):
    """An input file or dataset cannot be used as given."""
