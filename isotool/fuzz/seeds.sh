#!/usr/bin/env bash
# Makes a seed corpus for the `reader` fuzz target from images built by xorriso and genisoimage
# (plain, Joliet, Rock Ridge with a link and a deep tree, El Torito BIOS+UEFI). Each seed is an
# image without its first 32 KiB, which the target puts back as zeros.
set -euo pipefail
cd "$(dirname "$0")"
corpus=corpus/reader
mkdir -p "$corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/isolinux" "$work/src/a/b/c/d/e/f/g/h/i"
head -c 4096 /usr/lib/ISOLINUX/isolinux.bin > "$work/src/isolinux/isolinux.bin"
printf 'DEFAULT x\n' > "$work/src/isolinux/isolinux.cfg"
head -c 8192 /dev/zero > "$work/src/efiboot.img"
printf 'deep\n' > "$work/src/a/b/c/d/e/f/g/h/i/deep.txt"
printf 'read me\n' > "$work/src/README.TXT"
ln -s README.TXT "$work/src/link"
boot=(-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table
      -eltorito-alt-boot -e efiboot.img -no-emul-boot)
make() { # name, tool, options...
    local name=$1 tool=$2; shift 2
    if [ "$tool" = xorriso ]; then set -- -as mkisofs "$@"; fi
    "$tool" "$@" -quiet -no-pad -o "$work/$name.iso" "$work/src" 2>/dev/null
    tail -c +32769 "$work/$name.iso" > "$corpus/$name"
}
make plain genisoimage
make joliet genisoimage -J
make rockridge genisoimage -R -J
make boot-rr xorriso -R -J "${boot[@]}"
make boot-plain genisoimage "${boot[@]}"
ls -l "$corpus"
