import pytest

from cxrviz.review.identity import MAX_NAME_LENGTH, ReviewerNameError, display_name, name_key


@pytest.mark.parametrize("typed", ["Dr Alice", "dr alice", " DR  ALICE ", "Dr\u00a0Alice", "ＤＲ ＡＬＩＣＥ"])
def test_spellings_of_one_name_share_a_key(typed):
    assert name_key(typed) == "dr alice"


def test_display_keeps_the_typed_case_but_tidies_space():
    assert display_name("  Dr   Alice ") == "Dr Alice"


def test_nfc_and_nfd_are_one_name():
    assert name_key("Jos\u00e9") == name_key("Jose\u0301")


@pytest.mark.parametrize("typed", ["", "   ", "ali\u200bce", "ali\nce", "bob\x00", "a" * (MAX_NAME_LENGTH + 1)])
def test_refused_names_say_why(typed):
    with pytest.raises(ReviewerNameError):
        display_name(typed)


def test_look_alike_letters_stay_distinct():
    """Cyrillic 'а' is not Latin 'a': refusing to merge them is safer than merging two people."""
    assert name_key("\u0430lice") != name_key("alice")
