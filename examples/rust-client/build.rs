// Links libaddrpool. ADDRPOOL_LIB_DIR names the directory holding
// libaddrpool.so (a meson build dir's lib/, or an install prefix's libdir);
// unset, the system's default search path is used (an installed library).
// The directory is also put in the binary's rpath, so it runs without
// LD_LIBRARY_PATH.
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=ADDRPOOL_LIB_DIR");
    if let Ok(dir) = env::var("ADDRPOOL_LIB_DIR") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
    println!("cargo:rustc-link-lib=dylib=addrpool");
}
