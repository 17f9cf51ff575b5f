// toy anyhow: what its build script printed reaches rustc (a cfg with a space, a variable with one)
#[cfg(feature = "a b")]
pub fn toy() -> &'static str {
    env!("TOY_ENV")
}
