from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    """The member-facing side: sign-in codes, member sessions and tokens, the portal at
    /member/, the member API under /api/v1/member and member notifications."""

    name = "patron.members"
    label = "members"
    verbose_name = _("Member self-service")

    def ready(self) -> None:
        from patron.members.panels import register_panels

        register_panels()
        # the unsubscribe page names each notification kind a member can stop
        from patron.members.forms import topic_label
        from patron.members.notify import MEMBER_TOPICS
        from patron.messaging.policy import topic_label_register

        for topic in MEMBER_TOPICS:
            topic_label_register(topic, topic_label(topic))
