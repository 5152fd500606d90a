//! Rebuilds the crate when a migration is added, changed or removed: the migrations are
//! embedded at compile time, and a new directory alone would not make cargo rebuild.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
