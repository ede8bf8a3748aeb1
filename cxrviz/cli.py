"""Command-line entry point: `python -m cxrviz COMMAND --help` for each command's options.

Settings are read from the environment once (the same `CXRVIZ_*` variables the app reads) and
passed to every command; command-line options override them.
"""

from __future__ import annotations

import argparse
import logging
import sys

from cxrviz import priority
from cxrviz.config import Settings
from cxrviz.errors import CxrvizError
from cxrviz.logs import configure_logging

log = logging.getLogger(__name__)

# Commands that run for minutes to hours over many images: they lower their own CPU priority
# (`--nice`, `cxrviz/priority.py`) so readers using the app on the same machine keep their speed.
BATCH_COMMANDS = frozenset({"train", "ensemble", "evaluate", "predict", "localize", "audit"})


def build_parser(settings: Settings, argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command's name and help, with the options of the command `argv` names
    (the first word that is a command); only that command's module is imported."""
    from cxrviz.commands import COMMANDS, load

    chosen = next((word for word in (sys.argv[1:] if argv is None else argv) if word in COMMANDS), None)
    parser = argparse.ArgumentParser(prog="python -m cxrviz", description="cxrviz: review, explain and correct NIH ChestX-ray14 labels.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        if name != chosen:
            sub.add_parser(name, help=help_text)
            continue
        command = load(name)
        command_parser = sub.add_parser(name, help=help_text, description=command.__doc__)
        command.add_arguments(command_parser, settings)
        if name in BATCH_COMMANDS:
            command_parser.add_argument(
                "--nice", type=int, default=priority.BATCH_NICE, metavar="N",
                help=f"run at a lower CPU priority, N niceness steps down (default {priority.BATCH_NICE}; 0: the normal priority), "
                     "so that people using the app on this machine are served first; it still uses every idle core")
        command_parser.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    try:
        settings = Settings.from_env()
    except CxrvizError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args = build_parser(settings, argv).parse_args(argv)
    if getattr(args, "nice", 0) > 0:
        now = priority.lower(args.nice)
        if now is not None:
            log.info("%s runs at a lower CPU priority (niceness %d; --nice 0 keeps the normal one)", args.command, now)
    try:
        return args.run(args, settings)
    except CxrvizError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
