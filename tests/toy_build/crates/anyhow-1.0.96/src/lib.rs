pub fn toy() {}
