from django import forms
from django.contrib import admin

from .models import Provider


class ProviderForm(forms.ModelForm):
    api_url = forms.URLField(label="API URL", max_length=500, assume_scheme="https")
    api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: leave empty to keep the current key.",
    )

    class Meta:
        model = Provider
        fields = ["name", "api_url", "api_key", "currency", "is_active"]

    def clean_api_key(self):
        key = self.cleaned_data["api_key"]
        if not key and not self.instance.pk:
            raise forms.ValidationError("A new provider needs an API key.")
        return key or self.instance.api_key


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "api_url", "currency", "is_active", "balance", "balance_checked_at"]
    list_filter = ["is_active", "currency"]
    search_fields = ["name", "api_url"]
    readonly_fields = ["balance", "balance_checked_at", "created_at"]
