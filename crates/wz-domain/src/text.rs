//! Text hygiene: what free text a person typed may contain before it becomes
//! part of the official record and is shown on every screen.
//!
//! One rule set for every text a client sends (questions, follow-ups, edits,
//! answers, reasons, commitments, officials, delegate names) and for the
//! texts of a session definition (title, theme, names):
//!
//! - **normalised**: NFC, so that the same words are the same text (and
//!   limits count what a reader sees); in multi-line texts CRLF, a lone CR
//!   and U+2028/U+2029 become LF;
//! - **stripped**: leading and trailing whitespace and invisible characters
//!   (zero-width space and joiners, word joiner, BOM, soft hyphen, Hangul
//!   fillers...). Inside the text invisible characters are kept: ZWJ, ZWNJ
//!   and variation selectors are part of emoji, of some scripts and of CJK
//!   ideograph variants, and removing them would change the words;
//! - **rejected**: text with nothing visible left (only whitespace and
//!   default-ignorable characters); C0/C1 control characters (newline and tab
//!   are allowed in multi-line texts only); the bidi embedding, override and
//!   isolate characters U+202A–U+202E and U+2066–U+2069, which can reverse
//!   what a screen shows. A refusal names the character's code point, so the
//!   person can find it. The bidi *marks* U+200E, U+200F and U+061C are kept:
//!   they cannot reorder a run, and mixed-script names (e.g. Uyghur with
//!   Latin or digits) need them.
//!
//! Lengths are counted in characters (Unicode scalar values) after all of
//! the above, because a limit is about what a person reads.

use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Whether a text may span lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// Names, titles, officials, commitments: one line; tabs and line breaks are refused.
    Single,
    /// Questions, follow-ups, answers, reasons: newline and tab allowed.
    Multi,
}

/// A character a text must not contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("contains the control character {}", CodePoint(*.0))]
    Control(char),
    #[error("contains the line break {} (this text is one line)", CodePoint(*.0))]
    LineBreak(char),
    #[error("contains the bidirectional formatting character {}", CodePoint(*.0))]
    Bidi(char),
}

/// Why [`clean`] refused a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    /// Nothing visible is left.
    Empty,
    /// More than `max` characters after normalisation.
    TooLong {
        max: usize,
    },
    Bad(TextProblem),
}

/// `U+001B`: how a refusal names a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePoint(pub char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", self.0 as u32)
    }
}

/// Normalises, strips and checks one text; returns what is to be stored.
pub fn clean(s: &str, lines: Lines, max: usize) -> Result<String, TextError> {
    let mut t: String = s.nfc().collect();
    if lines == Lines::Multi && t.contains(['\r', '\u{2028}', '\u{2029}']) {
        t = t.replace("\r\n", "\n").replace(['\r', '\u{2028}', '\u{2029}'], "\n");
    }
    let t = t.trim_matches(strippable);
    check_chars(t, lines).map_err(TextError::Bad)?;
    if !t.chars().any(visible) {
        return Err(TextError::Empty);
    }
    if t.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    Ok(t.to_owned())
}

/// Checks a text that must be kept byte for byte (a client-chosen ballot id
/// is echoed exactly in the receipt): no normalisation, no stripping, but
/// the same refusals as [`clean`] for a single line.
pub fn check_verbatim(s: &str) -> Result<(), TextError> {
    check_chars(s, Lines::Single).map_err(TextError::Bad)?;
    if !s.chars().any(visible) {
        return Err(TextError::Empty);
    }
    Ok(())
}

fn check_chars(t: &str, lines: Lines) -> Result<(), TextProblem> {
    for c in t.chars() {
        match c {
            '\n' | '\t' if lines == Lines::Multi => {}
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => return Err(TextProblem::LineBreak(c)),
            c if c.is_control() => return Err(TextProblem::Control(c)),
            c if is_bidi_control(c) => return Err(TextProblem::Bidi(c)),
            _ => {}
        }
    }
    Ok(())
}

/// Embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt):
/// characters a renderer shows as nothing at all.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Variation selectors and emoji tags modify the character before them: a
/// trailing one is part of the last glyph (❤️ is U+2764 U+FE0F), never stripped.
fn is_modifier(c: char) -> bool {
    matches!(c as u32, 0x180B..=0x180D | 0x180F | 0xFE00..=0xFE0F | 0xE0020..=0xE007F | 0xE0100..=0xE01EF)
}

/// Bidi controls are default-ignorable too, but a stray one is refused
/// wherever it is, so that the refusal tells the person it was there.
fn strippable(c: char) -> bool {
    c.is_whitespace() || (is_default_ignorable(c) && !is_modifier(c) && !is_bidi_control(c))
}

