"""Update and fill the translation catalogues of shebao/locale (run it as `bin/i18n-fill`).

Steps (each run is safe to repeat):
1. `manage.py makemessages -l en -l zh_Hans --no-obsolete` (unless --no-makemessages), so the
   catalogues hold exactly the strings the code and templates use today.
2. zh_Hans: the source strings are Chinese, so every msgstr is its msgid (no empty entries).
3. en: translations from bin/i18n_en.py (EN dict, msgid -> English) win; an entry not in the
   dict keeps the translation it already has in the .po file (unless msgmerge marked it
   fuzzy); everything else is reported as untranslated and left empty/fuzzy.
   Placeholders (%(name)s, %s, %d) must be the same in msgid and msgstr.
4. The fuzzy flag goes from every filled entry and from both headers.
5. `manage.py compilemessages` writes the .mo files (they are committed; the runtime needs no
   gettext).

Exit status 1 when any en entry is still untranslated or has mismatched placeholders, so the
command doubles as a check. Standard library only (no polib).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "shebao" / "locale"
IGNORES = [".venv", "tests", "bench", "staticfiles", "var", "test-artifacts", "node_modules", "build"]
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdif]|%[sdif]|%%")

sys.path.insert(0, str(Path(__file__).resolve().parent))


# --- a minimal .po reader/writer -------------------------------------------------------------


@dataclass
class Entry:
    comments: list[str] = field(default_factory=list)  # "#." "#:" "# " lines, kept as they are
    flags: list[str] = field(default_factory=list)  # from "#," lines
    previous: list[str] = field(default_factory=list)  # "#|" lines (msgmerge's previous msgid)
    fields: dict[str, str] = field(default_factory=dict)  # msgctxt/msgid/msgid_plural/msgstr[/n]
    obsolete: list[str] = field(default_factory=list)  # "#~" lines

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and "msgctxt" not in self.fields

    def msgstr_keys(self) -> list[str]:
        return [k for k in self.fields if k.startswith("msgstr")]

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def _unquote(s: str) -> str:
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    body = s[1:-1]
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _quote(s: str) -> str:
    return (
        '"'
        + s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
        + '"'
    )


def parse_po(text: str) -> list[Entry]:
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        e, key = Entry(), None
        for line in block.splitlines():
            if line.startswith("#~"):
                e.obsolete.append(line)
            elif line.startswith("#,"):
                e.flags += [f.strip() for f in line[2:].split(",") if f.strip()]
            elif line.startswith("#|"):
                e.previous.append(line)
            elif line.startswith("#"):
                e.comments.append(line)
            elif line.startswith('"'):
                e.fields[key] += _unquote(line)
            elif line.strip():
                key, _, rest = line.partition(" ")
                e.fields[key] = _unquote(rest)
        entries.append(e)
    return entries


def write_po(entries: list[Entry]) -> str:
    blocks = []
    for e in entries:
        lines = list(e.comments)
        if e.flags:
            lines.append("#, " + ", ".join(e.flags))
        lines += e.previous
        for key, value in e.fields.items():
            if "\n" in value.rstrip("\n") or (e.is_header and key == "msgstr"):
                parts = value.splitlines(keepends=True)
                lines.append(f'{key} ""')
                lines += [_quote(p) for p in parts]
            else:
                lines.append(f"{key} {_quote(value)}")
        lines += e.obsolete
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def placeholders(s: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(s))


# --- the steps -------------------------------------------------------------------------------


def manage(*args: str) -> None:
    cmd = [sys.executable, str(ROOT / "manage.py"), *args]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def set_header(e: Entry, language: str) -> None:
    e.flags = [f for f in e.flags if f != "fuzzy"]
    e.comments = [
        "# Shebao — 社会保险网上办事大厅 (单位篇).",
        "# This file is distributed under the same license as Shebao.",
    ]
    lines = e.fields["msgstr"].splitlines(keepends=True)
    fixed = {
        "Project-Id-Version": "shebao",
        "Language": language,
        "Language-Team": language,
        "Last-Translator": "Shebao team",
        "PO-Revision-Date": None,  # drop the template placeholder
    }
    out = []
    for line in lines:
        name = line.split(":", 1)[0]
        if name in fixed:
            if fixed[name] is not None:
                out.append(f"{name}: {fixed[name]}\n")
        else:
            out.append(line)
    e.fields["msgstr"] = "".join(out)


def clear_fuzzy(e: Entry) -> None:
    e.flags = [f for f in e.flags if f != "fuzzy"]
    e.previous = []


def fill_zh(path: Path) -> int:
    entries = parse_po(path.read_text(encoding="utf-8"))
    n = 0
    for e in entries:
        if e.obsolete and not e.fields:
            continue
        if e.is_header:
            set_header(e, "zh_Hans")
            continue
        for key in e.msgstr_keys():
            e.fields[key] = e.fields.get("msgid_plural", e.msgid) if key not in ("msgstr", "msgstr[0]") else e.msgid
        clear_fuzzy(e)
        n += 1
    path.write_text(write_po(entries), encoding="utf-8")
    return n


def fill_en(path: Path, en: dict) -> tuple[int, list[str], list[str]]:
    entries = parse_po(path.read_text(encoding="utf-8"))
    n, missing, bad = 0, [], []
    for e in entries:
        if e.obsolete and not e.fields:
            continue
        if e.is_header:
            set_header(e, "en")
            continue
        n += 1
        key = e.msgid if "msgctxt" not in e.fields else (e.fields["msgctxt"], e.msgid)
        plural = "msgid_plural" in e.fields
        if key in en:
            value = en[key]
            if plural:
                singular, many = value if isinstance(value, tuple) else (value, value)
                e.fields["msgstr[0]"], e.fields["msgstr[1]"] = singular, many
            else:
                e.fields["msgstr"] = value
            clear_fuzzy(e)
        elif e.fuzzy or not all(e.fields[k] for k in e.msgstr_keys()):
            missing.append(e.msgid)
            continue
        for k in e.msgstr_keys():
            source = e.fields["msgid_plural"] if plural and k != "msgstr[0]" else e.msgid
            if placeholders(e.fields[k]) != placeholders(source):
                bad.append(f"{e.msgid!r} -> {e.fields[k]!r}")
    path.write_text(write_po(entries), encoding="utf-8")
    return n, missing, bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-makemessages", action="store_true", help="only fill and compile the existing .po files")
    ap.add_argument("--no-compile", action="store_true", help="do not run compilemessages")
    args = ap.parse_args()

    from i18n_en import EN

    if not args.no_makemessages:
        ignores = [f"--ignore={p}" for p in IGNORES]
        manage("makemessages", "-l", "en", "-l", "zh_Hans", "--no-obsolete", *ignores)
    zh_n = fill_zh(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
    en_n, missing, bad = fill_en(LOCALE / "en" / "LC_MESSAGES" / "django.po", EN)
    # normalise the layout (line wrapping) the way msgmerge writes it, to keep diffs small
    for lang in ("en", "zh_Hans"):
        po = LOCALE / lang / "LC_MESSAGES" / "django.po"
        subprocess.run(["msgcat", "--use-first", "-o", str(po), str(po)], check=True)
    if not args.no_compile:
        manage("compilemessages", *[f"--ignore={p}" for p in IGNORES])
    print(f"i18n-fill: zh_Hans {zh_n} entries; en {en_n} entries, {en_n - len(missing)} translated")
    used = _msgids(LOCALE / "en" / "LC_MESSAGES" / "django.po")
    unused = sorted(k for k in EN if isinstance(k, str) and k not in used)
    if unused:
        print(f"i18n-fill: {len(unused)} entries of bin/i18n_en.py are no longer used (harmless)")
    if missing:
        print(f"i18n-fill: {len(missing)} en entries need a translation (add them to bin/i18n_en.py):")
        for m in missing:
            print("  " + repr(m))
    if bad:
        print("i18n-fill: placeholders differ between msgid and msgstr:")
        for b in bad:
            print("  " + b)
    return 1 if (missing or bad) else 0


def _msgids(path: Path) -> set[str]:
    return {e.msgid for e in parse_po(path.read_text(encoding="utf-8"))}


if __name__ == "__main__":
    sys.exit(main())
