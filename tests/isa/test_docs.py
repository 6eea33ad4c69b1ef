"""The committed ISA reference page is generated from the spec and must not go stale."""

from pathlib import Path

from accel.isa import INSTRUCTIONS, ISA_VERSION, ErrorCause, render_markdown
from accel.isa.spec import ALWAYS_EXECUTED

DOC = Path(__file__).resolve().parents[2] / "docs" / "isa.md"
REGENERATE = ("python -c \"from accel.isa import render_markdown; "
              "print(render_markdown(), end='')\" > docs/isa.md")


def test_docs_up_to_date():
    assert DOC.exists(), f"{DOC} is missing; generate it with: {REGENERATE}"
    assert DOC.read_text() == render_markdown(), \
        f"docs/isa.md is stale; regenerate it with: {REGENERATE}"


def test_docs_content():
    text = render_markdown()
    assert text == render_markdown()
    assert f"ISA version {ISA_VERSION}" in text
    for ins in INSTRUCTIONS:
        assert f"### `{ins.name}`" in text
        assert f"| `{ins.name}` | `{ins.funct7:#04x}` | `{ins.funct3}` |" in text
        assert ins.semantics in text
        for f in ins.fields:
            assert f"| `{f.name}` | `{f.reg}" in text
    for cause in ErrorCause:
        assert f"`{cause.name}`" in text
    for name in ALWAYS_EXECUTED:
        assert f"`{name}`" in text


def test_semantics_agree_on_always_executed():
    """clear_error's semantics text lists exactly the instructions that run while in error."""
    text = next(i for i in INSTRUCTIONS if i.name == "clear_error").semantics
    listed = text.split("other than ", 1)[1].split(" is discarded", 1)[0]
    names = {n.strip() for n in listed.replace(" and ", ", ").split(",")}
    assert names == set(ALWAYS_EXECUTED)
