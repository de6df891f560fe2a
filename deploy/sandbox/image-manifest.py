"""Print the sandbox image's manifest (JSON): what a job's Python finds in it. Runs inside the image's root
filesystem (chroot in build-rootfs.sh, a RUN step in Dockerfile); scripts/sandbox-image labels the image with
the manifest's sha256, and the evaluator names that image in every result.

EVALFLEET_SANDBOX_PACKAGES: the Debian packages the deployment asked for beyond the defaults (space-separated).
"""

import json
import os
import platform
import subprocess
import sys
from importlib import metadata


def debian_packages():
    listing = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = (line.split("\t") for line in listing.splitlines() if line.strip())
    return sorted(({"name": n, "version": v, "arch": a} for n, v, a in rows), key=lambda p: p["name"])


def python_packages():
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower()] = dist.version
    return [{"name": name, "version": found[name]} for name in sorted(found)]


def debian_version():
    try:
        with open("/etc/debian_version", encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def main():
    manifest = {
        "schema": 1,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "debian": debian_version(),
        "requested": sorted(set(os.environ.get("EVALFLEET_SANDBOX_PACKAGES", "").split())),
        "pythonPackages": python_packages(),
        "debianPackages": debian_packages(),
    }
    json.dump(manifest, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
