#!/bin/sh
# Builds the Docker image dockmaster-demo:latest without a registry. Does I/O (files, docker).
# `docker import` of a folder holding the host's node binary, the libraries `ldd` lists for it
# (same paths, dynamic loader included) and src/demo/demo-app.mjs at /app/demo-app.mjs.
#
# Usage: src/demo/build-image.sh [IMAGE]    (default dockmaster-demo:latest)
# Idempotent: the image carries a hash of its inputs; an image with the same hash is kept as is,
# a changed one replaces the tag and the previous image is removed when nothing uses it.
set -eu

image="${1:-dockmaster-demo:latest}"
here="$(cd "$(dirname "$0")" && pwd)"
app="$here/demo-app.mjs"

node_bin="$(command -v node || true)"
if [ -z "$node_bin" ]; then
  echo "build-image: node is not on PATH" >&2
  exit 1
fi
node_bin="$(readlink -f "$node_bin")"
command -v docker >/dev/null || { echo "build-image: docker CLI not found" >&2; exit 1; }
command -v ldd >/dev/null || { echo "build-image: ldd not found" >&2; exit 1; }

root="$(mktemp -d "${TMPDIR:-/tmp}/dockmaster-demo-image.XXXXXX")"
trap 'rm -rf "$root"' EXIT INT TERM

# Copies one file to the same path under $root; a symlinked path keeps its link and its target.
copy_path() {
  src="$1"
  mkdir -p "$root$(dirname "$src")"
  cp -L "$src" "$root$src"
  real="$(readlink -f "$src")"
  if [ "$real" != "$src" ]; then
    mkdir -p "$root$(dirname "$real")"
    cp -L "$real" "$root$real"
  fi
}

mkdir -p "$root/usr/bin" "$root/app" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$node_bin" "$root/usr/bin/node"

# ldd lines: "libx.so => /path/libx.so (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)", "linux-vdso.so.1 (0x...)".
libs="$(ldd "$node_bin" | awk '{ for (i = 1; i <= NF; i++) if (substr($i, 1, 1) == "/") print $i }' | sort -u)"
if [ -z "$libs" ]; then
  echo "build-image: ldd listed no libraries for $node_bin (static binary?)" >&2
fi
for lib in $libs; do
  copy_path "$lib"
done

cp "$app" "$root/app/demo-app.mjs"

# Hash of every input file: same inputs, same hash, no rebuild.
inputs_hash="$(cd "$root" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
old_id="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if [ -n "$old_id" ]; then
  old_hash="$(docker image inspect --format '{{index .Config.Labels "dockmaster.demo-inputs"}}' "$image" 2>/dev/null || true)"
  if [ "$old_hash" = "$inputs_hash" ]; then
    echo "build-image: $image is up to date (inputs $inputs_hash)"
    exit 0
  fi
fi

# Check the tree runs before importing it: the same node, only the copied libraries.
if command -v chroot >/dev/null && [ "$(id -u)" = "0" ]; then
  env -i "$(command -v chroot)" "$root" /usr/bin/node -e 'process.exit(0)' || {
    echo "build-image: node does not run inside the image tree (missing library?)" >&2
    exit 1
  }
fi

tar -C "$root" -c . | docker import \
  --change 'CMD ["node", "/app/demo-app.mjs"]' \
  --change 'ENV PATH=/usr/bin:/bin' \
  --change 'WORKDIR /app' \
  --change "LABEL dockmaster.demo-inputs=$inputs_hash" \
  --message "dockmaster demo app (node $("$node_bin" --version))" \
  - "$image" >/dev/null

if [ -n "$old_id" ]; then
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi
echo "build-image: built $image (node $("$node_bin" --version), $(du -sh "$root" | cut -f1))"
