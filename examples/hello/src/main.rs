fn main() {
    println!("hello from a pinned nix build");
}
