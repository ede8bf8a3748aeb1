"""Reader settings in the store, on SQLite and PostgreSQL: kept per reader (by name key), replaced
in place, and there for the reader's next session (a new Store on the same database)."""

import pytest

from cxrviz.review.identity import ReviewerNameError
from cxrviz.review.store import Store
from cxrviz.review.store.settings import get_settings, set_setting


def test_settings_are_kept_per_reader_and_replaced_in_place(target):
    store = Store(target)
    assert get_settings(store, "Dr Ann") == {}
    set_setting(store, "Dr Ann", "overlay.nih_boxes", False, at="t0")
    set_setting(store, "Dr Ann", "view.canvas_width", 720)
    set_setting(store, "bob", "overlay.nih_boxes", True)
    set_setting(store, " dr  ann", "overlay.nih_boxes", True)  # the same reader by name key: replaced, not added
    set_setting(store, "dr ann", "overlay.nih_boxes", False)
    later = Store(target)  # the next session
    assert get_settings(later, "DR ANN") == {"overlay.nih_boxes": False, "view.canvas_width": 720}
    assert get_settings(later, "bob") == {"overlay.nih_boxes": True}


def test_a_name_the_store_refuses_is_refused_here_too(target):
    with pytest.raises(ReviewerNameError):
        set_setting(Store(target), "   ", "overlay.heatmap", False)
