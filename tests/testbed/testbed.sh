#!/usr/bin/env bash
# The Docker test bed: host packages, a Docker engine, qemu for the foreign architecture and the
# systemd base images that Molecule and the lab run. Every step is idempotent and says what it does.
#
#   testbed.sh host-deps   Debian packages the controller needs (python venv, debootstrap, qemu, ...)
#   testbed.sh docker      a Docker engine that answers, and binfmt for arm64/amd64 emulation
#   testbed.sh images      base images for amd64 and arm64 (reused while their recipe is unchanged)
#   testbed.sh all         the three above, in that order
#   testbed.sh apt-sources the apt sources the images get (from this machine's)
#   testbed.sh recipe-hash ARCH   the recipe fingerprint an up-to-date image carries
#   testbed.sh nginx-tarball VERSION DIR   nginx's upstream tarball from Debian's source archive (offline builds)
#
# Environment: TESTBED_ARCHES (default "amd64 arm64"), TESTBED_MIRROR (Debian mirror for debootstrap;
# default: the one this machine's apt sources use), TESTBED_WORKDIR (default /var/tmp/flaskstack-testbed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/testbed/base-image.env
. "$here/base-image.env"

ARCHES=${TESTBED_ARCHES:-amd64 arm64}
WORKDIR=${TESTBED_WORKDIR:-/var/tmp/flaskstack-testbed}
RECIPE_LABEL=org.flaskstack.testbed.recipe

say() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }
native_arch() { dpkg --print-architecture 2>/dev/null || uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/'; }
qemu_name() { case "$1" in amd64) echo x86_64 ;; arm64) echo aarch64 ;; *) die "unsupported architecture '$1' (amd64 or arm64)" ;; esac; }

