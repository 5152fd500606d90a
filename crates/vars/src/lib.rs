#![doc = include_str!("../README.md")]

mod declare;
mod invalid;
mod source;
mod var;

pub use invalid::InvalidSetting;
pub use source::Source;
pub use var::Var;
