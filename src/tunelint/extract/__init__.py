"""The per-file stage: which files to parse (prefilter), cached facts, parsing in parallel."""
