#!/usr/bin/env bash
# Recipe for the sandbox's root filesystem when no container registry answers: a minimal Debian bookworm with
# python3, pytest and numpy (plus the deployment's own Debian packages), stripped of everything a test run does
# not need, with its manifest at /opt/evalfleet/image.json. Run as root by scripts/sandbox-image:
#
#   deploy/sandbox/build-rootfs.sh TARGET_DIR MIRROR [EXTRA_PACKAGES]
#
# EXTRA_PACKAGES: Debian package names, space-separated (EVALFLEET_SANDBOX_PACKAGES, checked by the caller).
# Changing this file (or image-manifest.py, or the extra packages) changes the rootfs cache key and the image tag.
set -euo pipefail

target="$1"
mirror="$2"
extra="${3:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'build-rootfs: %s\n' "$*" >&2; }

include="python3,python3-pytest,python3-numpy"
for package in $extra; do include="$include,$package"; done
log "debootstrap bookworm (minbase + ${include//,/, }) from $mirror into $target; this takes a few minutes"
# debootstrap prints one line per step; keep them as progress on stderr. --include resolves dependencies.
debootstrap --variant=minbase --include="$include" bookworm "$target" "$mirror" >&2

log "stripping docs, man pages, locales and package caches"
rm -rf "$target"/usr/share/doc/* "$target"/usr/share/man/* "$target"/usr/share/info/* \
  "$target"/usr/share/locale/* "$target"/usr/share/lintian "$target"/usr/share/linda \
  "$target"/var/cache/apt/* "$target"/var/lib/apt/lists/* "$target"/var/cache/debconf/*-old \
  "$target"/var/log/* "$target"/tmp/* "$target"/var/tmp/*
# Docker provides /dev and /proc; device nodes from debootstrap are not needed in the image.
rm -rf "${target:?}"/dev/* "${target:?}"/proc/* "${target:?}"/sys/*

log "removing setuid/setgid bits (no-new-privileges already neutralises them; this is belt and braces)"
find "$target" -xdev -type f -perm /6000 -exec chmod ug-s {} +

log "creating the non-root user and the runtime directories"
# uid 1000 is the image's default user; jobs get their own unprivileged uids from a random range at run time.
grep -q '^sandbox:' "$target/etc/group" || echo 'sandbox:x:1000:' >>"$target/etc/group"
grep -q '^sandbox:' "$target/etc/passwd" ||
  echo 'sandbox:x:1000:1000:evalfleet sandbox:/work:/usr/sbin/nologin' >>"$target/etc/passwd"
grep -q '^sandbox:' "$target/etc/shadow" || echo 'sandbox:!:19000::::::' >>"$target/etc/shadow"
# /work is where the evaluator mounts the jobs' tmpfs. Docker copies the image directory's mode onto a tmpfs
# mounted over it, so the mode the supervisor relies on (0711: only root creates or lists entries; a job may
# pass through to its own directory) is set here as well as in the mount options.
install -d -m 0755 "$target/opt/evalfleet/runtime"
install -d -m 0711 "$target/work"

log "writing the image's manifest (/opt/evalfleet/image.json: Python, Debian and Python packages)"
env -i PATH=/usr/bin:/bin LANG=C.UTF-8 EVALFLEET_SANDBOX_PACKAGES="$extra" \
  "$(command -v chroot)" "$target" /usr/bin/python3 -I -B - <"$here/image-manifest.py" >"$target/opt/evalfleet/image.json"
chmod 0644 "$target/opt/evalfleet/image.json"

log "rootfs ready: $(du -sh "$target" | cut -f1)"
