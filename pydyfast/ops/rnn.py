"""Kernel family: rnn (filled in by its kernel issue; see DESIGN.md, "The op pattern")."""

__all__ = []  # the public functions, gathered by pydyfast.functional
