//! How much the renderer may do: threads, pixels and time.

use std::num::NonZeroUsize;
use std::thread;
use std::time::Duration;

/// The limits of a [`Renderer`](crate::Renderer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImagingSettings {
    /// How many renders run at once (at least 1 is used). Default: the available cores.
    pub threads: usize,
    /// The most pixels (width × height, from the header) a source may have. Default:
    /// 50 000 000.
    pub max_pixels: u64,
    /// How long a call waits for a slot, and then how long it waits for its render.
    /// Default: 10 s.
    pub time_limit: Duration,
}

impl ImagingSettings {
    /// The default pixel limit: 50 megapixels (an 8660×5773 photo; about 200 MB as RGBA).
    pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;
    /// The default time limit.
    pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);
}

impl Default for ImagingSettings {
    fn default() -> Self {
        Self {
            threads: thread::available_parallelism().map_or(1, NonZeroUsize::get),
            max_pixels: Self::DEFAULT_MAX_PIXELS,
            time_limit: Self::DEFAULT_TIME_LIMIT,
        }
    }
}
