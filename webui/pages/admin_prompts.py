"""Prompts and music on hold: upload a WAV, play it in the browser, delete it.

An upload is written next to its destination under a temporary name and checked
(8 kHz mono 16-bit WAV, the player's format) before anything is replaced: a broken or
wrong file gets a clear error and the prompt that was there stays, file and entry. The
prompt entry itself goes through `SiteService.upsert` like every other change; if the
site refuses it, the previous recording is put back.

Music on hold is the file `prompts/custom/moh.wav`, which the switch picks over the
generated chime the next time a caller is held or queued; removing it brings the chime
back.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import wave
from pathlib import Path
from typing import Any

import bottle

from firmware.ivr.prompts import CATALOGUE, PROMPT_NAME_RE
from firmware.media.prompt_gen import MOH, PromptFiles
from firmware.siteconfig import SiteInvalid, recording_slots
from firmware.siteconfig.validate import wav_problem
from webui import oplog, siteops
from webui.web import Ctx, Web

MAX_UPLOAD = 20 * 1024 * 1024  # 20 MiB: about 20 minutes of 8 kHz 16-bit audio
CHUNK = 64 * 1024
NAME_ROUTE = "<prompt:re:[A-Za-z0-9_][A-Za-z0-9_/-]{0,127}>"


class UploadError(ValueError):
    """What is wrong with an upload; the message is a msgid, `detail` free text."""

    def __init__(self, msgid: str, detail: str = "") -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.detail = detail


def wav_info(path: Path) -> dict[str, Any]:
    try:
        with wave.open(str(path), "rb") as w:
            return {"seconds": round(w.getnframes() / float(w.getframerate()), 2),
                    "bytes": path.stat().st_size}
    except (OSError, wave.Error, EOFError):
        return {"seconds": None, "bytes": None}


def receive_wav(dest: Path) -> Path:
    """The posted file `file`, checked, in a temporary file next to `dest` (the caller
    moves it into place or deletes it). Raises UploadError; leaves nothing behind."""
    upload = bottle.request.files.get("file")
    if upload is None or not upload.raw_filename:
        raise UploadError("Choose a WAV file to upload.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".upload-{secrets.token_hex(6)}.wav")
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise UploadError("The file is too large (at most 20 MB).")
                out.write(chunk)
        if size == 0:
            raise UploadError("The file is empty (the upload may have been cut off).")
        problem = wav_problem(tmp)
        if problem:
            raise UploadError("This file cannot be played as a prompt.",
                              problem.replace(str(tmp), upload.raw_filename))
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def _too_large() -> bool:
    try:
        return int(bottle.request.headers.get("Content-Length") or 0) > MAX_UPLOAD + CHUNK
    except ValueError:
        return False


def register(web: Web) -> None:
    def files() -> PromptFiles:
        return PromptFiles(web.data_dir)

    def page(ctx: Ctx, error: UploadError | None = None, form: dict[str, str] | None = None,
             applied: siteops.Applied | None = None, refused: SiteInvalid | None = None,
             status: int = 200, new_slot: recording_slots.Slot | None = None) -> str:
        doc = siteops.service(ctx).document()
        pf = files()
        uploaded = [{**p, **wav_info(pf.custom / f"{p['name']}.wav")} for p in doc["prompts"]]
        stock = [{"name": n, "text": p.text, "group": p.group,
                  "custom": (pf.custom / f"{n}.wav").is_file()}
                 for n, p in CATALOGUE.items()]
        bottle.response.status = status
        return ctx.render("admin_prompts.tpl", uploaded=uploaded, stock=stock, error=error,
                          form=form or {}, applied=applied, refused=refused,
                          slots=recording_slots.pending() if ctx.can("site.edit") else [],
                          new_slot=new_slot)

    @web.route("GET", "/admin/prompts", "site.view")
    def list_(ctx: Ctx) -> str:
        return page(ctx)

    @web.route("POST", "/admin/prompts", "site.edit")
    def upload(ctx: Ctx) -> str:
        if _too_large():
            return page(ctx, UploadError("The file is too large (at most 20 MB)."), status=413)
        f = bottle.request.forms
        form = {"name": f.getunicode("name", "").strip(), "text": f.getunicode("text", "")}
        name = form["name"]
        if not PROMPT_NAME_RE.fullmatch(name) or len(name) > 128:
            return page(ctx, UploadError("A prompt name is letters, digits, '_' and '-' "
                                         "(parts separated by '/')."), form, status=400)
        dest = files().custom / f"{name}.wav"
        try:
            tmp = receive_wav(dest)
        except UploadError as e:
            return page(ctx, e, form, status=400)
        backup = None
        old = siteops.item_of(ctx, "prompts", name)
        before = {**old, **wav_info(dest)} if old is not None and dest.exists() else None
        if dest.exists():
            backup = dest.with_name(f".backup-{secrets.token_hex(6)}.wav")
            os.replace(dest, backup)
        os.replace(tmp, dest)
        try:
            applied = siteops.upsert(ctx, "prompts", {"name": name, "text": form["text"]},
                                     name if old is not None else None)
        except SiteInvalid as e:
            # the site refused the entry: the recording that was there comes back
            if backup is not None:
                os.replace(backup, dest)
            else:
                dest.unlink()
            return page(ctx, form=form, refused=e, status=400)
        if backup is not None:
            backup.unlink()
        oplog.record(ctx.user.name, ctx.address, "prompt.upload", name, before,
                     {"name": name, "text": form["text"], **wav_info(dest)})
        return page(ctx, applied=applied)

    @web.route("POST", "/admin/prompts/record", "site.edit")
    def record(ctx: Ctx) -> str:
        """A one-time code to record a prompt from a phone: *77 + code (decision 0017)."""
        name = bottle.request.forms.getunicode("name", "").strip()
        if not PROMPT_NAME_RE.fullmatch(name) or len(name) > 128:
            return page(ctx, UploadError("A prompt name is letters, digits, '_' and '-' "
                                         "(parts separated by '/')."), status=400)
        slot = recording_slots.create(name, ctx.user.name)
        oplog.record(ctx.user.name, ctx.address, "prompt.record_code", name, None,
                     {"expires": slot.expires})
        return page(ctx, new_slot=slot)

    @web.route("GET", f"/admin/prompts/audio/{NAME_ROUTE}", "site.view")
    def audio(ctx: Ctx, prompt: str) -> Any:
        path = files().path(prompt)
        if path is None:
            raise bottle.HTTPError(404, f"no recording for prompt {prompt}")
        return bottle.static_file(path.name, root=str(path.parent), mimetype="audio/wav")

    @web.route("POST", f"/admin/prompts/{NAME_ROUTE}/delete", "site.edit")
    def delete(ctx: Ctx, prompt: str) -> str:
        if siteops.item_of(ctx, "prompts", prompt) is None:
            raise bottle.HTTPError(404, f"no uploaded prompt {prompt}")
        try:
            applied = siteops.remove(ctx, "prompts", prompt)
        except SiteInvalid as e:
            return page(ctx, refused=e, status=409)
        with contextlib.suppress(FileNotFoundError):
            (files().custom / f"{prompt}.wav").unlink()
        return page(ctx, applied=applied)

    # --- music on hold ---------------------------------------------------------------------
    def moh_page(ctx: Ctx, error: UploadError | None = None, note: str = "",
                 status: int = 200) -> str:
        custom = files().custom / f"{MOH}.wav"
        bottle.response.status = status
        return ctx.render("admin_moh.tpl", custom=custom.is_file(),
                          info=wav_info(custom) if custom.is_file() else {},
                          playable=files().path(MOH) is not None, error=error, note=note)

    @web.route("GET", "/admin/moh", "site.view")
    def moh(ctx: Ctx) -> str:
        return moh_page(ctx)

    @web.route("POST", "/admin/moh", "site.edit")
    def moh_upload(ctx: Ctx) -> str:
        if _too_large():
            return moh_page(ctx, UploadError("The file is too large (at most 20 MB)."),
                            status=413)
        dest = files().custom / f"{MOH}.wav"
        try:
            tmp = receive_wav(dest)
        except UploadError as e:
            return moh_page(ctx, e, status=400)
        before = wav_info(dest) if dest.is_file() else None
        os.replace(tmp, dest)  # a caller on hold keeps reading the old file to its end
        oplog.record(ctx.user.name, ctx.address, "moh.upload", MOH, before, wav_info(dest))
        return moh_page(ctx, note="Uploaded. Callers hear it the next time they are held "
                        "or queued.")

    @web.route("POST", "/admin/moh/reset", "site.edit")
    def moh_reset(ctx: Ctx) -> str:
        dest = files().custom / f"{MOH}.wav"
        if not dest.is_file():
            return moh_page(ctx, note="The built-in music on hold is already in use.")
        before = wav_info(dest)
        dest.unlink()
        oplog.record(ctx.user.name, ctx.address, "moh.reset", MOH, before, None)
        return moh_page(ctx, note="Removed: callers hear the built-in music on hold again.")
