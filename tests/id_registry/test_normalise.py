"""The normalised form that duplicate detection and demographic matching compare."""

from hypothesis import given, settings
from hypothesis import strategies as st

from services.id_registry.identities.attributes import normalise

ACCENT = "\u0301"  # combining acute: stripped by the general path, never plain ASCII


def test_case_accents_hyphens_and_spacing_do_not_matter() -> None:
    assert normalise("  Léa   MOREAU-Diallo ") == "lea moreau diallo"
    assert normalise("Zoë Núñez") == normalise("zoe nunez") == "zoe nunez"


@settings(deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_plain_ascii_takes_the_short_path_to_the_same_form(text: str) -> None:
    # The trailing accent sends the same text through the general (Unicode) path.
    assert normalise(text) == normalise(text + ACCENT)
