"""A description of the machine a run happened on, for the report's header."""

from __future__ import annotations

import os
import platform
from importlib import metadata

PACKAGES = (
    "Flask-Store",
    "Flask",
    "Werkzeug",
    "Flask-Reuploaded",
    "gunicorn",
    "boto3",
    "botocore",
    "moto",
    "SQLAlchemy",
    "Flask-SQLAlchemy",
    "gevent",
)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def ram() -> str:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            kib = int(line.split()[1])
            return f"{kib / 1024 / 1024:.1f} GiB"
    return "unknown"


def filesystem(path: str) -> str:
    """Device, filesystem type and size of the mount holding ``path``."""
    path = os.path.realpath(path)
    best = ("", "", "")
    for line in _read("/proc/mounts").splitlines():
        device, mount, fstype = line.split()[:3]
        inside = path == mount or path.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best[1]):
            best = (device, mount, fstype)
    device, mount, fstype = best
    st = os.statvfs(path)
    size = st.f_blocks * st.f_frsize / 1024**3
    free = st.f_bavail * st.f_frsize / 1024**3
    disk = os.path.basename(device)
    rotational = _read(f"/sys/block/{disk}/queue/rotational").strip()
    kind = {"0": ", non-rotational", "1": ", rotational"}.get(rotational, "")
    kind += " per the kernel" if kind else ""
    return f"{device} ({fstype}{kind}) mounted on {mount}, {size:.0f} GiB, {free:.0f} GiB free"


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def describe(workdir: str) -> list[tuple[str, str]]:
    """(label, value) pairs describing this machine and software."""
    return [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", ram()),
        ("Disk", filesystem(workdir)),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Packages", versions()),
    ]
