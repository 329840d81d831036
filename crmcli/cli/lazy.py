"""Command modules imported on first need, so `crm stale` pays only for the stale command.

The root app knows its commands from a table (name -> module, see ``app.COMMANDS``). When the
command tree is asked for as a whole (``crm --help``, shell completion, tests that build the
Click group) every module is imported and registered, in table order. ``crm NAME …`` imports
only the module(s) NAME needs.
"""


import importlib
from collections.abc import Iterable, Mapping
from typing import Any

import typer

PACKAGE = __package__ or "crmcli.cli"


class LazyTyper(typer.Typer):
    """A Typer app whose commands are registered from a table of modules, on first need.

    Until :meth:`defer` is called it behaves like a plain Typer app (decorators in the module that
    builds it register as usual). After it, reading ``registered_commands`` or
    ``registered_groups`` (which Typer does when it builds the Click group) imports and registers
    every module of the table first — unless :meth:`load` has already picked some.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before Typer's __init__, which assigns the two lists through the setters below.
        self._table: dict[str, str] = {}
        self._pending = False
        self._done: set[str] = set()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def registered_commands(self) -> list[Any]:
        if self._pending:
            self.load()
        return self._commands

    @registered_commands.setter
    def registered_commands(self, value: list[Any]) -> None:
        self._commands = value

    @property  # type: ignore[override]
    def registered_groups(self) -> list[Any]:
        if self._pending:
            self.load()
        return self._groups

    @registered_groups.setter
    def registered_groups(self, value: list[Any]) -> None:
        self._groups = value

    def defer(self, table: Mapping[str, str]) -> None:
        """From now on, commands come from ``table``: command name -> ``module`` (whose
        ``register(app)`` adds it) or ``module:attribute`` (a Typer sub-app added under the name);
        several space-separated modules when one needs another registered first."""
        self._table = dict(table)
        self._pending = True

    def knows(self, name: str) -> bool:
        return name in self._table

    def load(self, names: Iterable[str] | None = None) -> None:
        """Import and register the modules of ``names`` (every command when None). Afterwards
        the app no longer loads anything by itself."""
        self._pending = False
        wanted = list(self._table) if names is None else [n for n in names if n in self._table]
        for name in wanted:
            for spec in self._table[name].split():
                module_name, _, attribute = spec.partition(":")
                key = f"{module_name}:{attribute}:{name}" if attribute else module_name
                if key in self._done:
                    continue
                self._done.add(key)
                module = importlib.import_module(f"{PACKAGE}.{module_name}")
                if attribute:
                    self.add_typer(getattr(module, attribute), name=name)
                else:
                    module.register(self)
