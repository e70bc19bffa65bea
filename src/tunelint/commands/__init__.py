"""One module per subcommand, each with ``add_parser(subparsers)`` and a ``run(args)``.

The exit codes live here, below both the command line and the commands that return them.
"""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_NOTHING = 3
