"""Both catalogues are complete (issue 2, "Language"; docs/i18n.md): `bin/i18n-update` run on a
copy of the locale folder exits 0 and leaves no empty English translation and no fuzzy entry;
zh_Hans translates nothing (Chinese is the source language); the committed .mo files say what
the .po files say.

The real catalogue is never touched: shebao/locale is copied to a temporary folder, and a
settings module in that folder points LOCALE_PATHS at the copy (bin/i18n-update works on
settings.LOCALE_PATHS[0]).
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
def update(tmp_path_factory) -> dict:
    """bin/i18n-update run on a copy of shebao/locale: its output, exit status and catalogues."""
    if not (LOCALE / "en" / "LC_MESSAGES" / "django.po").exists():
        pytest.fail("shebao/locale/en/LC_MESSAGES/django.po is missing: the English catalogue must exist")
    missing = [tool for tool in ("xgettext", "msgmerge", "msgfilter", "msgfmt") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"GNU gettext ({', '.join(missing)}) is needed by bin/i18n-update: apt-get install gettext")
    tmp = tmp_path_factory.mktemp("i18n")
    shutil.copytree(LOCALE, tmp / "locale")
    (tmp / "i18n_check_settings.py").write_text(
        f"from config.settings import *  # noqa: F401,F403\nLOCALE_PATHS = [{str(tmp / 'locale')!r}]\n"
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="i18n_check_settings",
        PYTHON=sys.executable,
        PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    before = {path: path.read_bytes() for path in LOCALE.rglob("*.[pm]o")}
    # makemessages writes temporary "<template>.py" files beside the templates: two runs in
    # the same tree at once (pytest-xdist workers) would delete each other's. Take turns.
    lock_path = (
        Path(tempfile.gettempdir()) / f"shebao-makemessages-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]}.lock"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [str(ROOT / "bin" / "i18n-update")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
    output = result.stdout + result.stderr
    # 0: complete; 1: something to fix, which the tests below name. Anything else: it broke.
    assert result.returncode in (0, 1), output
    # The tool wrote into the copy, never into the repository.
    assert {path: path.read_bytes() for path in LOCALE.rglob("*.[pm]o")} == before
    catalogues = {lang: parse_po(tmp / "locale" / lang / "LC_MESSAGES" / "django.po") for lang in ("en", "zh_Hans")}
    return {"returncode": result.returncode, "output": output, "catalogues": catalogues}


@pytest.fixture(scope="module")
def catalogues(update) -> dict[str, list[dict]]:
    return update["catalogues"]


def test_i18n_update_finds_nothing_to_fix(update):
    """Exit 0: no English missing or fuzzy, and msgfmt accepts both catalogues (placeholders)."""
    assert update["returncode"] == 0, update["output"][:5000]


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


def test_zh_hans_translates_nothing(catalogues):
    """Chinese is the source language: the zh_Hans msgstr stay empty, so Django shows the msgid."""
    filled = [describe(e) for e in catalogues["zh_Hans"] if e["msgid"] and any(e["msgstr"].values())]
    assert filled == [], f"{len(filled)} zh_Hans entries have a msgstr:\n" + "\n".join(filled[:50])


def _shown(entry: dict, n: int | None = None) -> str:
    from django.utils.translation import gettext, ngettext, npgettext, pgettext

    msgid, context = entry["msgid"], entry.get("msgctxt")
    if "msgid_plural" in entry:
        if context is not None:
            return npgettext(context, msgid, entry["msgid_plural"], n)
        return ngettext(msgid, entry["msgid_plural"], n)
    return pgettext(context, msgid) if context is not None else gettext(msgid)


def test_the_committed_mo_files_say_what_the_po_files_say():
    """The product reads the committed .mo files: in English each entry of the en .po shows its
    msgstr (a .po edited without bin/i18n-update fails here), in Chinese its msgid."""
    from django.utils import translation

    entries = [e for e in parse_po(LOCALE / "en" / "LC_MESSAGES" / "django.po") if e["msgid"]]
    assert len(entries) > 100
    wrong = []
    for entry in entries:
        forms = [(None, "msgstr", entry["msgid"])]
        if "msgid_plural" in entry:  # English: one form for n == 1, the other for the rest
            forms = [(1, "msgstr[0]", entry["msgid"]), (2, "msgstr[1]", entry["msgid_plural"])]
        for n, key, source in forms:
            with translation.override("zh-hans"):
                if _shown(entry, n) != source:
                    wrong.append(f"zh-hans {describe(entry)} shows {_shown(entry, n)!r}")
            with translation.override("en"):
                if (
                    "fuzzy" not in entry["flags"]
                    and entry["msgstr"].get(key)
                    and _shown(entry, n) != entry["msgstr"][key]
                ):
                    wrong.append(
                        f"en {describe(entry)} shows {_shown(entry, n)!r}, the .po says {entry['msgstr'][key]!r}"
                    )
    assert wrong == [], f"{len(wrong)} strings differ from the catalogue (run bin/i18n-update):\n" + "\n".join(
        wrong[:50]
    )


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
