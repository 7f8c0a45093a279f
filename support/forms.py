"""The customer's ticket and reply forms, and the staff reply form of the admin. They read what was typed;
the rules (limits, whose orders, which files) are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BODY_MAX_LENGTH, CannedReply, Subject


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ImagesField(forms.FileField):
    """Any number of files (support/attachments.py decides which are images and how many may go)."""

    def __init__(self, **kwargs):
        attrs = {"accept": "image/png,image/jpeg,image/gif,image/webp", "multiple": True}
        kwargs.setdefault("widget", MultipleImageInput(attrs=attrs))
        super().__init__(required=False, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(ImagesField, self).clean(file, initial) for file in files if file]


def _body(**kwargs):
    return forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": BODY_MAX_LENGTH}),
        **kwargs,
    )


class TicketForm(forms.Form):
    subject = forms.ChoiceField(label=_("About"), choices=Subject.choices)
    orders = forms.CharField(
        label=_("Order numbers"),
        required=False,
        max_length=500,
        help_text=_("Optional: the orders this is about, such as 123, 456."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    body = _body()
    images = ImagesField(label=_("Images"), help_text=_("Optional: screenshots (PNG, JPEG, GIF or WebP)."))


class ReplyForm(forms.Form):
    body = _body()
    images = ImagesField(label=_("Images"), help_text=_("Optional: screenshots (PNG, JPEG, GIF or WebP)."))


class StaffReplyForm(forms.Form):
    """The admin's reply form: empty with a canned reply chosen, the canned reply's text is sent."""

    canned = forms.ModelChoiceField(
        label="Canned reply",
        queryset=CannedReply.objects.filter(is_active=True),
        required=False,
        empty_label="(none)",
    )
    body = forms.CharField(
        label="Reply",
        required=False,
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    images = ImagesField(label="Images")
    close_after = forms.BooleanField(label="Close after replying", required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("canned"):
            raise forms.ValidationError("Write a reply or choose a canned reply.")
        return data
