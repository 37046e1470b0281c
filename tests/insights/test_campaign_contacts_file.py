"""The contacts file of `patron campaigns evaluate`: one row per customer in a campaign."""

from __future__ import annotations

from pathlib import Path

import pytest

from patron.insights.campaign_files import ContactsFileError, read_contacts_file


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_customer_twice_in_one_campaign_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "customer_id,group,contacted_at\nA1,treatment,2024-06-01\nB2,control,\n"
        "A1,control,2024-06-02\n",
    )
    with pytest.raises(ContactsFileError, match="customer A1 appears 2 times"):
        read_contacts_file(path)


def test_a_customer_in_two_campaigns_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "campaign,customer_id,group,contacted_at\nspring,A1,treatment,2024-06-01\n"
        "summer,A1,control,2024-07-01\nsummer,B2,treatment,2024-07-01\n",
    )
    contacts = read_contacts_file(path)
    assert contacts.table.num_rows == 3
    assert contacts.campaigns == ["spring", "summer"]
