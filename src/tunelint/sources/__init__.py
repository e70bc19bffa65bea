"""Sources: one module per file kind, each turning text into FileFacts. None knows a rule."""
