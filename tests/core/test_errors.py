"""segur's typed errors survive pickling whole: an error made in a worker process (the
INSi batch's, :mod:`segur_ins.workers`) reaches the caller with its class, message,
hint and every structured attribute."""

from __future__ import annotations

import importlib
import inspect
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.errors import SegurError

#: Modules whose errors may cross a process boundary.
MODULES = ["segur_core.errors", "segur_ins.insi.errors", "segur_ins.workers"]


def _error_classes() -> list[type[SegurError]]:
    classes = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a plugin not installed
            continue
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass)
                    if issubclass(c, SegurError) and c.__module__ == module.__name__]  # fmt: skip
    return classes


def _make(cls: type[SegurError], message: str, extra: str) -> SegurError:
    """An instance with every keyword-only argument its constructor has set."""
    parameters = inspect.signature(cls).parameters
    kwargs = {}
    for name, parameter in parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        if name == "transient":
            kwargs[name] = True
        elif parameter.annotation in ("bool", "bool | None"):
            kwargs[name] = False
        elif "list" in str(parameter.annotation) or "tuple" in str(parameter.annotation):
            continue
        else:
            kwargs[name] = extra
    try:
        return cls(message, **kwargs)
    except TypeError:  # an argument of another type: the required ones only
        required = {k: v for k, v in kwargs.items()
                    if parameters[k].default is inspect.Parameter.empty}  # fmt: skip
        return cls(message, **required)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: f"{c.__module__}.{c.__name__}")
@given(message=st.text(max_size=60), extra=st.text(min_size=1, max_size=20))
def test_an_error_survives_pickling(cls, message, extra):
    error = _make(cls, message, extra)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error) and copy.args == error.args
    assert vars(copy) == vars(error)


def test_every_error_module_was_checked():
    assert {c.__module__ for c in _error_classes()} >= {"segur_core.errors"}
