"""Every customer-facing string has a Vietnamese translation.

Three checks, each failing on its own kind of slip:
- no template a customer sees has visible English outside `{% translate %}`/`{% blocktranslate %}`;
- every string marked for translation (templates and Python, as `makemessages` extracts them from a copy of
  this checkout) is in locale/vi/LC_MESSAGES/django.po, translated and not fuzzy;
- the committed .mo is compiled from that .po, and pages come out in Vietnamese.
"""

import html
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
ALLAUTH_PO = ROOT / "locale" / "allauth" / "vi" / "LC_MESSAGES" / "django.po"  # allauth ships no Vietnamese
# Operator-only templates: the admin is Django's (translated by Django itself) and ours is staff-facing.
OPERATOR_TEMPLATES = ("admin/",)
CHECKED_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "hx-confirm", "data-close-label"}
LETTERS = re.compile(r"[A-Za-z]{2,}")
NOT_WORDS = re.compile(r"https?://|&\w+;|\bvs\b")


def customer_templates():
    for path in sorted((ROOT / "templates").rglob("*")):
        relative = path.relative_to(ROOT / "templates").as_posix()
        if (
            path.is_file()
            and path.suffix in {".html", ".txt"}
            and not relative.startswith(OPERATOR_TEMPLATES)
        ):
            yield relative, path


def untranslated_text(source: str) -> list[str]:
    """Visible text and read-aloud attributes of a template that are outside translation tags."""
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    source = re.sub(r"{%\s*block main_class\s*%}.*?{%\s*endblock", " ", source, flags=re.S)  # a CSS class
    source = re.sub(r"{%\s*blocktrans(late)?\b.*?{%\s*endblocktrans(late)?\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{%.*?%}|{{.*?}}", " ", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S | re.I)
    source = re.sub(r"<(code|pre)\b.*?</\1>", " ", source, flags=re.S | re.I)  # code is code in any language

    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(value for name, value in attrs if name in CHECKED_ATTRIBUTES and value)

        def handle_data(self, data):
            found.append(data)

    Collector().feed(source)
    return [text.strip() for text in found if LETTERS.search(NOT_WORDS.sub(" ", html.unescape(text)))]


@pytest.mark.parametrize("name", [name for name, _ in customer_templates()])
def test_customer_templates_have_no_untranslated_text(name):
    source = (ROOT / "templates" / name).read_text()

    assert untranslated_text(source) == []


def test_the_scanner_finds_untranslated_text():
    assert untranslated_text('<p>Hello</p><input placeholder="Name">') == ["Hello", "Name"]
    assert (
        untranslated_text(
            '<p>{% translate "Hello" %} {{ x }}</p>{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}'
        )
        == []
    )
    assert untranslated_text('<a href="https://x.test">&rarr; #{{ id }}</a>') == []


def catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file, locale="vi")


@pytest.mark.parametrize("po", [PO, ALLAUTH_PO], ids=["ours", "allauth"])
def test_every_message_of_the_catalogs_is_translated(po):
    messages = [message for message in catalog(po) if message.id]
    missing = [
        message.id
        for message in messages
        if not message.string or (isinstance(message.string, tuple) and not all(message.string))
    ]
    fuzzy = [message.id for message in messages if message.fuzzy]

    assert len(messages) > 100
    assert missing == [] and fuzzy == []


def test_every_string_marked_for_translation_is_in_the_catalog(tmp_path):
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("gettext not installed; CI must install it")
        pytest.skip("gettext not installed (apt-get install gettext)")
    copy = tmp_path / "checkout"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv", "var", "tests", "node_modules", "*.mo", "__pycache__"),
    )
    (copy / "locale" / "vi" / "LC_MESSAGES" / "django.po").unlink()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-location", "--ignore=tools/*"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "reseller.settings"},
    )
    extracted = {
        message.id for message in catalog(copy / "locale" / "vi" / "LC_MESSAGES" / "django.po") if message.id
    }
    translated = {
        message.id for message in catalog(PO) if message.id and message.string and not message.fuzzy
    }

    assert sorted(map(str, extracted - translated)) == []


@pytest.mark.parametrize("po", [PO, ALLAUTH_PO], ids=["ours", "allauth"])
def test_the_compiled_catalogs_match_the_po_files(po):
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with po.with_suffix(".mo").open("rb") as file:
        compiled = {(m.context, key(m.id)): key(m.string) for m in read_mo(file) if m.id}
    source = {(m.context, key(m.id)): key(m.string) for m in catalog(po) if m.id and not m.fuzzy}

    assert compiled == source, "run `make messages` and commit the .mo files"
