"""The STATUS handler's table of item values covers exactly the items it accepts."""

from imapcore.commands.mailboxes import _STATUS_VALUES, STATUS_ITEMS


def test_every_status_item_has_a_value_and_nothing_else_does():
    assert set(_STATUS_VALUES) == set(STATUS_ITEMS)
