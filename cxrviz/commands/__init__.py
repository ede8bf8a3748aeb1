"""`python -m cxrviz COMMAND`: one module per command, each with `NAME`, `HELP`,
`add_arguments(parser, settings)` and `run(args, settings) -> int`.

A new command is a new module here plus one line in `COMMANDS`. Commands are thin: they parse,
call a `cxrviz` function, and print what they did (where files went included).
"""

from cxrviz.commands import audit, ensemble, evaluate, export, imports, localize, predict, publish, train, weights

COMMANDS = [train, ensemble, publish, evaluate, predict, localize, export, imports, weights, audit]
