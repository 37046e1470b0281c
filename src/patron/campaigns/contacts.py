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

MAX_ERRORS = 20


@dataclass(frozen=True)
class ContactsImport:
    rows: int
    campaigns: dict[str, int]  # name -> campaign id
    added: int


def contacts_import(*, path: Path) -> ContactsImport:
    """Import the file (see the module). It is read and checked by the same reader as
    ``patron campaigns evaluate`` (:func:`patron.insights.campaign_files.read_contacts_file`:
    any encoding, CSV or Excel, errors by file line); here every row also needs a campaign and
    a known customer. A control row without a time takes its campaign's first contact time.

    Raises
    ------
    PatronError
        Missing columns, or rows with an unknown customer, group or time (by line).
    """
    from patron.insights.campaign_files import read_contacts_file

    found = read_contacts_file(
        path,
        tz=str(timezone.get_default_timezone()),
        required=("customer_id", "campaign", "group", "contacted_at"),
    )
    table = found.table
    ids = set(table["customer_id"].to_pylist())
    known = dict(Customer.objects.filter(external_id__in=ids).values_list("external_id", "pk"))
    errors: list[str] = []
    for row in table.select(["line", "customer_id", "campaign"]).to_pylist():
        if row["customer_id"] not in known:
            errors.append(
                _("line %(line)s: no customer %(id)s")
                % {"line": row["line"], "id": row["customer_id"]}
            )
        if not row["campaign"]:
            errors.append(_("line %(line)s: the campaign is empty") % {"line": row["line"]})
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise CampaignError(
            _("Nothing was imported: %(errors)s") % {"errors": "; ".join(errors)},
            code=CampaignErrorCode.INVALID_CAMPAIGN,
            extra={"errors": errors},
        )
    first = {
        g["campaign"]: g["contacted_at_min"]
        for g in table.group_by("campaign").aggregate([("contacted_at", "min")]).to_pylist()
    }
    rows = [
        (
            known[r["customer_id"]],
            r["campaign"],
            Group.TREATMENT if r["treated"] else Group.CONTROL,
            r["contacted_at"] or first[r["campaign"]],
        )
        for r in table.select(["customer_id", "campaign", "treated", "contacted_at"]).to_pylist()
    ]
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
