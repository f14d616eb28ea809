# Sourced (not run) by the tests that install a meson build the way a
# distribution would: test/install_test.sh, test/pg/install_pg_test.sh and
# bindings/rust/outside_crate_test.sh. The caller defines die().
#
#   install_tree BUILD DEST LOG
# installs the build tree BUILD into the DESTDIR DEST, reusing its objects
# (meson test has built everything; the output goes to LOG and is printed if
# the install fails), then sets prefix, libdir, bindir and includedir to the
# build's configured directories, made absolute; root_lib is "$DEST$libdir".
install_tree() {
    meson install -C "$1" --destdir "$2" --no-rebuild --quiet >"$3" 2>&1 ||
        { cat "$3" >&2; die "meson install failed"; }
    eval "$(meson introspect "$1" --buildoptions | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for k in ("prefix", "libdir", "bindir", "includedir"):
    print("%s=%s" % (k, opts[k]))
')"
    case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
    case $bindir in /*) ;; *) bindir="$prefix/$bindir" ;; esac
    case $includedir in /*) ;; *) includedir="$prefix/$includedir" ;; esac
    root_lib="$2$libdir"
}
