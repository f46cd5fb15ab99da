#!/usr/bin/env bash
# Put goodsad-studio in the desktop's application menu for the current user (no root): the desktop entry, the icon
# at every size and the AppStream metainfo go under ${XDG_DATA_HOME:-~/.local/share}.
#
#   packaging/linux/install.sh [TARGET]          install, launching TARGET
#   packaging/linux/install.sh --uninstall       remove what install put there
#   packaging/linux/install.sh --system-libs [TARGET]
#                                                install the system libraries Qt needs for a window and that this
#                                                machine lacks (apt-get, through sudo unless run as root)
#
# TARGET is a virtual environment with goodsad-studio installed in it (its bin/goodsad-studio is used), a frozen
# build's folder (its goodsad-studio executable), or the executable itself. Default: the frozen build this script
# sits in (build_frozen.sh copies it there), else the checkout's .venv. The entry's Exec and TryExec get TARGET's
# absolute path, so the launcher works without goodsad-studio on PATH and disappears from the menu if TARGET is
# deleted. Run it again after moving TARGET.
set -euo pipefail

APP_ID=io.github.goodsad_studio.GoodsadStudio
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
SIZES="16 32 48 64 128 256"

die() { echo "install.sh: $*" >&2; exit 1; }

usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; }

# Where the entry, metainfo and icons to install are: a checkout (packaging/linux beside resources/) or a frozen
# build (the PyInstaller spec bundles both under _internal/).
find_assets() {
    local root
    for root in "$HERE/../.." "$HERE/_internal"; do
        if [ -f "$root/packaging/linux/$APP_ID.desktop" ] && [ -d "$root/resources/icons/hicolor" ]; then
            (cd "$root" && pwd)
            return
        fi
    done
    die "cannot find the desktop entry and icons next to $HERE (expected a goodsad-studio checkout or frozen build)"
}

# The absolute path of the goodsad-studio executable that TARGET names.
find_executable() {
    local target=$1
    if [ -z "$target" ]; then
        if [ -x "$HERE/goodsad-studio" ] && [ -d "$HERE/_internal" ]; then
            target=$HERE/goodsad-studio
        else
            target=$HERE/../../.venv
        fi
    fi
    [ -e "$target" ] \
        || die "$target does not exist (give a virtual environment, a frozen build folder or an executable)"
    if [ -d "$target" ]; then
        if [ -x "$target/bin/goodsad-studio" ]; then
            target=$target/bin/goodsad-studio
        elif [ -x "$target/goodsad-studio" ]; then
            target=$target/goodsad-studio
        else
            die "$target has neither bin/goodsad-studio (a virtual environment) nor goodsad-studio (a frozen build)"
        fi
    fi
    [ -x "$target" ] || die "$target is not executable"
    echo "$(cd "$(dirname "$target")" && pwd)/$(basename "$target")"
}

# Bring the desktop's caches up to date, only where they exist already: a user icon-theme.cache or mimeinfo.cache
# made here and then left stale by another program would hide that program's icons or types.
refresh_caches() {
    if [ -f "$DATA/applications/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$DATA/applications" || true
    fi
    touch "$DATA/icons/hicolor" 2>/dev/null || true  # icon theme lookups check the folder's time
    if [ -f "$DATA/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true
    fi
}

# The desktop entry with Exec pointing at the absolute path (in double quotes, the desktop entry spec's quoting)
# and a TryExec line, so the menu hides the entry once that path is gone.
write_entry() {
    local template=$1 exe=$2 line found=0
    while IFS= read -r line; do
        case $line in
            "Exec=goodsad-studio "*)
                printf 'Exec="%s" %s\nTryExec=%s\n' "$exe" "${line#Exec=goodsad-studio }" "$exe"
                found=1 ;;
            *) printf '%s\n' "$line" ;;
        esac
    done < "$template"
    [ $found = 1 ] || die "$template has no 'Exec=goodsad-studio ...' line to point at $exe"
}

installed_files() {
    echo "$DATA/applications/$APP_ID.desktop"
    echo "$DATA/metainfo/$APP_ID.metainfo.xml"
    echo "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
    for size in $SIZES; do
        echo "$DATA/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
    done
}

uninstall() {
    local file removed=0
    while read -r file; do
        if [ -e "$file" ]; then
            rm -f "$file"
            echo "removed $file"
            removed=$((removed + 1))
        fi
    done < <(installed_files)
    if [ -d "$DATA/icons/hicolor" ]; then refresh_caches; fi
    echo "goodsad-studio: $removed file(s) removed from $DATA"
}

install() {
    local assets exe size
    assets=$(find_assets)
    exe=$(find_executable "${1:-}")
    case $exe in
        *[\"\`\$\\%]*) die "the path $exe holds a character a desktop entry cannot quote (\" \` \$ \\ %): move it" ;;
    esac
    mkdir -p "$DATA/applications" "$DATA/metainfo" "$DATA/icons/hicolor/scalable/apps"
    write_entry "$assets/packaging/linux/$APP_ID.desktop" "$exe" > "$DATA/applications/$APP_ID.desktop.tmp"
    mv "$DATA/applications/$APP_ID.desktop.tmp" "$DATA/applications/$APP_ID.desktop"
    cp "$assets/packaging/linux/$APP_ID.metainfo.xml" "$DATA/metainfo/"
    cp "$assets/resources/icons/goodsad-studio.svg" "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
    for size in $SIZES; do
        local apps=icons/hicolor/${size}x${size}/apps
        mkdir -p "$DATA/$apps"
        cp "$assets/resources/$apps/$APP_ID.png" "$DATA/$apps/"
    done
    if command -v desktop-file-validate >/dev/null; then
        desktop-file-validate "$DATA/applications/$APP_ID.desktop"
    fi
    refresh_caches
    installed_files | sed 's/^/installed /'
    echo "goodsad-studio: in the application menu as 'goodsad-studio', launching $exe"
    # the studio's own check: the apt-get line for any library its window lacks (it refuses to start without them)
    "$exe" system-libs --window || echo "goodsad-studio: run $0 --system-libs to install them" >&2
}

# apt-get the Debian packages that the studio's window lacks on this machine (it names them itself)
system_libs() {
    local exe packages
    exe=$(find_executable "${1:-}")
    packages=$("$exe" system-libs --packages)
    if [ -z "$packages" ]; then
        echo "goodsad-studio: every system library Qt needs is installed"
        return
    fi
    command -v apt-get >/dev/null || die "no apt-get here: install the packages $packages with this system's tool"
    echo "goodsad-studio: installing $packages"
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y $packages
    else
        sudo apt-get install -y $packages
    fi
}

case ${1:-} in
    -h|--help) usage ;;
    --uninstall) [ $# -eq 1 ] || die "--uninstall takes no other argument"; uninstall ;;
    --system-libs) [ $# -le 2 ] || die "--system-libs takes at most one TARGET"; system_libs "${2:-}" ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ $# -le 1 ] || die "give at most one TARGET (see --help)"; install "${1:-}" ;;
esac
