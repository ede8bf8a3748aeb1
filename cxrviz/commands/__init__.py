"""`python -m cxrviz COMMAND`: one module per command, each with `NAME`, `HELP`,
`add_arguments(parser, settings)` and `run(args, settings) -> int`.

A new command is a new module here plus one line in `COMMANDS`. Commands are thin: they parse,
call a `cxrviz` function, and print what they did (where files went included).

`COMMANDS` names the modules without importing them: the CLI imports only the module of the
command being run, so `import` or `export` never load torch and the model stack (a 3-row import
took 9 s and 1.3 GB when every command's options were built up front). Each one-line help is
repeated here for `--help`; `tests/test_cli.py` checks it against the module's own `HELP`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# command name -> (module in this package, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "train an EfficientNet-Lite0 on local images"),
    "ensemble": ("ensemble", "pack models trained on every image into the bundled ensemble, measured on cross-validated runs"),
    "publish": ("publish", "install a trained checkpoint as the bundled model, with its model card"),
    "evaluate": ("evaluate", "per-finding AUROC with bootstrap intervals (and the metadata-only baseline, calibration, --report)"),
    "predict": ("predict", "batch predictions for a whole folder or a PACS query (resumable)"),
    "localize": ("localize", "localisation accuracy at IoBB thresholds (Wang et al. 2017, table 3)"),
    "export": ("export", "export reviews to CSV"),
    "import": ("imports", "import a corrections CSV into the store"),
    "weights": ("weights", "list torchxrayvision weight files, or download one (weights fetch NAME)"),
    "audit": ("audit", "rank likely wrong labels with cleanlab on out-of-fold predictions"),
}


def load(name: str) -> ModuleType:
    """The module of command `name` (imported now, with whatever it needs)."""
    return importlib.import_module(f"cxrviz.commands.{COMMANDS[name][0]}")
