"""The command line's argparse building blocks, shared by ``fsvid2vid.cli`` and the command modules of the packages
(``bench.command``, ``eval.command``): a parser with one-line errors, options whose default is read from the signature
of the function they feed (one source of each default), and integer types with clear errors. argparse only: building
the parser imports nothing heavy.
"""

from __future__ import annotations

import argparse


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def default_from(parser: argparse.ArgumentParser, action: argparse.Action, function: str,
                  parameter: str | None = None) -> None:
    """Let ``action`` take its default from the signature of ``function`` ("module:name"), the one source of that
    default: it is read when the command runs (or --help shows it), so building the parser imports nothing heavy."""
    action.default = None
    action.default_source = (function, parameter or action.dest)  # type: ignore[attr-defined]
    sourced = parser.get_default("_sourced") or []
    parser.set_defaults(_sourced=[*sourced, (action.dest, action.default_source)])  # type: ignore[attr-defined]


def signature_default(function: str, parameter: str):
    import importlib
    import inspect

    module, _, name = function.partition(":")
    return inspect.signature(getattr(importlib.import_module(module), name)).parameters[parameter].default


def fill_defaults(args: argparse.Namespace) -> None:
    """Options left unset take their function's default (see :func:`default_from`)."""
    for dest, source in getattr(args, "_sourced", None) or []:
        if getattr(args, dest) is None:
            default = signature_default(*source)
            setattr(args, dest, list(default) if isinstance(default, tuple) else default)


class HelpFormatter(argparse.HelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        source = getattr(action, "default_source", None)
        if source is not None:
            default = signature_default(*source)
            shown = " ".join(map(str, default)) if isinstance(default, tuple | list) else default
            text = f"{text} (default {shown})".strip()
        return text


PRECISION_HELP = "auto (bf16 where the hardware runs it natively, else fp32), fp32 or bf16"


def int_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    value = int_arg(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer (>= 1)")
    return value


def add_model_run_options(parser: argparse.ArgumentParser, function: str, replaced: str) -> None:
    """``--device`` and ``--precision`` (defaults from ``function``, "module:name"), ``--overwrite`` (help: replace
    ``replaced``) and ``--quiet``: the options of every command that runs a generator."""
    default_from(parser, parser.add_argument("--device", help="cpu, cuda, cuda:1"), function)
    default_from(parser, parser.add_argument("--precision", help=PRECISION_HELP), function)
    parser.add_argument("--overwrite", action="store_true", help=f"replace {replaced}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_generator_set_option(parser: argparse.ArgumentParser, use: str) -> None:
    """``--set model.generator.KEY=VALUE`` (repeatable, dest ``overrides``): change a generator setting of the file for
    this command (``use`` says for what); read with :func:`generator_overrides`."""
    parser.add_argument("--set", action="append", default=[], metavar="model.generator.KEY=VALUE", dest="overrides",
                        help=f"change a generator setting of the file for {use}, e.g. "
                             "model.generator.example_mix=share (repeatable; docs/inference.md)")


def generator_overrides(texts: list[str]) -> dict:
    """The generator fields of ``--set model.generator.KEY=VALUE`` options, values read as YAML; a one-line UserError
    for any other form."""
    import yaml

    from fsvid2vid.errors import UserError

    overrides = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key.startswith("model.generator.") or key.count(".") != 2:
            raise UserError(f"--set {text!r}: expected model.generator.KEY=VALUE, e.g. "
                            "model.generator.example_mix=share")
        try:
            overrides[key.rsplit(".", 1)[1]] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"--set {text!r}: the value is not valid YAML") from None
    return overrides
