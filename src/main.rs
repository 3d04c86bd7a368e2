//! evmdiff command line (being written).
fn main() {}