apt_updated=false
apt_install() {
    # Installs the packages that are not installed yet; one `apt-get update` per run at most.
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    is_root && have_apt || die "missing packages: ${missing[*]}. Install them (Debian: apt-get install ${missing[*]}) or run as root on Debian."
    say "Installing Debian packages: ${missing[*]}"
    if ! $apt_updated; then
        apt-get update -q >/dev/null
        apt_updated=true
    fi
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

needs_foreign_arch() {
    local arch native
    native=$(native_arch)
    for arch in $ARCHES; do [ "$arch" != "$native" ] && return 0; done
    return 1
}

cmd_host_deps() {
    local pkgs=(git make)
    python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
    if have_apt; then
        apt_install "${pkgs[@]}" debootstrap
        needs_foreign_arch && apt_install qemu-user-static binfmt-support
    fi
    # nginx on the controller: the nginx_validate unit tests run the real binary.
    # (Only the binary is used; the controller's nginx service is not started or configured.)
    have_apt && apt_install nginx-light
    # wrk: the load generator of benchmarks/stack.py (make bench).
    have_apt && apt_install wrk
    # ssh and ssh-keygen: the consumer scenario reaches its hosts over SSH, as a user does.
    have_apt && apt_install openssh-client
    return 0
}

docker_answers() { docker info >/dev/null 2>&1; }

cmd_docker() {
    if docker_answers; then
        say "Docker engine answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
    else
        command -v dockerd >/dev/null 2>&1 || {
            is_root && have_apt || die "no Docker engine answers and this is not root on Debian: start Docker (or install it) and run again."
            apt_install docker.io
        }
        command -v docker >/dev/null 2>&1 || apt_install docker.io
        if ! docker_answers; then
            say "Starting dockerd"
            if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
                systemctl start docker.service || true
            fi
            if ! docker_answers; then
                mkdir -p /var/log
                setsid nohup dockerd >/var/log/flaskstack-dockerd.log 2>&1 </dev/null &
            fi
            for _ in $(seq 1 60); do docker_answers && break; sleep 1; done
            docker_answers || die "dockerd did not answer within 60 s; see /var/log/flaskstack-dockerd.log"
        fi
        say "Docker engine answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
    fi
    needs_foreign_arch && ensure_binfmt
    return 0
}

ensure_binfmt() {
    local arch q native
    native=$(native_arch)
    for arch in $ARCHES; do
        [ "$arch" = "$native" ] && continue
        q=$(qemu_name "$arch")
        if grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$q"; then
            grep -qs '^flags:.*F' "/proc/sys/fs/binfmt_misc/qemu-$q" \
                || die "qemu-$q is registered without the F (fix-binary) flag; containers cannot use it. Install Debian's qemu-user-static."
            continue
        fi
        apt_install qemu-user-static binfmt-support
        is_root || die "binfmt for $arch is not enabled; as root run: update-binfmts --enable qemu-$q"
        say "Enabling $arch emulation (binfmt qemu-$q)"
        [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
        update-binfmts --enable "qemu-$q" >/dev/null
        grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$q" || die "could not enable binfmt qemu-$q"
    done
}

LOCAL_CAS=/usr/local/share/ca-certificates

recipe_hash() {
    # The image is rebuilt when (and only when) this changes: the recipe files, the architecture and
    # the certificate authorities this machine trusts locally (the images trust them too).
    { cat "$here/base-image.env" "$here/base-image-setup.sh"; echo "arch=$1"; cat "$LOCAL_CAS"/*.crt 2>/dev/null || true; } \
        | sha256sum | cut -c1-16
}

image_recipe() { docker image inspect -f "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null || true; }

apt_repos() {
    # "uri|label|codename" of the Debian repositories this machine's apt uses.
    apt-get indextargets --format '$(REPO_URI)|$(LABEL)|$(CODENAME)' 'Created-By: Packages' 2>/dev/null | sort -u
}

debian_mirror() {
    if [ -n "${TESTBED_MIRROR:-}" ]; then echo "$TESTBED_MIRROR"; return; fi
    local uri
    uri=$(apt_repos | awk -F'|' '$2 == "Debian" && $3 !~ /-/ && !n++ { print $1 }')
    [ -n "$uri" ] || die "no Debian mirror in this machine's apt sources; set TESTBED_MIRROR to one."
    echo "$uri"
}

apt_source_lines() {
    # Sources for the image: the release, its updates and security, from the mirrors this machine uses.
    local mirror security
    mirror=$(debian_mirror)
    security=$(apt_repos | awk -F'|' '$2 == "Debian-Security" && !n++ { print $1 }')
    echo "deb $mirror $BASE_SUITE main"
    echo "deb $mirror $BASE_SUITE-updates main"
    [ -n "$security" ] && echo "deb $security $BASE_SUITE-security main"
    return 0
}

upstream_available() {
    # True when the upstream image for $1 is present or can be pulled; tagged $BASE_IMAGE:upstream-$1.
    local arch=$1 ref="$BASE_UPSTREAM_IMAGE"
    if ! docker image inspect "$ref" >/dev/null 2>&1 \
        || [ "$(docker image inspect -f '{{.Architecture}}' "$ref")" != "$arch" ]; then
        timeout 120 docker pull -q --platform "linux/$arch" "$ref" >/dev/null 2>&1 || return 1
    fi
    [ "$(docker image inspect -f '{{.Architecture}}' "$ref")" = "$arch" ] || return 1
    docker tag "$ref" "$BASE_IMAGE:upstream-$arch"
}

upstream_rootfs() {
    # Unpacks the upstream image for $1 (see upstream_available) into $2.
    local arch=$1 dir=$2 cid
    cid=$(docker create "$BASE_IMAGE:upstream-$arch" /bin/true)
    docker export "$cid" | tar -x -C "$dir"
    docker rm -f "$cid" >/dev/null
}

build_rootfs() {
    local arch=$1 dir=$2 how=$3
    if [ "$how" = upstream ]; then
        upstream_rootfs "$arch" "$dir"
        cp /etc/resolv.conf "$dir/etc/resolv.conf"
    else
        debootstrap --variant=minbase --arch="$arch" --include="$BASE_PACKAGES" \
            "$BASE_SUITE" "$dir" "$(debian_mirror)"
    fi
    cp "$here/base-image-setup.sh" "$dir/base-image-setup.sh"
    # A machine behind a TLS-inspecting proxy trusts its CA locally; containers need the same trust
    # to reach PyPI over HTTPS.
    mkdir -p "$dir$LOCAL_CAS"
    cp "$LOCAL_CAS"/*.crt "$dir$LOCAL_CAS"/ 2>/dev/null || true
    mount -t proc proc "$dir/proc"
    local rc=0
    APT_SOURCES="$(apt_source_lines)" PACKAGES="$BASE_PACKAGES" chroot "$dir" /bin/sh /base-image-setup.sh || rc=$?
    umount "$dir/proc"
    rm -f "$dir/base-image-setup.sh"
    : > "$dir/etc/resolv.conf"
    return $rc
}

clean_rootfs() {
    # A build that was killed may have left /proc mounted inside its root file system.
    local dir=$1
    if [ -d "$dir/proc" ] && mountpoint -q "$dir/proc"; then umount -l "$dir/proc"; fi
    rm -rf "$dir"
}

build_image() {
    # Builds $BASE_IMAGE:$arch from scratch; output goes to $WORKDIR/$arch.log.
    local arch=$1 how=$2 hash=$3 dir="$WORKDIR/rootfs-$arch"
    clean_rootfs "$dir"
    trap 'clean_rootfs "$dir"' EXIT
    mkdir -p "$dir"
    build_rootfs "$arch" "$dir" "$how"
    tar -C "$dir" --numeric-owner -c . | docker import \
        -c 'ENV container=docker' \
        -c 'CMD ["/sbin/init"]' \
        -c "LABEL $RECIPE_LABEL=$hash" \
        - "$BASE_IMAGE:$arch" >/dev/null
}

cmd_images() {
    docker_answers || die "no Docker engine answers; run '$0 docker' first (make does)."
    mkdir -p "$WORKDIR"
    # One image build at a time on this machine (two checkouts, or a developer and CI).
    exec 9>"$WORKDIR/.lock"
    flock 9
    local arch hash how pids=() names=() native start=$SECONDS
    native=$(native_arch)
    for arch in $ARCHES; do
        hash=$(recipe_hash "$arch")
        if [ "$(image_recipe "$BASE_IMAGE:$arch")" = "$hash" ]; then
            say "Base image $BASE_IMAGE:$arch is up to date (recipe $hash), reusing it"
            continue
        fi
        is_root || die "building base images needs root (debootstrap, chroot)."
        # Pulls are tried one at a time (they share a tag); builds then run side by side.
        if upstream_available "$arch"; then how=upstream; else how=debootstrap; fi
        [ "$how" = debootstrap ] && apt_install debootstrap
        if [ "$arch" != "$native" ]; then
            ensure_binfmt
            say "Building $BASE_IMAGE:$arch from $how under emulation (about 4-6 minutes; log: $WORKDIR/$arch.log)"
        else
            say "Building $BASE_IMAGE:$arch from $how (about 1-2 minutes; log: $WORKDIR/$arch.log)"
        fi
        build_image "$arch" "$how" "$hash" >"$WORKDIR/$arch.log" 2>&1 &
        pids+=($!)
        names+=("$arch")
    done
    local i failed=0
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            say "Built $BASE_IMAGE:${names[$i]}"
        else
            failed=1
            printf 'ERROR: building %s:%s failed; last lines of %s:\n' "$BASE_IMAGE" "${names[$i]}" "$WORKDIR/${names[$i]}.log" >&2
            tail -n 25 "$WORKDIR/${names[$i]}.log" >&2
        fi
    done
    [ $failed = 0 ] || exit 1
    [ ${#pids[@]} -gt 0 ] && say "Base images built in $((SECONDS - start)) s"
    return 0
}

nginx_tarball() {
    # Fetches the pristine upstream tarball of nginx $1 from Debian's source archive (it carries
    # nginx_<version>.orig.tar.gz unchanged) with apt's own tools, into $2/nginx-$1.tar.gz.
    local version=$1 dest=$2 mirror aptdir suite debver uri hash
    [ -f "$dest/nginx-$version.tar.gz" ] && { say "nginx-$version.tar.gz already in $dest"; return 0; }
    mirror=$(debian_mirror)
    aptdir=$(mktemp -d "${TMPDIR:-/tmp}/flaskstack-aptsrc.XXXXXX")
    mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$dest"
    for suite in bullseye bookworm trixie; do echo "deb-src $mirror $suite main"; done > "$aptdir/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o APT::Sandbox::User=root)
    say "Fetching nginx $version's upstream tarball from Debian's source archive"
    apt-get -q "${opts[@]}" update >/dev/null
    debver=$(apt-cache "${opts[@]}" showsrc nginx | awk -v v="$version" '$1 == "Version:" && index($2, v "-") == 1 && !found { print $2; found = 1 }')
    [ -n "$debver" ] || { rm -rf "$aptdir"; die "no Debian source package carries nginx $version (try 1.18.0, 1.22.1 or 1.26.3)"; }
    read -r uri hash < <(apt-get "${opts[@]}" source --print-uris --only-source "nginx=$debver" 2>/dev/null \
        | awk -v f="nginx_$version.orig.tar.gz" '$2 == f { gsub("\x27", "", $1); print $1, $4 }')
    [ -n "$uri" ] || { rm -rf "$aptdir"; die "Debian's nginx $debver has no $version orig tarball"; }
    /usr/lib/apt/apt-helper "${opts[@]}" download-file "$uri" "$dest/nginx-$version.tar.gz.part" "$hash" >/dev/null
    mv "$dest/nginx-$version.tar.gz.part" "$dest/nginx-$version.tar.gz"
    rm -rf "$aptdir"
    say "nginx-$version.tar.gz ($hash) in $dest"
}

case "${1:-}" in
    host-deps) cmd_host_deps ;;
    docker) cmd_docker ;;
    images) cmd_images ;;
    all) cmd_host_deps; cmd_docker; cmd_images ;;
    apt-sources) apt_source_lines ;;
    recipe-hash) recipe_hash "${2:?usage: $0 recipe-hash ARCH}" ;;
    nginx-tarball) nginx_tarball "${2:?usage: $0 nginx-tarball VERSION DIR}" "${3:?usage: $0 nginx-tarball VERSION DIR}" ;;
    *) echo "usage: $0 host-deps|docker|images|all|apt-sources|recipe-hash ARCH|nginx-tarball VERSION DIR" >&2; exit 2 ;;
esac
