//! Finds where a chunked request body ends, byte by byte across reads, without buffering: the
//! size lines (with any extensions), the data, and the trailer section. Anything it does not
//! understand makes it give up ([`Progress::Lost`]); actix-http then judges the body itself.

/// Where the follower is inside a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunked {
    /// In a chunk-size line, before any digit (`digits` false) or among them.
    Size {
        /// The size read so far.
        size: u64,
        /// Whether a hex digit was seen.
        digits: bool,
    },
    /// After the size, up to the line's end (extensions, CR).
    SizeRest {
        /// The chunk's size.
        size: u64,
    },
    /// Inside a chunk's data: this many bytes left.
    Data(u64),
    /// After a chunk's data, up to the end of the line (its CRLF).
    DataEnd,
    /// In the trailer section; `blank` while the current line is still empty.
    Trailer {
        /// Whether the current line has nothing but a CR yet.
        blank: bool,
    },
}

/// What one call to [`Chunked::advance`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// All the bytes belong to the body; more is to come.
    Inside,
    /// The body ends after this many bytes.
    Ended(usize),
    /// The framing is not understood.
    Lost,
}

impl Default for Chunked {
    /// The state at the start of a chunked body.
    fn default() -> Self {
        Self::Size {
            size: 0,
            digits: false,
        }
    }
}

impl Chunked {
    /// Follows the body through `bytes`.
    pub fn advance(&mut self, bytes: &[u8]) -> Progress {
        let mut at = 0;
        while at < bytes.len() {
            if let Self::Data(left) = self {
                let available = (bytes.len() - at) as u64;
                let taken = (*left).min(available);
                // `taken` is at most `available`, which came from a usize.
                at += usize::try_from(taken).unwrap_or(usize::MAX);
                *left -= taken;
                if *left == 0 {
                    *self = Self::DataEnd;
                }
                continue;
            }
            let byte = bytes[at];
            at += 1;
            match self.step(byte) {
                Some(true) => return Progress::Ended(at),
                Some(false) => {}
                None => return Progress::Lost,
            }
        }
        Progress::Inside
    }

    /// One byte outside chunk data: `Some(true)` when the body ended with it, `None` when lost.
    fn step(&mut self, byte: u8) -> Option<bool> {
        *self = match *self {
            Self::Size { size, digits } => match (byte as char).to_digit(16) {
                Some(digit) => Self::Size {
                    size: size.checked_mul(16)?.checked_add(u64::from(digit))?,
                    digits: true,
                },
                None if !digits => return None,
                None if byte == b'\n' => Self::after_size(size),
                None => Self::SizeRest { size },
            },
            Self::SizeRest { size } if byte == b'\n' => Self::after_size(size),
            Self::DataEnd if byte == b'\n' => Self::default(),
            state @ (Self::SizeRest { .. } | Self::DataEnd) => state,
            Self::Trailer { blank } => match byte {
                b'\n' if blank => return Some(true),
                b'\n' => Self::Trailer { blank: true },
                b'\r' => Self::Trailer { blank },
                _ => Self::Trailer { blank: false },
            },
            Self::Data(_) => return None,
        };
        Some(false)
    }

    fn after_size(size: u64) -> Self {
        if size == 0 {
            Self::Trailer { blank: true }
        } else {
            Self::Data(size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(parts: &[&[u8]]) -> Vec<Progress> {
        let mut chunked = Chunked::default();
        parts.iter().map(|part| chunked.advance(part)).collect()
    }

    #[test]
    fn the_end_is_found_whole_or_split_anywhere() {
        let body = b"5;name=value\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\nGET";
        assert_eq!(follow(&[body]), [Progress::Ended(body.len() - 3)]);
        for split in 1..body.len() - 3 {
            let (first, second) = body.split_at(split);
            assert_eq!(
                follow(&[first, second]),
                [Progress::Inside, Progress::Ended(body.len() - 3 - split)],
                "split at {split}"
            );
        }
        assert_eq!(follow(&[b"0\r\n\r\n"]), [Progress::Ended(5)]);
    }

    #[test]
    fn what_is_not_chunked_framing_is_lost() {
        assert_eq!(follow(&[b"zz\r\n"]), [Progress::Lost]);
        assert_eq!(follow(&[b"ffffffffffffffffff\r\n"]), [Progress::Lost]);
    }
}
