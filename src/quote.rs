//! Quoting text that comes from outside (a source's lines, a config value, a server's message, a
//! folder name or header value from the network) into a message: control characters and invisible
//! direction overrides escaped, cut at [`MAX_QUOTED_CHARS`] characters, so a hostile or broken list
//! or server cannot rewrite a terminal, a log line or a pull-request comment.

use std::borrow::Cow;
use std::fmt::Write;

/// The most characters of quoted text a message shows.
pub(crate) const MAX_QUOTED_CHARS: usize = 80;

/// `` `text` ``, sanitised and cut (an ellipsis says it was cut).
pub(crate) fn quote(text: &str) -> String {
    format!("`{}`", sanitize(text))
}

/// The text without its surrounding backticks: escaped and cut at [`MAX_QUOTED_CHARS`].
pub(crate) fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_QUOTED_CHARS + 8));
    for (shown, c) in text.chars().enumerate() {
        if shown == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// The text escaped as [`sanitize`] escapes it, but whole: for text shown in full, such as a
/// server's message (already cut to its first line where it is read) or a plan's rule line.
/// Borrowed when there is nothing to escape.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    if needs_escape(c) {
        // `\u{1b}`, `\n`, `\t`: visible, and never acted on by a terminal.
        let _ = write!(out, "{}", c.escape_default());
    } else {
        out.push(c);
    }
}

/// Control characters, and the format characters that reorder or hide text.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(quote("a\u{1b}[31mred\r\n"), "`a\\u{1b}[31mred\\r\\n`");
        assert_eq!(quote("evil\u{202e}txt"), "`evil\\u{202e}txt`");
        assert_eq!(quote("plain.example"), "`plain.example`");
    }

    #[test]
    fn escape_keeps_the_whole_text() {
        let long = format!("{}\u{1b}]0;title\u{7}", "x".repeat(100));
        assert_eq!(
            escape(&long),
            format!("{}\\u{{1b}}]0;title\\u{{7}}", "x".repeat(100))
        );
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn long_text_is_cut_at_80_characters() {
        let long = "é".repeat(500);
        let quoted = sanitize(&long);
        assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(sanitize(&"x".repeat(80)), "x".repeat(80));
    }
}
