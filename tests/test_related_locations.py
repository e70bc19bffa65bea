"""A value passed through a variable: the finding at the use names, as a related location,
where the value was written (what a reviewer changes)."""

from __future__ import annotations

from pathlib import Path

from tunelint.api import Options, lint

CODE = """\
from transformers import AutoModelForCausalLM, AutoTokenizer

checkpoint = "/tmp/runs/epoch_9"
tokenizer = AutoTokenizer.from_pretrained(checkpoint)
model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True)
"""


def test_a_declarative_finding_names_where_its_value_was_written(tmp_path: Path) -> None:
    (tmp_path / "reload.py").write_text(CODE)
    report = lint(["reload.py"], Options(cwd=tmp_path, use_cache=False, jobs=1))
    shared = [f for f in report.findings if f.rule_id == "TL202"]
    assert [f.span.line for f in shared] == [4, 5]
    for finding in shared:
        assert [(r.span.line, r.message) for r in finding.related] == [
            (3, "`checkpoint` is set to `/tmp/runs/epoch_9` here")
        ]
    (remote,) = [f for f in report.findings if f.rule_id == "TL401"]
    assert remote.related == ()  # a literal written at the call: nothing to point at


def test_a_place_is_related_once_when_several_loads_share_it() -> None:
    """Two lazy loads of one repository, both written from one variable: the finding names
    the other load and the variable, the variable once."""
    fixtures = Path(__file__).parent / "fixtures" / "rules"
    options = Options(
        policy_path=fixtures / "tunelint.yaml",
        select=["TL402"],
        cwd=fixtures / "TL402",
        use_cache=False,
        jobs=1,
    )
    report = lint(["mmengine_risky.py"], options)
    (model,) = [f for f in report.active if "internlm2-chat-7b" in f.message]
    places = [(r.span.line, r.message) for r in model.related]
    assert len(places) == len(set(places))
    assert [line for line, _ in places].count(9) == 1
