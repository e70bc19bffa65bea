import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Hypothesis profiles: "ci" (bounded, derandomized) unless HYPOTHESIS_PROFILE says otherwise.
import hypothesis_profiles  # noqa: F401
