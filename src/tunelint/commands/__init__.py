"""Subcommands of the tunelint command line, one module each."""
