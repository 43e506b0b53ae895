#!/usr/bin/env bash
# The Docker test bed: host packages, a Docker engine, qemu for the foreign architecture and the
# systemd base images that Molecule and the lab run. Every step is idempotent and says what it does.
#
#   testbed.sh host-deps   Debian packages the controller needs (python venv, debootstrap, qemu, ...)
#   testbed.sh docker      a Docker engine that answers, and binfmt for arm64/amd64 emulation
#   testbed.sh images      the base images (BASE_IMAGES in base-image.env; reused while their recipe is unchanged)
#   testbed.sh all         the three above, in that order
#   testbed.sh apt-sources [RELEASE]   the apt sources an image of RELEASE (debian13) gets (from this machine's)
#   testbed.sh recipe-hash RELEASE:ARCH   the recipe fingerprint an up-to-date image carries
#   testbed.sh nginx-tarball VERSION DIR   nginx's upstream tarball from Debian's source archive (offline builds)
#
# Environment: TESTBED_IMAGES (default: BASE_IMAGES, e.g. "debian13:amd64 debian13:armhf"), TESTBED_MIRROR
# (Debian mirror for debootstrap; default: the one this machine's apt sources use), TESTBED_WORKDIR
# (default /var/tmp/flaskstack-testbed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/testbed/base-image.env
. "$here/base-image.env"

IMAGES=${TESTBED_IMAGES:-$BASE_IMAGES}
ARCHES=$(for image in $IMAGES; do echo "${image#*:}"; done | sort -u)
WORKDIR=${TESTBED_WORKDIR:-/var/tmp/flaskstack-testbed}
RECIPE_LABEL=org.flaskstack.testbed.recipe

say() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }
native_arch() { dpkg --print-architecture 2>/dev/null || uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/'; }
qemu_name() { case "$1" in amd64) echo x86_64 ;; arm64) echo aarch64 ;; armhf) echo arm ;; *) die "unsupported architecture '$1' (amd64, arm64 or armhf)" ;; esac; }
# The Debian suite of an image release (debian13 -> trixie), from BASE_RELEASES.
suite_of() {
    local pair
    for pair in $BASE_RELEASES; do [ "${pair%%=*}" = "$1" ] && { echo "${pair#*=}"; return 0; }; done
    die "unknown test-bed release '$1' (known: $BASE_RELEASES)"
}

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
        needs_foreign_arch && ensure_qemu
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

# qemu-user 8 or later: systemd 257 (Debian 13) starts every unit through clone(CLONE_PIDFD), which
# qemu-user 7.2 (Debian 12's) refuses with EINVAL, so no unit of an emulated Debian 13 container starts.
# Debian 12 gets qemu 10 from bookworm-backports (apt never prefers backports for anything else).
QEMU_MIN_VERSION=1:8
BACKPORTS_LIST=/etc/apt/sources.list.d/flaskstack-testbed-backports.list

machine_codename() { . /etc/os-release && echo "${VERSION_CODENAME:-}"; }

ensure_qemu() {
    local version
    version=$(dpkg-query -W -f='${Version}' qemu-user-static 2>/dev/null || true)
    if [ -n "$version" ] && dpkg --compare-versions "$version" ge "$QEMU_MIN_VERSION" \
        && dpkg-query -W -f='${Status}' binfmt-support 2>/dev/null | grep -q "install ok installed"; then
        return 0
    fi
    is_root && have_apt || die "qemu-user-static ${version:-(none)} is older than $QEMU_MIN_VERSION; install a newer one (Debian 12: from bookworm-backports)."
    if [ "$(machine_codename)" = bookworm ]; then
        say "Adding bookworm-backports (for qemu-user-static 10) from this machine's mirror: $BACKPORTS_LIST"
        echo "deb $(debian_mirror) bookworm-backports main" > "$BACKPORTS_LIST"
        apt-get update -q >/dev/null
        apt_updated=true
        say "Installing qemu-user-static from bookworm-backports"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t bookworm-backports \
            qemu-user-static binfmt-support >/dev/null
    else
        apt_install qemu-user-static binfmt-support
        version=$(dpkg-query -W -f='${Version}' qemu-user-static)
        dpkg --compare-versions "$version" ge "$QEMU_MIN_VERSION" || {
            say "Upgrading qemu-user-static $version"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --only-upgrade qemu-user-static >/dev/null
        }
    fi
    version=$(dpkg-query -W -f='${Version}' qemu-user-static)
    dpkg --compare-versions "$version" ge "$QEMU_MIN_VERSION" \
        || die "qemu-user-static $version is older than $QEMU_MIN_VERSION, which emulated Debian 13 containers need."
}

