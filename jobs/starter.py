"""The annotated starter config that `crossings init` writes: a `[settings]` block made
from the declared keys and their help (so it never falls out of date), followed by the
bundled sources, rules, channels and digests of `starter.toml`."""

import dataclasses
from datetime import timedelta
from importlib import resources
from pathlib import Path

from jobs.settings import Settings
from jobs.typed import format_duration, help_of, keys_of


def settings_block() -> str:
    lines = ["[settings]"]
    for field in keys_of(Settings):
        lines.append(f"# {help_of(field)}")
        default = field.default
        if default is None:
            lines.append(f"# {field.name} = ")
        else:
            lines.append(f"{field.name} = {_toml_value(default)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, timedelta):
        return f'"{format_duration(value)}"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_text() -> str:
    body = resources.files("jobs").joinpath("starter.toml").read_text(encoding="utf-8")
    header = (
        "# crossings configuration. Every key is explained above it; `crossings check`\n"
        "# validates this file and shows what will run when. Secrets (SMTP passwords,\n"
        "# webhook secrets) are never written here: keys ending in _env name the\n"
        "# environment variable that holds them.\n\n"
    )
    return header + settings_block() + "\n" + body


def write_starter(directory: Path, *, force: bool = False) -> Path:
    """Write DIR/crossings.toml; refuse to overwrite unless forced."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "crossings.toml"
    if path.exists() and not force:
        raise FileExistsError(path)
    path.write_text(starter_text(), encoding="utf-8")
    return path


def secret_variables(item: object) -> list[str]:
    """The environment variables a configured channel (or anything) names for secrets."""
    return [
        value
        for field in dataclasses.fields(item)  # type: ignore[arg-type]
        if field.name.endswith("_env")
        and isinstance(value := getattr(item, field.name), str)
        and value
    ]
