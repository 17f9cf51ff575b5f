// Real crates from the registry (anyhow runs a build script): a release of this crate is built by nix
// from static.crates.io's `.crate` files, as a consumer's build fetches them.
fn main() -> anyhow::Result<()> {
    let mut buffer = itoa::Buffer::new();
    println!("hello from a pinned nix build, with {} crates", buffer.format(2));
    Ok(())
}
