from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendConfig(AppConfig):
    name = "patron.recommend"
    label = "recommend"
    verbose_name = _("Recommendations")

    def ready(self) -> None:
        from patron.recommend.panels import register_panels

        register_panels()
