//! Finds libaddrpool for the linker.
//!
//! In order:
//! 1. `ADDRPOOL_LIB_DIR=<dir>`: the directory holding libaddrpool.so (and
//!    libaddrpool.a), e.g. a meson build's `lib/` or an install's libdir.
//! 2. The `pkg-config` program (or `$PKG_CONFIG`) asked for `addrpool`, so
//!    `PKG_CONFIG_PATH` / `PKG_CONFIG_SYSROOT_DIR` work as for a C program.
//! 3. Neither: `-laddrpool` on the linker's default path, with a warning.
//!
//! `ADDRPOOL_STATIC=1` links libaddrpool.a instead of the shared library,
//! plus what it needs (libsecp256k1, libcrypto, the C++ runtime): from
//! `pkg-config --static` where pkg-config is used, else those three.
//!
//! A shared library must also be found at run time: installed in a system
//! libdir (after ldconfig), or through `LD_LIBRARY_PATH`.
use std::env;
use std::path::Path;
use std::process::Command;

/// What libaddrpool.a needs beyond itself when pkg-config cannot say.
const STATIC_DEPS: [&str; 3] = ["secp256k1", "crypto", "stdc++"];

fn main() {
    for var in [
        "ADDRPOOL_LIB_DIR",
        "ADDRPOOL_STATIC",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    let static_link = env::var("ADDRPOOL_STATIC").map(|v| v == "1").unwrap_or(false);

    if let Some(dir) = env::var_os("ADDRPOOL_LIB_DIR").filter(|d| !d.is_empty()) {
        let dir = Path::new(&dir);
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:lib_dir={}", dir.display());
        link_addrpool(static_link);
        if static_link {
            for lib in STATIC_DEPS {
                println!("cargo:rustc-link-lib=dylib={}", lib);
            }
        }
        return;
    }

    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let mut args = vec!["--libs"];
    if static_link {
        args.push("--static");
    }
    args.push("addrpool");
    match Command::new(&program).args(&args).output() {
        Ok(out) if out.status.success() => {
            let flags = String::from_utf8_lossy(&out.stdout).into_owned();
            emit_pkg_config_flags(&flags, static_link);
        }
        Ok(out) => {
            println!(
                "cargo:warning=`{} {}` failed ({}); linking -laddrpool from the default path. \
                 Install addrpool (meson install), point PKG_CONFIG_PATH at its addrpool.pc, \
                 or set ADDRPOOL_LIB_DIR.",
                program,
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            fallback(static_link);
        }
        Err(e) => {
            println!(
                "cargo:warning=cannot run `{}` ({}); linking -laddrpool from the default path. \
                 Install pkg-config or set ADDRPOOL_LIB_DIR.",
                program, e
            );
            fallback(static_link);
        }
    }
}

fn link_addrpool(static_link: bool) {
    let kind = if static_link { "static" } else { "dylib" };
    println!("cargo:rustc-link-lib={}=addrpool", kind);
}

fn fallback(static_link: bool) {
    link_addrpool(static_link);
    if static_link {
        for lib in STATIC_DEPS {
            println!("cargo:rustc-link-lib=dylib={}", lib);
        }
    }
}

/// Turns pkg-config's `--libs` output into cargo directives: -L dirs, -l
/// names, and absolute library paths (some .pc files list those).
fn emit_pkg_config_flags(flags: &str, static_link: bool) {
    let mut saw_addrpool = false;
    let mut saw_cxx = false;
    for flag in flags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
            println!("cargo:lib_dir={}", dir);
        } else if let Some(name) = flag.strip_prefix("-l") {
            if name == "addrpool" {
                saw_addrpool = true;
                link_addrpool(static_link);
            } else {
                saw_cxx |= name == "stdc++";
                println!("cargo:rustc-link-lib=dylib={}", name);
            }
        } else if flag.starts_with('/') {
            let path = Path::new(flag);
            match (path.parent(), library_name(path)) {
                (Some(dir), Some(name)) => {
                    println!("cargo:rustc-link-search=native={}", dir.display());
                    println!("cargo:rustc-link-lib=dylib={}", name);
                }
                _ => println!("cargo:warning=ignoring pkg-config flag {}", flag),
            }
        } else if flag != "-pthread" {
            // -pthread needs nothing on glibc >= 2.34 (libpthread is in libc).
            println!("cargo:warning=ignoring pkg-config flag {}", flag);
        }
    }
    if !saw_addrpool {
        link_addrpool(static_link);
    }
    if static_link && !saw_cxx {
        println!("cargo:rustc-link-lib=dylib=stdc++");
    }
}

/// "/usr/lib/x86_64-linux-gnu/libboost_atomic.so.1.74.0" -> "boost_atomic".
fn library_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_prefix("lib")?;
    let end = stem.find(".so").or_else(|| stem.find(".a"))?;
    Some(stem[..end].to_string())
}
