// toy anyhow: what its build script printed reaches rustc (a cfg with a space, a variable with one)
#[cfg(feature = "a b")]
pub fn toy() -> &'static str {
    env!("TOY_ENV")
}

// the one item examples/hello uses
pub type Result<T> = core::result::Result<T, Box<dyn std::error::Error>>;
