"""The web page (``/``): drawing or photographing an expression, then its answer."""

from __future__ import annotations

from django.conf import settings
from django.views.generic import TemplateView


class IndexView(TemplateView):
    """``resolver/index.html``, told how long images are kept (its privacy note)."""

    template_name = "resolver/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["retention_days"] = settings.IMAGE_RETENTION_DAYS
        return context
