//! Where variants are stored: next to their original, in the same store.
//!
//! The variants of `users/u/images/abc.png` are `users/u/images/abc.png.variants/{file}`
//! ([`VariantSpec::file_name`]); deleting an image deletes everything under
//! [`variants_prefix`]. Such keys do not have the generated-image layout
//! ([`ObjectKey::is_image`]), so nothing mistakes a variant for an image.

use super::spec::VariantSpec;
use crate::ports::ObjectKey;

/// What the name of the folder of an original's variants adds to the original's name.
pub const VARIANTS_SUFFIX: &str = ".variants";

/// The key of `original`'s variant `spec`.
pub fn variant_key(original: &ObjectKey, spec: &VariantSpec) -> ObjectKey {
    ObjectKey::from_stored(format!(
        "{}{VARIANTS_SUFFIX}/{}",
        original.as_str(),
        spec.file_name()
    ))
}

/// The prefix of every variant key of `original` (ends with `/`).
pub fn variants_prefix(original: &ObjectKey) -> String {
    format!("{}{VARIANTS_SUFFIX}/", original.as_str())
}

/// The original of a variant key; `None` for a key that is not a variant's.
pub fn original_of_variant(key: &ObjectKey) -> Option<ObjectKey> {
    let (folder, file) = key.as_str().rsplit_once('/')?;
    let original = folder.strip_suffix(VARIANTS_SUFFIX)?;
    let original_name = original.rsplit('/').next().unwrap_or(original);
    (!file.is_empty() && !original_name.is_empty())
        .then(|| ObjectKey::from_stored(original.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variant::{OutputFormat, Resize};

    #[test]
    fn variants_live_in_a_folder_beside_their_original() {
        let original = ObjectKey::from_stored("users/alice/images/abc.png");
        let spec = VariantSpec {
            width: Some(256),
            height: Some(256),
            resize: Resize::Cover,
            quality: 80,
            format: OutputFormat::Webp,
        };
        let key = variant_key(&original, &spec);
        assert_eq!(
            key.as_str(),
            "users/alice/images/abc.png.variants/v1-256x256-cover-q80.webp"
        );
        assert!(key.as_str().starts_with(&variants_prefix(&original)));
        assert!(!key.is_image());
        assert_eq!(original_of_variant(&key), Some(original.clone()));
        assert_eq!(original_of_variant(&original), None);
        assert_eq!(
            original_of_variant(&ObjectKey::from_stored(".variants/x.webp")),
            None
        );
    }
}
