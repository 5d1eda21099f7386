from django.apps import AppConfig


class OpenAdrConfig(AppConfig):
    name = "aggregator.openadr"
    label = "openadr"
    verbose_name = "OpenADR 3 VTN"
    default_auto_field = "django.db.models.BigAutoField"
