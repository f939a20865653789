"""Both catalogues are complete: `makemessages` into a copy of the locale folder leaves no
empty English translation and no fuzzy entry (issue 2, "Language").

The real catalogue is never touched: shebao/locale is copied to a temporary folder, and a
settings module in that folder points LOCALE_PATHS at the copy.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "shebao" / "locale"


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr values and flags (obsolete skipped)."""
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            finish()
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}, "refs": []}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#:"):
            entry["refs"].append(line[2:].strip())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = _unquote(line)
            if key in ("msgid", "msgid_plural", "msgctxt"):
                entry[key] += text
            elif key is not None:
                entry["msgstr"][key] += text
        else:
            word, _, rest = line.partition(" ")
            text = _unquote(rest)
            if word in ("msgid", "msgid_plural", "msgctxt"):
                key = word
                entry[word] = text
            elif word.startswith("msgstr"):
                key = word
                entry["msgstr"][word] = text
    return entries


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    out, chars = [], iter(text[1:-1])
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def describe(entry: dict) -> str:
    where = entry["refs"][0] if entry["refs"] else "?"
    return f"{entry['msgid']!r} ({where})"


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory) -> dict[str, list[dict]]:
    if not (LOCALE / "en" / "LC_MESSAGES" / "django.po").exists():
        pytest.fail("shebao/locale/en/LC_MESSAGES/django.po is missing: the English catalogue must exist")
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        pytest.fail("GNU gettext (xgettext, msgmerge) is needed for makemessages: apt-get install gettext")
    tmp = tmp_path_factory.mktemp("i18n")
    shutil.copytree(LOCALE, tmp / "locale")
    (tmp / "i18n_check_settings.py").write_text(
        f"from config.settings import *  # noqa: F401,F403\nLOCALE_PATHS = [{str(tmp / 'locale')!r}]\n"
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="i18n_check_settings",
        PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    ignores = [
        "shebao/locale",
        "shebao/locale/*",
        "tests",
        "tests/*",
        "bench",
        "bench/*",
        "var",
        "var/*",
        "staticfiles",
        "staticfiles/*",
        "test-artifacts",
        "test-artifacts/*",
        "docs",
        "docs/*",
        "*.egg-info",
    ]
    args = [
        sys.executable,
        "manage.py",
        "makemessages",
        "-l",
        "en",
        "-l",
        "zh_Hans",
        "--no-obsolete",
        "--add-location=file",
        "-e",
        "html,txt,py",
    ]
    for pattern in ignores:
        args += ["-i", pattern]
    before = {path: path.read_bytes() for path in LOCALE.rglob("*.po")}
    # makemessages writes temporary "<template>.py" files beside the templates: two runs in
    # the same tree at once (pytest-xdist workers) would delete each other's. Take turns.
    lock_path = (
        Path(tempfile.gettempdir()) / f"shebao-makemessages-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]}.lock"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    # makemessages wrote into the copy, never into the repository.
    assert {path: path.read_bytes() for path in LOCALE.rglob("*.po")} == before
    return {lang: parse_po(tmp / "locale" / lang / "LC_MESSAGES" / "django.po") for lang in ("en", "zh_Hans")}


def test_english_catalogue_has_every_string_translated(catalogues):
    entries = [e for e in catalogues["en"] if e["msgid"]]
    assert len(entries) > 100  # the product's strings were found
    empty = [describe(e) for e in entries if any(not value for value in e["msgstr"].values())]
    assert empty == [], f"{len(empty)} English translations are empty:\n" + "\n".join(empty[:50])


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_no_fuzzy_entries(catalogues, lang):
    fuzzy = [describe(e) or "header" for e in catalogues[lang] if "fuzzy" in e["flags"]]
    assert fuzzy == [], f"{len(fuzzy)} fuzzy entries in {lang}:\n" + "\n".join(fuzzy[:50])


def test_english_translations_are_english(catalogues):
    """A Chinese msgid copied into msgstr is not a translation."""

    def has_cjk(text: str) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in text)

    copied = [
        describe(e) for e in catalogues["en"] if e["msgid"] and any(has_cjk(value) for value in e["msgstr"].values())
    ]
    assert copied == [], f"{len(copied)} English entries still contain Chinese:\n" + "\n".join(copied[:50])


def test_the_checker_sees_empty_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: shebao/a.py:1\nmsgid "保存"\nmsgstr ""\n\n'
        '#: shebao/a.py:2\n#, fuzzy, python-format\nmsgid "流水号 %(serial)s"\nmsgstr "Serial %(serial)s"\n\n'
        '#: shebao/a.py:3\nmsgid ""\n"退单"\nmsgstr ""\n"Can"\n"cel \\"x\\""\n\n'
        '#~ msgid "旧"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    entries = parse_po(po)
    assert [e["msgid"] for e in entries] == ["", "保存", "流水号 %(serial)s", "退单"]
    assert entries[1]["msgstr"] == {"msgstr": ""}
    assert "fuzzy" in entries[2]["flags"]
    assert entries[3]["msgstr"] == {"msgstr": 'Cancel "x"'}
