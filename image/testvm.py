"""The VM test tier: build (once, cached) and boot the DAHDI test image under qemu.

    python3 image/testvm.py build          build the base image if it is not cached
    python3 image/testvm.py run [SCENARIO...]  boot once, run the guest scenarios, print
                                           the results (tests/vm/guest)

The base image (kernel, initrd, root filesystem with DAHDI modules, tools, python3 and
native libraries) is built by `image/test-image/build.sh` into
`build/vm/base-<key>/`, where the key is a hash of build.sh and the package lists: the
same inputs never build twice, a changed input builds a new one. `CCBOX_VM_CACHE` moves
the cache. Our code and the Python packages the box runs with are not in the base: they
go on a small second disk (`project.ext4`, made at every boot in seconds from this
checkout and the venv), so a code change costs no rebuild.

The guest's PID 1 (`/sbin/ccbox-test-init` in the base) mounts that disk and runs its
`init.sh`, which loads DAHDI, configures the spans and runs the scenarios; each prints
one line `CCBOX-RESULT <name> <json>` on the serial console, then the guest powers off.
Everything runs under a timeout; on failure the serial log says what happened.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILDER = ROOT / "image" / "test-image"
KEY_INPUTS = ("build.sh", "packages.txt", "build-packages.txt")
# What goes on the project disk from this checkout.
SOURCE_DIRS = ("firmware", "drivers", "webui", "board")
GUEST_DIR = ROOT / "tests" / "vm" / "guest"
RESULT = "CCBOX-RESULT "
BUILD_TIMEOUT = 1200.0
QEMU = "qemu-system-x86_64"


class VmError(RuntimeError):
    """The VM tier could not run; the message says why (with the log's tail)."""


def cache_root() -> Path:
    return Path(os.environ.get("CCBOX_VM_CACHE") or ROOT / "build" / "vm")


def base_key() -> str:
    h = hashlib.sha256()
    for name in KEY_INPUTS:
        h.update(name.encode() + b"\0" + (BUILDER / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


@dataclass
class BaseImage:
    dir: Path

    @property
    def kernel(self) -> Path:
        return self.dir / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.dir / "initrd.img"

    @property
    def rootfs(self) -> Path:
        return self.dir / "rootfs.ext4"

    @property
    def ready(self) -> bool:
        return (self.dir / "complete").exists()


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def missing_tools() -> list[str]:
    tools = [QEMU, "mkfs.ext4"]
    return [t for t in tools if shutil.which(t) is None]


def ensure_base(log: Path | None = None) -> tuple[BaseImage, float]:
    """The cached base image, built first if needed; and the seconds the build took
    (0.0 when it was cached)."""
    image = BaseImage(cache_root() / f"base-{base_key()}")
    if image.ready:
        return image, 0.0
    with _lock(cache_root() / ".build.lock"):
        if image.ready:  # another process built it while we waited
            return image, 0.0
        if os.geteuid() != 0:
            raise VmError("building the VM test image needs root (debootstrap, chroot); "
                          "run `sudo python3 image/testvm.py build` once")
        if shutil.which("debootstrap") is None:
            raise VmError("debootstrap is missing: run scripts/bootstrap.sh")
        tmp = image.dir.with_name(image.dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        log = log or tmp / "build.log"
        t0 = time.monotonic()
        with open(log, "w") as out:
            try:
                proc = subprocess.run(["bash", str(BUILDER / "build.sh"), str(tmp)],
                                      stdout=out, stderr=subprocess.STDOUT,
                                      timeout=BUILD_TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                raise VmError(f"image build timed out after {BUILD_TIMEOUT:.0f} s; "
                              f"log: {log}\n{_tail(log)}") from None
        if proc.returncode != 0 or not (tmp / "complete").exists():
            raise VmError(f"image build failed (exit {proc.returncode}); log: {log}\n"
                          f"{_tail(log)}")
        shutil.rmtree(image.dir, ignore_errors=True)
        tmp.rename(image.dir)
        # older bases are dead weight (each is ~0.5 GB)
        for old in cache_root().glob("base-*"):
            if old != image.dir and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        return image, time.monotonic() - t0


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _runtime_distributions() -> list[md.Distribution]:
    """The installed distributions the box needs at run time: ccbox's requirements and
    theirs (not the dev tools)."""
    seen: dict[str, md.Distribution] = {}
    todo = [r for r in (md.requires("ccbox") or []) if "extra ==" not in r]
    while todo:
        req = todo.pop()
        name = re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        if ";" in req and "extra" in req.split(";", 1)[1]:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        marker_ok = True
        if ";" in req:
            marker = req.split(";", 1)[1]
            marker_ok = "python_version < \"3" not in marker and "win32" not in marker
        if not marker_ok:
            continue
        seen[name] = dist
        todo += [r for r in (dist.requires or []) if "extra ==" not in r]
    return list(seen.values())


def _copy_site_packages(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for dist in _runtime_distributions():
        base = Path(str(dist.locate_file("")))
        for f in dist.files or []:
            src = Path(str(dist.locate_file(f)))
            try:
                rel = src.relative_to(base)
            except ValueError:
                continue  # scripts outside site-packages
            if (rel.parts and rel.parts[0] in ("..", "bin")) or "__pycache__" in rel.parts:
                continue
            if not src.is_file():
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def make_project_disk(path: Path, data_template: Path | None = None,
                      extra: dict[str, str] | None = None) -> None:
    """The second disk: this checkout's code, the runtime packages, the guest scenarios
    and `init.sh`; `data_template` (a prepared box data dir) goes to /data-template."""
    with tempfile.TemporaryDirectory(prefix="ccbox-vm-") as tmp:
        stage = Path(tmp)
        src = stage / "src"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for d in SOURCE_DIRS:
            shutil.copytree(ROOT / d, src / d, ignore=ignore)
        (src / "tests").mkdir()
        (src / "tests" / "__init__.py").write_text("")
        (src / "tests" / "vm").mkdir()
        (src / "tests" / "vm" / "__init__.py").write_text("")
        shutil.copytree(GUEST_DIR, src / "tests" / "vm" / "guest", ignore=ignore)
        # sipp scenarios: a SIP phone inside the VM calls out through the E1
        shutil.copytree(ROOT / "tests" / "sipp", src / "tests" / "sipp")
        _copy_site_packages(stage / "site")
        shutil.copy2(GUEST_DIR / "init.sh", stage / "init.sh")
        if data_template is not None:
            shutil.copytree(data_template, stage / "data-template", symlinks=True)
        for name, text in (extra or {}).items():
            (stage / name).write_text(text)
        size_mb = max(64, _du_mb(stage) * 2 + 32)
        path.unlink(missing_ok=True)
        subprocess.run(["mkfs.ext4", "-q", "-L", "ccbox-proj", "-d", str(stage), str(path),
                        f"{size_mb}M"], check=True, capture_output=True, timeout=120)


def box_data_template() -> Path:
    """A box data dir with the stock prompts, made on the host (espeak-ng is not in the
    image) and kept in the cache: ensure_stock only regenerates what changed."""
    from firmware.media.prompt_gen import ensure_stock

    template = cache_root() / "box-data"
    with _lock(cache_root() / ".prompts.lock"):
        ensure_stock(template)
    return template


def _du_mb(path: Path) -> int:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total // (1 << 20) + 1


@dataclass
class VmRun:
    returncode: int | None
    seconds: float
    log: Path
    results: dict[str, dict[str, object]] = field(default_factory=dict)
    timed_out: bool = False

    def tail(self, lines: int = 80) -> str:
        return _tail(self.log, lines)


def parse_results(text: str) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for line in text.splitlines():
        i = line.find(RESULT)
        if i < 0:
            continue
        name, _, payload = line[i + len(RESULT):].partition(" ")
        try:
            value = json.loads(payload)
        except ValueError:
            value = {"error": f"unparsable result line: {payload[:200]}"}
        out[name] = value if isinstance(value, dict) else {"value": value}
    return out


def boot(image: BaseImage, project: Path, log: Path, *, timeout: float,
         memory_mb: int = 1536, cpus: int = 2, scenarios: Sequence[str] = (),
         extra_append: Sequence[str] = ()) -> VmRun:
    """Boot the image with the project disk; return what the serial console said."""
    append = ["console=ttyS0", "root=/dev/vda", "rw", "init=/sbin/ccbox-test-init",
              "panic=-1", "loglevel=4", "net.ifnames=0"]
    if scenarios:
        append.append("ccbox.scenarios=" + ",".join(scenarios))
    append += list(extra_append)
    cmd = [QEMU, "-accel", "tcg", "-nographic", "-no-reboot", "-m", str(memory_mb),
           "-smp", str(cpus), "-cpu", "max",
           "-kernel", str(image.kernel), "-initrd", str(image.initrd),
           "-append", " ".join(append),
           "-drive", f"file={image.rootfs},format=raw,if=virtio,snapshot=on",
           "-drive", f"file={project},format=raw,if=virtio,readonly=on",
           "-nic", "none", "-serial", "stdio", "-monitor", "none"]
    t0 = time.monotonic()
    timed_out = False
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait(timeout=10)
            rc = None
    text = log.read_text(errors="replace")
    return VmRun(rc, time.monotonic() - t0, log, parse_results(text), timed_out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="testvm", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["build", "run", "key"])
    p.add_argument("scenarios", nargs="*")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--log", type=Path, default=None)
    p.add_argument("--r2-trace", action="store_true", help="log every openr2 message")
    args = p.parse_args(argv)
    if args.cmd == "key":
        print(base_key())
        return 0
    try:
        image, built = ensure_base()
        how = f"built in {built:.0f} s" if built else "cached"
        print(f"base image {image.dir} ({how})")
        if args.cmd == "build":
            return 0
        work = Path(tempfile.mkdtemp(prefix="ccbox-vm-run-"))
        t0 = time.monotonic()
        make_project_disk(work / "project.ext4", box_data_template())
        print(f"project disk in {time.monotonic() - t0:.1f} s")
        log = args.log or work / "serial.log"
        run = boot(image, work / "project.ext4", log, timeout=args.timeout,
                   scenarios=args.scenarios,
                   extra_append=["ccbox.r2trace=1"] if args.r2_trace else [])
    except VmError as e:
        print(f"testvm: {e}", file=sys.stderr)
        return 2
    print(f"qemu exit {run.returncode} after {run.seconds:.1f} s"
          f"{' (TIMED OUT)' if run.timed_out else ''}; serial log {log}")
    for name, result in run.results.items():
        print(f"{name}: {json.dumps(result, ensure_ascii=False)}")
    return 0 if run.results and not run.timed_out else 1


if __name__ == "__main__":
    sys.exit(main())
