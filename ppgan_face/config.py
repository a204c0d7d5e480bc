"""YAML configs shared by every tool: ``-c FILE`` (a path or a name under ``configs/``) and ``-o key=value``.

A config may start from another with ``_base_: relative/path.yml`` (or a list of them, merged in order); the
child's keys override the base's, dicts merging recursively. ``-o`` overrides must name keys that exist (a typo is an error, with a
suggestion); ``-o +new.key=value`` adds a key deliberately.
"""
import copy
import difflib
import re
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says which and why."""


def config_names():
    """Names of the configs shipped in ``configs/`` (``gfpgan_v1.4``, ``retinaface_resnet50``, ...)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yml"))


def resolve_config(name_or_path):
    """Return the path of a config given as a file path or as a name of ``configs/``."""
    path = Path(name_or_path)
    if path.suffix in (".yml", ".yaml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"{name_or_path}: config file not found")
        return path
    path = CONFIG_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        close = difflib.get_close_matches(str(name_or_path), config_names(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(config_names())}"
        raise ConfigError(f"{name_or_path}: no such config{hint}")
    return path


def _merge(base, child):
    out = copy.deepcopy(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read(path, chain=()):
    if path in chain:
        raise ConfigError(f"{path}: _base_ includes itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys to values")
    bases = data.pop("_base_", None)
    merged = {}
    for base in [bases] if isinstance(bases, str) else bases or []:
        merged = _merge(merged, _read((path.parent / base).resolve(), chain + (path,)))
    return _merge(merged, data)


_OVERRIDE = re.compile(r"^\+?[A-Za-z_][\w.]*=")


def split_o_values(values):
    """(folders, overrides) of the values of a tool's ``-o``, which is both GFPGAN's output folder and this
    project's ``KEY=VALUE`` override: a dotted key before ``=`` makes an override."""
    return [v for v in values if not _OVERRIDE.match(v)], [v for v in values if _OVERRIDE.match(v)]


def parse_override(text):
    """Split ``a.b=value`` into (["a", "b"], parsed value, adds_new_key)."""
    if "=" not in text:
        raise ConfigError(f"-o {text}: expected key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    adds = key.startswith("+")
    key = key.lstrip("+")
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"-o {text}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value, adds


def _flat_keys(node, prefix=""):
    if not isinstance(node, dict):
        return [prefix[:-1]]
    keys = [prefix[:-1]] if prefix else []
    for key, value in node.items():
        keys += _flat_keys(value, f"{prefix}{key}.")
    return keys


def apply_overrides(config, overrides):
    """Apply ``key=value`` overrides in place and return the config."""
    for text in overrides or ():
        parts, value, adds = parse_override(text)
        node = config
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if not isinstance(node, dict):
                raise ConfigError(f"-o {text}: {'.'.join(parts[:depth])} is not a mapping")
            if part not in node and not adds:
                dotted = ".".join(parts)
                close = difflib.get_close_matches(dotted, _flat_keys(config), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else " (prefix the key with + to add it)"
                raise ConfigError(f"-o {text}: the config has no key {dotted}{hint}")
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return config


def load_config(name_or_path, overrides=()):
    """Read a config (resolving ``_base_``), apply ``-o`` overrides, and record its name and path."""
    path = resolve_config(name_or_path)
    config = apply_overrides(_read(path.resolve()), overrides)
    config.setdefault("name", path.stem)
    config["config_path"] = str(path)
    return config
