"""The ``crm`` command. Typer commands only: parse, call one library function, render."""

from .app import app, main

__all__ = ["app", "main"]
