#!/bin/sh
# Writes the "recipe" of the Cargo workspace in the current directory to OUT:
# the root Cargo.toml and Cargo.lock, every member's Cargo.toml, and an empty
# stub for each of its build targets (src/lib.rs, src/main.rs, src/bin/*.rs,
# build.rs and any explicit `path = "….rs"`). Building the recipe compiles
# every dependency and nothing of the project, so the root Dockerfile caches
# that slow layer apart from the sources (what cargo-chef does, without a
# tool that would have to be downloaded). The recipe only changes when a
# manifest or the lock file does.
set -eu
out="$1"
mkdir -p "$out"
cp Cargo.toml Cargo.lock "$out/"

stub() {
    mkdir -p "$out/$(dirname "$1")"
    case "$1" in
    */lib.rs) printf '' >"$out/$1" ;;
    *) printf 'fn main() {}\n' >"$out/$1" ;;
    esac
}

find . -name Cargo.toml -not -path './Cargo.toml' -not -path './target/*' \
    -not -path '*/fuzz/*' | sort | while read -r manifest; do
    dir="$(dirname "$manifest")"
    dir="${dir#./}"
    mkdir -p "$out/$dir"
    cp "$manifest" "$out/$dir/Cargo.toml"
    for target in src/lib.rs src/main.rs build.rs; do
        if [ -f "$dir/$target" ]; then stub "$dir/$target"; fi
    done
    for target in "$dir"/src/bin/*.rs; do
        if [ -f "$target" ]; then stub "$target"; fi
    done
    sed -n 's/^[[:space:]]*path[[:space:]]*=[[:space:]]*"\([^"]*\.rs\)".*/\1/p' "$manifest" |
        while read -r path; do stub "$dir/$path"; done
done

# Podman's layer cache keys a COPY on the files' metadata too: fixed times
# make the recipe of an unchanged workspace byte-identical from run to run.
find "$out" -exec touch -h -d @0 {} +
