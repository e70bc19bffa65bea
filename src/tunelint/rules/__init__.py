"""Rules: metadata from rules/*.yaml, a declarative matcher and registered Python checks."""
