# tools/common.sh — shared by tools/demo.sh and tools/test.sh (sourced).
# Installs what a fresh Debian 12 machine lacks, builds and installs smig,
# and runs throwaway PostgreSQL clusters as the postgres OS user.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
export PG_CONFIG

# Install the Debian packages that are missing (needs root).
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "missing packages: ${missing[*]} (run as root, or install them first)" >&2
            exit 2
        fi
        echo "== installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

BASE_PACKAGES="postgresql-15 postgresql-server-dev-15 make gcc"

# Build smig with no warnings allowed, and install it into the server.
build_install() {
    echo "== building and installing smig"
    make -s clean >/dev/null
    make -s COPT=-Werror >/dev/null
    make -s install >/dev/null
}

# smig 0.1's release commit: t/008_extension_upgrade.pl upgrades a database
# that the real 0.1 set up.
SMIG_0_1_COMMIT=7b32beb042bec226cdc24f5bc653ea3a852dbdfb

# build_old_release DIR: build smig 0.1 from its release commit and install
# it into a copy of this PostgreSQL tree under DIR (PostgreSQL's binaries
# find their files relative to themselves), and export SMIG_OLD_INSTALL, the
# copy's installation directory, for t/008.  Returns 1, and exports
# nothing, when this checkout has no history to build 0.1 from; 2 when the
# build fails.
build_old_release() {
    local dir=$1 bindir sharedir incdir libdir d cfg
    git cat-file -e "$SMIG_0_1_COMMIT^{commit}" 2>/dev/null || return 1
    bindir=$("$PG_CONFIG" --bindir)
    sharedir=$("$PG_CONFIG" --sharedir)
    incdir=$("$PG_CONFIG" --pkgincludedir)
    libdir=$("$PG_CONFIG" --pkglibdir)
    if [ -z "$bindir" ] || [ -z "$sharedir" ] || [ -z "$incdir" ] || [ -z "$libdir" ]; then
        echo "could not read the installation's directories from $PG_CONFIG" >&2
        return 2
    fi
    for d in "$(dirname "$bindir")" "$sharedir" "$incdir"; do
        mkdir -p "$dir/root$d"
        cp -a "$d/." "$dir/root$d/"
    done
    rm -f "$dir/root$sharedir"/extension/smig.control "$dir/root$sharedir"/extension/smig--*.sql \
          "$dir/root$libdir/smig.so"
    mkdir -p "$dir/src"
    git archive "$SMIG_0_1_COMMIT" | tar -x -C "$dir/src"
    cfg="$dir/root$bindir/pg_config"
    # (called from an "if": set -e is off here, so every failure is checked)
    make -s -C "$dir/src" PG_CONFIG="$cfg" >"$dir/build.log" 2>&1 &&
        make -s -C "$dir/src" PG_CONFIG="$cfg" install >>"$dir/build.log" 2>&1 || {
        echo "could not build smig 0.1 (see $dir/build.log):" >&2
        tail -n 20 "$dir/build.log" >&2
        return 2
    }
    SMIG_OLD_INSTALL="$dir/root$(dirname "$bindir")"
    export SMIG_OLD_INSTALL
}

# Run a command as the postgres OS user (initdb and postgres refuse root).
as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

# make_pg_dir VAR NAME [BASE]: set VAR to a new directory the postgres user
# owns under BASE (default /tmp); cleanup_dirs stops its server and removes
# it.  (It sets a variable rather than printing the path: in a $(...)
# subshell the registration for cleanup would be lost.)
CLEANUP_DIRS=()
make_pg_dir() {
    local d
    d=$(mktemp -d "${3:-/tmp}"/smig-"$2".XXXXXX)
    chown postgres: "$d" 2>/dev/null || true
    chmod 755 "$d"
    CLEANUP_DIRS+=("$d")
    printf -v "$1" '%s' "$d"
}

# start_cluster DIR: a throwaway server listening only on a socket in DIR.
start_cluster() {
    local dir=$1
    as_postgres "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p 5432" start >/dev/null
    export PGHOST=$dir PGPORT=5432 PGUSER=postgres
}

stop_cluster() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] &&
        as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
}

cleanup_dirs() {
    local d
    for d in "${CLEANUP_DIRS[@]}"; do
        stop_cluster "$d"
        rm -rf "$d"
    done
}
