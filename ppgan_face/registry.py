"""Name -> class registries, so configs can name the class to build."""
import difflib
import inspect



class Registry:
    """A mapping from a name to a registered class or function."""

    def __init__(self, name):
        self._name = name
        self._entries = {}

    def register(self, obj=None, name=None):
        """Register ``obj`` (or decorate it) under ``name`` or its ``__name__``."""

        def _add(item):
            key = name or item.__name__
            if key in self._entries:
                raise KeyError(f"{key!r} is already registered in the {self._name} registry")
            self._entries[key] = item
            return item

        return _add if obj is None else _add(obj)

    def get(self, name):
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise KeyError(f"no {self._name} named {name!r}; known: {known}") from None

    def __contains__(self, name):
        return name in self._entries

    def keys(self):
        return sorted(self._entries)


ARCH_REGISTRY = Registry("arch")
METRIC_REGISTRY = Registry("metric")
DATASET_REGISTRY = Registry("dataset")
LOSS_REGISTRY = Registry("loss")
MODEL_REGISTRY = Registry("model")


def build_from_options(registry, options, error=ValueError):
    """Build ``registry[options["type"]](**other options)``.

    Option names are checked against the class signature first, so a config typo is a one-line ``error``
    (with a suggestion) before anything heavy runs, not a TypeError deep in training.
    """
    options = dict(options)
    if "type" not in options:
        raise error(f"{registry._name} options need a 'type' (one of {', '.join(registry.keys())})")
    kind = options.pop("type")
    try:
        cls = registry.get(kind)
    except KeyError as err:
        raise error(err.args[0]) from None
    params = inspect.signature(cls).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in options:
            if key not in params:
                close = difflib.get_close_matches(key, list(params), n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(params)}"
                raise error(f"{kind} has no option {key!r}{hint}")
    missing = [name for name, p in params.items()
               if p.default is p.empty and p.kind is not p.VAR_KEYWORD and p.kind is not p.VAR_POSITIONAL
               and name not in options]
    if missing:
        raise error(f"{kind} needs option(s) {', '.join(missing)}")
    return cls(**options)
