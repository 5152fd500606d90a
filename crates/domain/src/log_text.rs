//! Text from outside (a token's subject) written into log lines without letting it forge or
//! hide log text.

use std::fmt;

/// Writes its text with every character that could break, forge or hide log text escaped:
///
/// - `\` as `\\`, so an escape in the output always comes from this writer;
/// - tab, line feed and carriage return as `\t`, `\n`, `\r`;
/// - control characters, whitespace other than the plain space (line and paragraph
///   separators, no-break spaces), invisible format characters such as the bidirectional
///   overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the zero-width characters
///   (U+200B–U+200D, U+2060, U+FEFF), and combining marks, as `\u{…}` with the code point in
///   hexadecimal — whatever [`char::escape_debug`] escapes except the quotes.
///
/// Any other character, letters of any script and emoji included, is written as it is, so an
/// ordinary id reads the same in the log as everywhere else, and the escaping is reversible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSafe<'a>(pub &'a str);

impl fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' | '\'' | ' ' => fmt::Write::write_char(f, c)?,
                c if c.is_whitespace() && !c.is_ascii() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => write!(f, "{}", c.escape_debug())?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        LogSafe(text).to_string()
    }

    #[test]
    fn ordinary_text_is_written_as_it_is() {
        for text in [
            "alice",
            "auth0|abc:def",
            "ユーザー名",
            "🙂",
            "{x}",
            "a%2Fb",
            "a b",
            "\"q'",
        ] {
            assert_eq!(escaped(text), text);
        }
    }

    #[test]
    fn bidi_zero_width_and_control_characters_are_escaped() {
        assert_eq!(escaped("abc\u{202e}gnp.exe"), "abc\\u{202e}gnp.exe");
        assert_eq!(escaped("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(escaped("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
        assert_eq!(escaped("\u{feff}x\u{2060}"), "\\u{feff}x\\u{2060}");
        assert_eq!(escaped("a\nuser_id=admin"), "a\\nuser_id=admin");
        assert_eq!(escaped("a\r\tb\u{1b}[31m"), "a\\r\\tb\\u{1b}[31m");
        assert_eq!(escaped("a\u{2028}b\u{a0}c"), "a\\u{2028}b\\u{a0}c");
        assert_eq!(escaped("e\u{301}"), "e\\u{301}");
    }

    #[test]
    fn backslashes_are_doubled_so_escapes_cannot_be_forged() {
        assert_eq!(escaped("a\\b"), "a\\\\b");
        assert_eq!(escaped("\\u{202e}"), "\\\\u{202e}");
        assert_ne!(escaped("\\u{202e}"), escaped("\u{202e}"));
    }

    #[test]
    fn unsafe_characters_leave_only_printable_ascii() {
        let unsafe_only = "\u{0}\u{7f}\u{85}\u{200e}\u{200f}\u{61c}\u{e0041}\u{2029}\u{3000}";
        let out = escaped(unsafe_only);
        assert!(out.chars().all(|c| c.is_ascii_graphic()), "{out:?}");
    }
}
