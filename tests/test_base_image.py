"""`.ci/base-image` packs the root folder it bootstrapped with `.ci/pack-rootfs`. That
folder comes from mktemp (mode 0700) and becomes the image's `/`: unless packing makes it
0755, the image's non-root user cannot run anything (issue 18). Checked here on a tiny
stand-in root, without debootstrap."""

import io
import os
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / ".ci" / "pack-rootfs"


def packed_entries(folder: Path) -> dict[str, tarfile.TarInfo]:
    result = subprocess.run([PACK, folder], capture_output=True, timeout=60, check=True)
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
        return {os.path.normpath(member.name): member for member in tar.getmembers()}


def test_the_packed_root_is_0755_and_the_rest_keeps_its_modes(tmp_path):
    rootfs = tmp_path / "crossings-base.XXXXXX"
    (rootfs / "usr" / "bin").mkdir(parents=True)
    (rootfs / "usr" / "bin" / "python3").write_text("#!/bin/sh\n")
    (rootfs / "usr" / "bin" / "python3").chmod(0o755)
    (rootfs / "root").mkdir()
    (rootfs / "root").chmod(0o700)
    rootfs.chmod(0o700)

    entries = packed_entries(rootfs)

    assert entries["."].isdir()
    assert entries["."].mode == 0o755, f"the image's / would be {entries['.'].mode:o}"
    assert entries["usr/bin/python3"].mode == 0o755
    assert entries["root"].mode == 0o700


def test_packing_a_missing_folder_says_which(tmp_path):
    missing = tmp_path / "not-bootstrapped"
    result = subprocess.run([PACK, missing], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{missing} is not a folder" in result.stderr
    assert result.stdout == ""


def test_missing_tools_are_installed_after_reading_the_package_lists(tmp_path):
    """Issue 28: on a fresh machine `apt-get install` found no package lists; the script
    now runs `apt-get update` first (stand-in apt-get, nothing installed for real)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n[ "$1" = update ]\n')
    (bin_dir / "apt-get").chmod(0o755)
    for tool in ("mktemp", "rm", "dirname"):
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True)
        (bin_dir / tool).symlink_to(real.stdout.strip())
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    bash = subprocess.run(["sh", "-c", "command -v bash"], capture_output=True, text=True)
    done = subprocess.run([bash.stdout.strip(), ROOT / ".ci" / "base-image"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0  # the stand-in installs nothing
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq debootstrap podman"]
