"""The configuration service: what the CLI and the web UI call to read, check, change,
import and export the call-center configuration.

Every change goes the same way: build the whole new document, validate it (every error,
with object, field and, for a file, line), write it in one transaction, then ask a
running switchd to `reload`. switchd validates again what it reads and swaps it in
without touching calls in progress (see firmware/switch/site_runtime.py).

    svc = SiteService(data_dir)             # models bound (open_db) by the caller
    result = svc.check(doc)                 # Result(doc, site, errors, warnings)
    svc.save(doc)                           # raises SiteInvalid; returns SaveOutcome
    text = svc.export_yaml()
    outcome = svc.import_yaml(text, "site.yaml", dry_run=True)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee

from firmware.siteconfig import store, yamlio
from firmware.siteconfig.errors import Findings, SiteError, SiteInvalid
from firmware.siteconfig.schema import KEYS, SECTIONS
from firmware.siteconfig.types import Obj
from firmware.siteconfig.validate import Context, Result, normalize, validate

EXPORT_HEADER = ("# ccbox site configuration (ccbox config export; schema: "
                 "docs/en/site-config.md)\n")


@dataclass
class SectionDiff:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass
class SaveOutcome:
    changes: dict[str, SectionDiff]
    generated_passwords: dict[str, str]  # extension -> password, for new extensions
    new_flow_versions: dict[str, int]
    switchd: str | None  # what the running switchd said (None: not running)
    warnings: list[SiteError] = field(default_factory=list)
    generated_pins: dict[str, str] = field(default_factory=dict)  # room -> PIN, new rooms


@dataclass
class ImportOutcome:
    sections: list[str]  # the sections the file sets (the others are left as they are)
    changes: dict[str, SectionDiff]
    warnings: list[SiteError]
    applied: SaveOutcome | None  # None for a dry run


def diff(old: Mapping[str, Any], new: Mapping[str, Any],
         sections: list[str] | None = None) -> dict[str, SectionDiff]:
    out: dict[str, SectionDiff] = {}
    for name in sections or list(SECTIONS):
        d = SectionDiff()
        if name == "acd":
            if old.get("acd") != new.get("acd"):
                d.changed.append("settings")
        else:
            key = KEYS[name]
            old_items = {str(x.get(key)): x for x in old.get(name, [])}
            new_items = {str(x.get(key)): x for x in new.get(name, [])}
            if name == "extensions":  # no password given: the stored one is kept
                new_items = {k: {**x, "password": old_items[k].get("password")}
                             if x.get("password") is None and k in old_items else x
                             for k, x in new_items.items()}
            if name == "lookups":  # no token given: the stored one is kept
                new_items = {k: {**x, "bearer_token": old_items[k].get("bearer_token")}
                             if x.get("bearer_token") is None and k in old_items else x
                             for k, x in new_items.items()}
            if name == "conference_rooms":  # no PIN given: the stored one is kept
                new_items = {k: {**x, "pin_hash": old_items[k].get("pin_hash")}
                             if x.get("pin") is None and x.get("pin_hash") is None
                             and k in old_items else x
                             for k, x in new_items.items()}
            before = {k: _comparable(name, x) for k, x in old_items.items()}
            after = {k: _comparable(name, x) for k, x in new_items.items()}
            d.added = [k for k in after if k not in before]
            d.removed = [k for k in before if k not in after]
            d.changed = [k for k in after if k in before and before[k] != after[k]]
        out[name] = d
    return out


def _comparable(section: str, item: Mapping[str, Any]) -> str:
    drop = {"version"} if section == "ivr_flows" else {"file"} if section == "prompts" else set()
    return json.dumps({k: v for k, v in item.items() if k not in drop}, sort_keys=True,
                      ensure_ascii=False)


Notifier = Callable[[Path], "str | None"]


class SiteService:
    def __init__(self, data_dir: Path, db: peewee.Database,
                 notify: Notifier | None = None) -> None:
        """`db` is the handle the models are bound to (firmware.db.connection.open_db).
        `notify` tells a running switchd to reload (default: its control socket)."""
        self.data_dir = data_dir
        self.db = db
        self.notify = notify if notify is not None else _notify_switchd

    @property
    def custom_prompts(self) -> Path:
        return self.data_dir / "prompts" / "custom"

    def context(self, source_dir: Path | None = None) -> Context:
        return Context(custom_prompts=self.custom_prompts, source_dir=source_dir)

    # --- reading ------------------------------------------------------------------------
    def raw_document(self) -> dict[str, Any]:
        return store.load_document()

    def current(self) -> Result:
        """The stored configuration, validated (what switchd would run)."""
        return validate(store.load_document(), self.context())

    def document(self) -> dict[str, Any]:
        """The stored configuration as a canonical document (for forms and export), even
        when some cross-reference broke (a prompt file deleted by hand)."""
        found = Findings()
        doc = normalize(store.load_document(), found)
        if doc is None:
            raise SiteInvalid(found.errors)
        return doc

    # --- checking and changing -------------------------------------------------------------
    def check(self, raw: object, source_dir: Path | None = None) -> Result:
        return validate(raw, self.context(source_dir))

    def save(self, raw: object, sections: list[str] | None = None,
             source_dir: Path | None = None) -> SaveOutcome:
        """Validate the whole document, write it atomically, tell switchd. `sections`:
        only these are written (the document still has to be valid as a whole)."""
        result = self.check(raw, source_dir)
        if not result.ok or result.doc is None:
            raise SiteInvalid(result.errors, result.warnings)
        before = self.document() if store.configured() else _empty_like(result.doc)
        changes = diff(before, result.doc, sections)
        self._copy_prompt_files(result.doc, source_dir)
        report = store.save_document(self.db, result.doc,
                                     frozenset(sections) if sections else None)
        note = self.notify(self.data_dir)
        return SaveOutcome(changes, report.generated_passwords, report.new_flow_versions,
                           note, list(result.warnings), report.generated_pins)

    def _copy_prompt_files(self, doc: Mapping[str, Any], source_dir: Path | None) -> None:
        if source_dir is None:
            return
        for p in doc["prompts"]:
            if p["file"] is None:
                continue
            dest = self.custom_prompts / f"{p['name']}.wav"
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}")
            shutil.copyfile(source_dir / p["file"], tmp)
            os.replace(tmp, dest)  # a call playing the old file keeps reading it

    # --- one object at a time (web UI forms) ------------------------------------------------
    def upsert(self, section: str, item: Mapping[str, Any],
               old_key: str | None = None) -> SaveOutcome:
        """Add or replace one object of a list section (matched by its name field, or by
        `old_key` when it is being renamed); the whole site is validated."""
        doc = self.document()
        key = KEYS[section]
        match = str(old_key if old_key is not None else item.get(key))
        items = list(doc[section])
        for i, x in enumerate(items):
            if str(x.get(key)) == match:
                items[i] = dict(item)
                break
        else:
            items.append(dict(item))
        doc[section] = items
        return self.save(doc, [section])

    def remove(self, section: str, name: str) -> SaveOutcome:
        """Delete one object; refused (SiteInvalid) while something still refers to it."""
        doc = self.document()
        key = KEYS[section]
        kept = [x for x in doc[section] if str(x.get(key)) != name]
        if len(kept) == len(doc[section]):
            raise KeyError(f"no {section} entry {name!r}")
        doc[section] = kept
        if section == "extensions":
            _drop_orphan_features(doc)  # an extension's own features go with it
        return self.save(doc, [section])

    def set_acd_settings(self, settings: Mapping[str, Any]) -> SaveOutcome:
        doc = self.document()
        doc["acd"] = dict(settings)
        return self.save(doc, ["acd"])

    def flow_versions(self, flow_id: str) -> list[tuple[int, bool, float]]:
        """(version, active, created) of a flow, newest first."""
        return store.flow_versions(flow_id)

    def activate_flow_version(self, flow_id: str, version: int) -> str | None:
        """Make a stored version of a flow the active one (roll back or forward); refused
        if the site would not be valid with it. Returns what switchd said."""
        with self.db.atomic(lock_type="IMMEDIATE"):
            store.activate_flow_version(self.db, flow_id, version)
            result = self.current()
            if not result.ok:
                raise SiteInvalid(result.errors, result.warnings)  # rolls back
        return self.notify(self.data_dir)

    # --- locks (state written by switchd) ---------------------------------------------------
    def locks(self, now: float | None = None) -> list[dict[str, Any]]:
        """Numbers locked now by auto-lock rules."""
        return store.active_locks(time.time() if now is None else now)

    def unlock(self, number: str, by: str) -> bool:
        """Lift the active lock of `number`; False if it is not locked. The number's calls
        are counted from zero again once switchd has reloaded."""
        if not store.unlock(number, by, time.time()):
            return False
        self.notify(self.data_dir)
        return True

    # --- files ------------------------------------------------------------------------------
    def export_yaml(self, with_secrets: bool = False) -> str:
        doc = self.document()
        out: dict[str, Any] = {"schema": doc["schema"]}
        for name, kind in SECTIONS.items():
            value = doc[name]
            if isinstance(kind, Obj):
                out[name] = kind.strip_defaults(value, secrets=with_secrets)
            else:
                item = getattr(kind, "item", None)
                if isinstance(item, Obj):
                    out[name] = [item.export_item(x, secrets=with_secrets) for x in value]
                else:
                    out[name] = value
        return EXPORT_HEADER + yamlio.dump(out)

    def import_yaml(self, text: str, filename: str = "", *, dry_run: bool = False,
                    source_dir: Path | None = None) -> ImportOutcome:
        """Validate the whole file (every error with its line), then apply it in one
        transaction. Sections the file leaves out are kept as they are; a section that is
        present (even empty) replaces the stored one. Raises SiteInvalid."""
        try:
            data, marks = yamlio.load(text, filename)
        except yamlio.YamlError as e:
            raise SiteInvalid(e.errors) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise SiteInvalid([SiteError((), "a site file is a mapping of sections "
                                         "(extensions:, queues:, ...)", line=1,
                                         file=filename)])
        sections = [s for s in SECTIONS if s in data]
        merged: dict[str, Any] = dict(self.raw_document())
        merged.update({k: v for k, v in data.items() if k in sections or k not in SECTIONS})
        if "extension_features" not in sections:
            _drop_orphan_features(merged)  # stored features of extensions the file drops
        result = self.check(merged, source_dir)

        def located(errors: list[SiteError]) -> list[SiteError]:
            out = []
            for e in errors:
                from_file = not e.path or e.path[0] in data
                line = yamlio.line_of(marks, e.path) if from_file else None
                out.append(SiteError(e.path, e.message if from_file else
                                     e.message + " (in the stored configuration)",
                                     e.label, line, filename if from_file else ""))
            return sorted(out, key=lambda e: (e.line is None, e.line or 0))

        if not result.ok or result.doc is None:
            raise SiteInvalid(located(result.errors), located(result.warnings))
        before = self.document() if store.configured() else _empty_like(result.doc)
        changes = diff(before, result.doc, sections)
        if dry_run:
            return ImportOutcome(sections, changes, located(result.warnings), None)
        applied = self.save(merged, sections, source_dir)
        applied.warnings = located(result.warnings)
        return ImportOutcome(sections, applied.changes, applied.warnings, applied)


def _drop_orphan_features(doc: dict[str, Any]) -> None:
    """Features of extensions the document no longer has are dropped with them (the
    store deletes their rows); features typed in a file for an unknown extension are
    still an error."""
    exts = doc.get("extensions")
    feats = doc.get("extension_features")
    if not isinstance(exts, list) or not isinstance(feats, list):
        return
    numbers = {str(getattr(e.get("number"), "raw", e.get("number"))) for e in exts
               if isinstance(e, dict)}
    doc["extension_features"] = [f for f in feats if not isinstance(f, dict)
                                 or str(f.get("extension")) in numbers]


def _empty_like(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ({} if isinstance(v, dict) else [] if isinstance(v, list) else v)
            for k, v in doc.items()}


def _notify_switchd(data_dir: Path) -> str | None:
    """Ask a running switchd to reload; a note for the user, or None when it is not
    running (it reads the database when it starts)."""
    from firmware.cli.errors import CliError
    from firmware.cli.status import NOT_RUNNING, query, switchd_socket

    try:
        reply = query(switchd_socket(data_dir), {"cmd": "reload"}, timeout=10.0)
    except CliError as exc:
        if exc.status == NOT_RUNNING:
            return None
        return f"switchd did not confirm the reload ({exc}); it reads the change shortly"
    if reply.get("ok") is False or "error" in reply:
        return f"switchd refused the new configuration: {reply.get('error', 'unknown')}"
    summary = reply.get("applied")
    return f"switchd applied it: {summary}" if summary else "switchd reloaded"
