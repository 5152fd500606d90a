//! Image variants: smaller or re-encoded versions of a stored image, asked for with
//! `?width&height&resize&quality&format` on its `/files/…` URL (the convention of Supabase
//! Storage's image transformations, which the mobile client already appends).
//!
//! Everything here is pure: what a query asks for ([`VariantRequest::parse`]), snapped to a
//! small set of sizes so one image has a bounded number of variants ([`VariantSpec`]), where a
//! variant is stored next to its original ([`variant_key`]), and which pixels of the original
//! become which pixels of the variant ([`plan`]).

mod geometry;
mod key;
mod request;
mod spec;

pub use geometry::{CropRect, RenderPlan, plan};
pub use key::{VARIANTS_SUFFIX, original_of_variant, variant_key, variants_prefix};
pub use request::{RawVariantQuery, VariantRequest, VariantSettings, accepts_webp};
pub use spec::{OutputFormat, Resize, VariantSpec};
