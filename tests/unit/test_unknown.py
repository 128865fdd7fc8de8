"""The names tests use as unknown stay unknown whatever the spec holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from template_gen.spec import SPEC
from tests.unknown import unknown


def test_a_free_stem_is_used_as_it_is() -> None:
    assert unknown(["users", "items"], "reports") == "reports"


def test_a_taken_stem_gets_the_first_free_number() -> None:
    assert unknown(["reports", "reports2"], "reports") == "reports3"


@given(st.sets(st.sampled_from(["orders", *(f"orders{n}" for n in range(2, 9))])))
def test_the_name_is_never_one_of_the_taken(taken: set[str]) -> None:
    assert unknown(taken, "orders") not in taken


def test_the_spec_after_adding_the_documented_function_keeps_it_unknown() -> None:
    """The documented example adds `orders`; the name a test refuses is not it."""
    functions = [f.name for f in SPEC.functions]
    assert unknown([*functions, "orders"], "orders") not in [*functions, "orders"]