fn visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !is_default_ignorable(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multi(s: &str) -> Result<String, TextError> {
        clean(s, Lines::Multi, 500)
    }
    fn single(s: &str) -> Result<String, TextError> {
        clean(s, Lines::Single, 100)
    }

    #[test]
    fn ordinary_text_is_kept_trimmed() {
        assert_eq!(multi("  村道何时修？ ").unwrap(), "村道何时修？");
        assert_eq!(single("\u{3000}张三\u{3000}").unwrap(), "张三");
    }

    #[test]
    fn text_is_normalised_to_nfc_before_the_length_is_counted() {
        // "é" as e + combining acute: two scalars in, one out.
        assert_eq!(single("Caf\u{0065}\u{0301}").unwrap(), "Caf\u{00E9}");
        let decomposed = "e\u{0301}".repeat(3);
        assert_eq!(clean(&decomposed, Lines::Single, 3).unwrap(), "\u{00E9}".repeat(3));
        assert_eq!(clean(&"问".repeat(4), Lines::Single, 3), Err(TextError::TooLong { max: 3 }));
    }

    #[test]
    fn only_invisible_characters_is_empty() {
        for s in ["", "   ", "\u{200B}", "\u{200B}\u{200D}\u{FEFF}", " \u{2060} \u{00AD} ", "\u{3164}", "\u{FE0F}", "\n\t"] {
            assert_eq!(multi(s), Err(TextError::Empty), "{s:?}");
            assert_eq!(single(s), Err(TextError::Empty), "{s:?}");
        }
    }

    #[test]
    fn invisible_characters_at_the_ends_are_stripped_and_kept_inside() {
        assert_eq!(multi("\u{FEFF}\u{200B}问题\u{200B}\u{2060}").unwrap(), "问题");
        // A family emoji is joined by ZWJ; a red heart ends in a variation selector.
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(multi(&format!("{family}好")).unwrap(), format!("{family}好"));
        assert_eq!(multi("爱心❤\u{FE0F}").unwrap(), "爱心❤\u{FE0F}");
    }

    #[test]
    fn control_characters_are_refused_with_their_code_point() {
        for c in ['\u{1B}', '\u{0}', '\u{7}', '\u{7F}', '\u{85}', '\u{9B}'] {
            let s = format!("问{c}题");
            assert_eq!(multi(&s), Err(TextError::Bad(TextProblem::Control(c))), "{s:?}");
            assert_eq!(single(&s), Err(TextError::Bad(TextProblem::Control(c))), "{s:?}");
        }
        assert_eq!(TextProblem::Control('\u{1B}').to_string(), "contains the control character U+001B");
    }

    #[test]
    fn newline_and_tab_only_in_multi_line_texts_and_crlf_becomes_lf() {
        assert_eq!(multi("一\r\n二\r三\u{2028}四\t五").unwrap(), "一\n二\n三\n四\t五");
        assert_eq!(single("一\n二"), Err(TextError::Bad(TextProblem::LineBreak('\n'))));
        assert_eq!(single("一\r\n二"), Err(TextError::Bad(TextProblem::LineBreak('\r'))));
        assert_eq!(single("一\u{2029}二"), Err(TextError::Bad(TextProblem::LineBreak('\u{2029}'))));
        assert_eq!(single("一\t二"), Err(TextError::Bad(TextProblem::Control('\t'))));
        // Line breaks at the ends of a single line are just whitespace.
        assert_eq!(single("张三\r\n").unwrap(), "张三");
    }

    #[test]
    fn bidi_overrides_and_isolates_are_refused_marks_are_kept() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            let s = format!("abc{c}def");
            assert_eq!(multi(&s), Err(TextError::Bad(TextProblem::Bidi(c))), "{s:?}");
        }
        assert_eq!(TextProblem::Bidi('\u{202E}').to_string(), "contains the bidirectional formatting character U+202E");
        assert_eq!(multi("ab\u{200F}12").unwrap(), "ab\u{200F}12");
        // A lone override at the end is refused too, not silently stripped.
        assert_eq!(multi("abc\u{202E}"), Err(TextError::Bad(TextProblem::Bidi('\u{202E}'))));
    }

    #[test]
    fn verbatim_texts_are_checked_but_not_changed() {
        assert_eq!(check_verbatim(" b1 "), Ok(()));
        assert_eq!(check_verbatim("\u{200B}"), Err(TextError::Empty));
        assert_eq!(check_verbatim("b\u{1B}1"), Err(TextError::Bad(TextProblem::Control('\u{1B}'))));
        assert_eq!(check_verbatim("b\u{202E}1"), Err(TextError::Bad(TextProblem::Bidi('\u{202E}'))));
    }
}
