// toy build script: what the recording rustc "compiles" it into prints these lines, and so does
// the program a real rustc compiles it into
fn main() {
    println!("cargo:rustc-cfg=feature=\"a b\"");
    println!("cargo:rustc-check-cfg=cfg(x, values(\"a b\", \"c\"))");
    println!("cargo:rustc-link-search=native=/opt/dir with space");
    println!("cargo:rustc-link-lib=dylib=c");
    println!("cargo:rustc-env=TOY_ENV=two words");
}
