"""``patron import campaign-contacts FILE``: who was contacted or held out in a campaign run
outside Patron, so it can be evaluated like Patron's own.

Columns (English or Chinese headers): customer id (客户编号), campaign (活动), group
(分组: treatment / control, 实验组 / 对照组), contacted at (触达时间). Every row is checked
before anything is written; a bad row is reported with its file line and nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignSource,
    CampaignStatus,
    Group,
    Target,
    TargetState,
)
from patron.customers.models import Customer

HEADERS = {
    "customer_id": ("customer_id", "customer id", "客户编号", "客户id", "会员编号"),
    "campaign": ("campaign", "活动", "活动名称"),
    "group": ("group", "分组"),
    "contacted_at": ("contacted_at", "contacted at", "触达时间"),
}
GROUPS = {
    "treatment": Group.TREATMENT,
    "实验组": Group.TREATMENT,
    "control": Group.CONTROL,
    "对照组": Group.CONTROL,
}
MAX_ERRORS = 20


@dataclass(frozen=True)
class ContactsImport:
    rows: int
    campaigns: dict[str, int]  # name -> campaign id
    added: int


def _read(path: Path) -> list[dict[str, str]]:
    import pandas as pd

    if path.suffix.lower() in (".xlsx", ".xls"):
        frame = pd.read_excel(path, dtype=str)
    else:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        frame = pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
    frame = frame.fillna("")
    return frame.to_dict("records")


def contacts_import(*, path: Path) -> ContactsImport:
    """Import the file (see the module).

    Raises
    ------
    CampaignError
        Missing columns, or rows with an unknown customer, group or time (by line).
    """
    records = _read(path)
    columns = list(records[0]) if records else []
    found: dict[str, str] = {}
    for name, names in HEADERS.items():
        for column in columns:
            if str(column).strip().lower() in names:
                found[name] = column
    missing = [name for name in HEADERS if name not in found]
    if missing:
        raise CampaignError(
            _(
                "%(file)s is missing the columns %(missing)s (expected customer_id/客户编号, "
                "campaign/活动, group/分组, contacted_at/触达时间)."
            )
            % {"file": path.name, "missing": ", ".join(missing)},
            code=CampaignErrorCode.INVALID_CAMPAIGN,
        )
    ids = {str(r[found["customer_id"]]).strip() for r in records}
    known = dict(Customer.objects.filter(external_id__in=ids).values_list("external_id", "pk"))
    errors: list[str] = []
    rows = []
    for index, record in enumerate(records):
        line = index + 2
        external_id = str(record[found["customer_id"]]).strip()
        campaign = str(record[found["campaign"]]).strip()
        group = GROUPS.get(str(record[found["group"]]).strip().lower())
        when_text = str(record[found["contacted_at"]]).strip()
        when = parse_datetime(when_text.replace("/", "-"))
        if when is None and parse_date(when_text.replace("/", "-")):
            day = parse_date(when_text.replace("/", "-"))
            when = timezone.datetime(day.year, day.month, day.day)  # type: ignore[union-attr]
        if external_id not in known:
            errors.append(
                _("line %(line)s: no customer %(id)s") % {"line": line, "id": external_id}
            )
        if not campaign:
            errors.append(_("line %(line)s: the campaign is empty") % {"line": line})
        if group is None:
            errors.append(
                _("line %(line)s: group must be treatment or control (实验组/对照组)")
                % {"line": line}
            )
        if when is None:
            errors.append(
                _("line %(line)s: contacted at %(value)s is not a date and time (2024-03-01 10:00)")
                % {"line": line, "value": when_text}
            )
        if errors:
            if len(errors) >= MAX_ERRORS:
                break
            continue
        if timezone.is_naive(when):  # type: ignore[arg-type]
            when = timezone.make_aware(when)  # type: ignore[arg-type]
        rows.append((known[external_id], campaign, group, when))
    if errors:
        raise CampaignError(
            _("Nothing was imported: %(errors)s") % {"errors": "; ".join(errors[:MAX_ERRORS])},
            code=CampaignErrorCode.INVALID_CAMPAIGN,
            extra={"errors": errors},
        )
    with transaction.atomic():
        campaigns: dict[str, int] = {}
        for name in sorted({r[1] for r in rows}):
            campaign, _created = Campaign.objects.get_or_create(
                name=name,
                source=CampaignSource.IMPORTED,
                defaults={
                    "channel": CampaignChannel.EXPORT,
                    "status": CampaignStatus.DONE,
                    "control_share": 0.0,
                },
            )
            campaigns[name] = campaign.pk
        before = Target.objects.filter(campaign_id__in=campaigns.values()).count()
        Target.objects.bulk_create(
            [
                Target(
                    campaign_id=campaigns[name],
                    customer_id=customer_id,
                    occurrence=1,
                    group=group,
                    contacted_at=when,
                    state=TargetState.SENT if group == Group.TREATMENT else TargetState.HELD_OUT,
                )
                for customer_id, name, group, when in rows
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        added = Target.objects.filter(campaign_id__in=campaigns.values()).count() - before
    return ContactsImport(rows=len(rows), campaigns=campaigns, added=added)
