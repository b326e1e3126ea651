"""Forms for sign-up and the debug-this answer."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class DebugAnswerForm(forms.Form):
    """Causes the learner names, and the settings they would change (key=value lines)."""

    causes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=True,
                                       error_messages={"required": "Name at least one cause."})
    fix = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
                          required=True, help_text="One Kafka property per line, e.g. "
                          "linger.ms=10",
                          error_messages={"required": "Write the setting(s) you would change."})

    def __init__(self, *args, cause_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["causes"].choices = cause_choices