binfmt_register() {
    # Registers qemu-$1 again with the flags containers need, keeping its magic, mask and interpreter:
    # F (the interpreter is opened now, so it works inside a container's root), P (argv[0] kept), and
    # O and C (the kernel hands qemu the opened binary: systemd 257 starts every unit's executor with
    # fexecve() from a close-on-exec descriptor, which qemu could not open again by its /proc path;
    # C also keeps setuid binaries such as sudo working). These are the flags Docker's own binfmt
    # installer uses. The registration lasts until the next boot, when this runs again.
    local entry=/proc/sys/fs/binfmt_misc/qemu-$1 interpreter offset magic mask
    interpreter=$(sed -n 's/^interpreter //p' "$entry")
    offset=$(sed -n 's/^offset //p' "$entry")
    magic=$(sed -n 's/^magic //p' "$entry" | sed 's/\(..\)/\\x\1/g')
    mask=$(sed -n 's/^mask //p' "$entry" | sed 's/\(..\)/\\x\1/g')
    [ -n "$interpreter" ] && [ -n "$magic" ] || die "cannot read the binfmt entry $entry"
    echo -1 > "$entry"
    printf ':qemu-%s:M:%s:%s:%s:%s:POCF' "$1" "${offset:-0}" "$magic" "$mask" "$interpreter" \
        > /proc/sys/fs/binfmt_misc/register
}

ensure_binfmt() {
    local arch q
    ensure_qemu
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    for arch in $ARCHES; do
        [ "$arch" = "$(native_arch)" ] && continue
        q=$(qemu_name "$arch")
        if ! grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$q"; then
            is_root || die "binfmt for $arch is not enabled; as root run: update-binfmts --enable qemu-$q"
            say "Enabling $arch emulation (binfmt qemu-$q)"
            update-binfmts --enable "qemu-$q" >/dev/null
            grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$q" || die "could not enable binfmt qemu-$q"
        fi
        if ! grep -qs '^flags: *POCF$' "/proc/sys/fs/binfmt_misc/qemu-$q"; then
            is_root || die "binfmt qemu-$q lacks the flags POCF that emulated Debian 13 containers need; run this as root."
            say "Registering $arch emulation with the flags POCF (binfmt qemu-$q)"
            binfmt_register "$q"
            grep -qs '^flags: *POCF$' "/proc/sys/fs/binfmt_misc/qemu-$q" || die "could not register binfmt qemu-$q with POCF"
        fi
    done
}

LOCAL_CAS=/usr/local/share/ca-certificates

