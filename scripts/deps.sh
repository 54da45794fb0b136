# Shared by scripts/quickstart and scripts/check: install Debian packages that
# are missing, directly as root or through sudo. Sourced, not executed.

# Build dependencies: compiler, autotools and the libraries configure checks for.
BUILD_PACKAGES="build-essential autoconf automake pkg-config libcurl4-openssl-dev libssl-dev
libevent-dev libsystemd-dev libjansson-dev libsqlite3-dev check"
# What the tests use besides: a real SMTP server, AWS CLI v2 for cross-checks,
# groff for the man pages, valgrind, clang for the fuzzers, Node for emulators,
# prometheus for promtool (the metrics and alert-rule checks), chromium for
# the dashboard's browser test and the backtest report (tests/e2e/backtest.sh),
# debhelper, lintian and dpkg-dev for the package.
TEST_PACKAGES="python3-aiosmtpd awscli swaks groff-base man-db valgrind gdb clang libclang-rt-14-dev
sqlite3 nodejs npm iproute2 openssl curl prometheus chromium debhelper lintian dpkg-dev"

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "need root (or sudo) to run: $*" >&2
		return 1
	fi
}

# install_packages PKG...: apt-get install only what dpkg says is missing.
install_packages() {
	missing=""
	for p in "$@"; do
		# nodejs/npm may come from elsewhere (NodeSource): a working binary is enough.
		case "$p" in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# configure_build DIR [configure args...]: autoreconf once, configure DIR out of tree.
configure_build() {
	dir=$1
	shift
	if [ -f "$top/config.status" ]; then
		# An in-tree build blocks out-of-tree ones; it is only build output.
		make -C "$top" distclean >/dev/null 2>&1 || true
	fi
	if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
		(cd "$top" && autoreconf -fi) || return 1
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/config.status" ] || [ "$top/configure" -nt "$dir/config.status" ]; then
		(cd "$dir" && "$top/configure" -q "$@") || return 1
	fi
}
