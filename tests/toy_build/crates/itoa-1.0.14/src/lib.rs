// toy itoa: the one item examples/hello uses, with the real crate's shape
pub struct Buffer;

impl Buffer {
    pub fn new() -> Self {
        Buffer
    }

    pub fn format(&mut self, n: u32) -> String {
        n.to_string()
    }
}