recipe_hash() {
    # The image ($1: release:arch) is rebuilt when (and only when) this changes: the recipe files (the
    # list of images aside), the release and architecture, whether it is emulated here (this machine's
    # architecture), and the certificate authorities this machine trusts locally (the images trust them too).
    case "$1" in *:*) ;; *) die "recipe-hash takes RELEASE:ARCH (e.g. debian13:amd64), not '$1'" ;; esac
    suite_of "${1%%:*}" >/dev/null
    { grep -v '^BASE_IMAGES=' "$here/base-image.env"; cat "$here/base-image-setup.sh"; echo "image=$1 native=$(native_arch)"
      cat "$LOCAL_CAS"/*.crt 2>/dev/null || true; } | sha256sum | cut -c1-16
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
    # Sources for an image of release $1: its suite, updates and security, from the mirrors this machine uses.
    local suite mirror security
    suite=$(suite_of "$1")
    mirror=$(debian_mirror)
    security=$(apt_repos | awk -F'|' '$2 == "Debian-Security" && !n++ { print $1 }')
    echo "deb $mirror $suite main"
    echo "deb $mirror $suite-updates main"
    [ -n "$security" ] && echo "deb $security $suite-security main"
    return 0
}

# Docker's name of a Debian architecture (linux/<this>).
docker_arch() { case "$1" in armhf) echo arm ;; *) echo "$1" ;; esac; }

upstream_available() {
    # True when Debian's own image for $1 (release:arch) is present or can be pulled; tagged
    # $BASE_IMAGE_REPO/<release>:upstream-<arch>.
    local release=${1%%:*} arch=${1#*:} ref
    ref="debian:$(suite_of "$release")"
    if ! docker image inspect "$ref" >/dev/null 2>&1 \
        || [ "$(docker image inspect -f '{{.Architecture}}' "$ref")" != "$(docker_arch "$arch")" ]; then
        timeout 120 docker pull -q --platform "linux/$(docker_arch "$arch")" "$ref" >/dev/null 2>&1 || return 1
    fi
    [ "$(docker image inspect -f '{{.Architecture}}' "$ref")" = "$(docker_arch "$arch")" ] || return 1
    docker tag "$ref" "$BASE_IMAGE_REPO/$release:upstream-$arch"
}

upstream_rootfs() {
    # Unpacks the upstream image for $1 (release:arch, see upstream_available) into $2.
    local cid
    cid=$(docker create "$BASE_IMAGE_REPO/${1%%:*}:upstream-${1#*:}" /bin/true)
    docker export "$cid" | tar -x -C "$2"
    docker rm -f "$cid" >/dev/null
}

build_rootfs() {
    local image=$1 dir=$2 how=$3 release=${1%%:*} arch=${1#*:}
    if [ "$how" = upstream ]; then
        upstream_rootfs "$image" "$dir"
        cp /etc/resolv.conf "$dir/etc/resolv.conf"
    else
        debootstrap --variant=minbase --arch="$arch" --include="$BASE_PACKAGES" \
            "$(suite_of "$release")" "$dir" "$(debian_mirror)"
    fi
    cp "$here/base-image-setup.sh" "$dir/base-image-setup.sh"
    # A machine behind a TLS-inspecting proxy trusts its CA locally; containers need the same trust
    # to reach PyPI over HTTPS.
    mkdir -p "$dir$LOCAL_CAS"
    cp "$LOCAL_CAS"/*.crt "$dir$LOCAL_CAS"/ 2>/dev/null || true
    mount -t proc proc "$dir/proc"
    local rc=0
    local emulated=no
    [ "$arch" = "$(native_arch)" ] || emulated=yes
    APT_SOURCES="$(apt_source_lines "$release")" PACKAGES="$BASE_PACKAGES" EMULATED=$emulated chroot "$dir" /bin/sh /base-image-setup.sh || rc=$?
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
    # Builds $BASE_IMAGE_REPO/<release>:<arch> ($1: release:arch) from scratch; output goes to
    # $WORKDIR/<release>-<arch>.log.
    local image=$1 how=$2 hash=$3 dir="$WORKDIR/rootfs-${1/:/-}"
    clean_rootfs "$dir"
    trap 'clean_rootfs "$dir"' EXIT
    mkdir -p "$dir"
    build_rootfs "$image" "$dir" "$how"
    tar -C "$dir" --numeric-owner -c . | docker import \
        -c 'ENV container=docker' \
        -c 'CMD ["/sbin/init"]' \
        -c "LABEL $RECIPE_LABEL=$hash" \
        - "$BASE_IMAGE_REPO/$image" >/dev/null
}

cmd_images() {
    docker_answers || die "no Docker engine answers; run '$0 docker' first (make does)."
    mkdir -p "$WORKDIR"
    # One image build at a time on this machine (two checkouts, or a developer and CI).
    exec 9>"$WORKDIR/.lock"
    flock 9
    local image arch hash how log pids=() names=() native start=$SECONDS
    native=$(native_arch)
    for image in $IMAGES; do
        arch=${image#*:}
        hash=$(recipe_hash "$image")
        if [ "$(image_recipe "$BASE_IMAGE_REPO/$image")" = "$hash" ]; then
            say "Base image $BASE_IMAGE_REPO/$image is up to date (recipe $hash), reusing it"
            continue
        fi
        is_root || die "building base images needs root (debootstrap, chroot)."
        # Pulls are tried one at a time (they share a tag); builds then run side by side.
        if upstream_available "$image"; then how=upstream; else how=debootstrap; fi
        [ "$how" = debootstrap ] && apt_install debootstrap
        log="$WORKDIR/${image/:/-}.log"
        if [ "$arch" != "$native" ]; then
            ensure_binfmt
            say "Building $BASE_IMAGE_REPO/$image from $how under emulation (about 2-6 minutes; log: $log)"
        else
            say "Building $BASE_IMAGE_REPO/$image from $how (about 1-2 minutes; log: $log)"
        fi
        build_image "$image" "$how" "$hash" >"$log" 2>&1 &
        pids+=($!)
        names+=("$image")
    done
    local i failed=0
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            say "Built $BASE_IMAGE_REPO/${names[$i]}"
        else
            failed=1
            printf 'ERROR: building %s/%s failed; last lines of %s:\n' "$BASE_IMAGE_REPO" "${names[$i]}" "$WORKDIR/${names[$i]/:/-}.log" >&2
            tail -n 25 "$WORKDIR/${names[$i]/:/-}.log" >&2
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
    apt-sources) apt_source_lines "${2:-debian13}" ;;
    recipe-hash) recipe_hash "${2:?usage: $0 recipe-hash RELEASE:ARCH}" ;;
    nginx-tarball) nginx_tarball "${2:?usage: $0 nginx-tarball VERSION DIR}" "${3:?usage: $0 nginx-tarball VERSION DIR}" ;;
    *) echo "usage: $0 host-deps|docker|images|all|apt-sources [RELEASE]|recipe-hash RELEASE:ARCH|nginx-tarball VERSION DIR" >&2; exit 2 ;;
esac
