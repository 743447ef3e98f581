#!/bin/sh
# The image's entrypoint: seed the model folder, then run the command (the image's CMD, `python -m digitlab serve ...`).
#
# DIGITLAB_MODEL_DIR is a volume that every replica shares (compose: a named volume; Kubernetes: a
# ReadWriteMany claim), where the Train page also saves the models it trains. A new volume is empty, so
# every start copies each model shipped in the image (DIGITLAB_SHIPPED_MODELS, default /app/model:
# NAME.keras and its card NAME.json) into it when the file is absent there. It never overwrites: a file
# already on the volume stays as it is (to take a newer image's version of a shipped model, delete its
# two files from the volume and restart a replica). This needs no init container or job: whichever replica
# starts first seeds the volume. Each file is copied under a hidden temporary name and renamed into place
# without replacing anything, so a replica listing the folder meanwhile (the app skips hidden files and
# models without a card) never sees half a file, and replicas starting together do not get in each other's way.
set -eu

shipped="${DIGITLAB_SHIPPED_MODELS:-/app/model}"
target="${DIGITLAB_MODEL_DIR:-}"

if [ -n "$target" ] && [ "$target" != "$shipped" ]; then
    mkdir -p "$target"
    # Cards first: a model file is listed only once its card is beside it.
    for source in "$shipped"/*.json "$shipped"/*.keras; do
        [ -f "$source" ] || continue
        name="$(basename "$source")"
        [ -e "$target/$name" ] && continue
        temporary="$target/.$name.seed-$$.tmp"
        cp "$source" "$temporary"
        # Some coreutils versions make `mv -n` fail when it skips: what matters is that the file is there.
        mv -n "$temporary" "$target/$name" || [ -e "$target/$name" ]
        rm -f "$temporary"
    done
fi

exec "$@"
