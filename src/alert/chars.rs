//! Character tables for rendering attacker text: the characters that display as nothing (so
//! they can hide or disguise text in an alert), and an ASCII transliteration for the one field
//! that must be ASCII (the SNS subject).

/// The Unicode general category Cf (format characters), Unicode 16.0: soft hyphen, Arabic
/// number signs and letter mark, zero-width space/joiners, bidi marks, embeddings, overrides and
/// isolates, word joiner and invisible operators, BOM / zero-width no-break space, interlinear
/// annotation, Kaithi/Egyptian/shorthand/musical format controls, language tag and tag
/// characters. Sorted, inclusive ranges.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// True for a format (Cf) character, any code point of the tag block (U+E0000–U+E007F,
/// including its unassigned ones, which renderers also hide), or a noncharacter
/// (U+FDD0–U+FDEF and the last two code points of every plane, U+FFFE/U+FFFF ... U+10FFFF).
pub(crate) fn is_invisible(c: char) -> bool {
    let cp = c as u32;
    let format = FORMAT
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok();
    format
        || (0xE0000..=0xE007F).contains(&cp)
        || (0xFDD0..=0xFDEF).contains(&cp)
        || cp & 0xFFFE == 0xFFFE
}

/// ASCII for U+00C0–U+017F (Latin-1 letters and Latin Extended-A): the letter without its
/// diacritics (NFKD minus combining marks), ligatures spelled out (Æ → AE, ß → ss), and the
/// letters without a decomposition by their usual spelling (Ø → O, Ł → L, Þ → TH, × → x).
const LATIN: [&str; 192] = [
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I", "D", "N", "O",
    "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "TH", "ss", "a", "a", "a", "a", "a",
    "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "/",
    "o", "u", "u", "u", "u", "y", "th", "y", "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C",
    "c", "C", "c", "D", "d", "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g",
    "G", "g", "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i", "I",
    "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L", "l", "L", "l",
    "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o", "O", "o", "OE", "oe", "R",
    "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s", "S", "s", "T", "t", "T", "t", "T", "t",
    "U", "u", "U", "u", "U", "u", "U", "u", "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z",
    "Z", "z", "Z", "z", "s",
];

/// A non-ASCII `c` in ASCII: a transliteration for Latin letters and common typography
/// (quotes, dashes, the ellipsis, spaces); None for everything else.
pub(crate) fn ascii_fold(c: char) -> Option<&'static str> {
    let cp = c as u32;
    if let Some(s) = cp.checked_sub(0xC0).and_then(|i| LATIN.get(i as usize)) {
        return Some(s);
    }
    Some(match c {
        '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => "\"",
        '\u{AB}' => "<<",
        '\u{BB}' => ">>",
        '\u{2026}' => "...",
        '\u{2022}' | '\u{B7}' => "*",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_table_is_sorted_and_disjoint() {
        assert!(FORMAT.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(FORMAT.iter().all(|(lo, hi)| lo <= hi));
    }

    #[test]
    fn invisible_classes_are_recognised() {
        for c in [
            '\u{AD}',
            '\u{600}',
            '\u{61C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{202E}',
            '\u{2060}',
            '\u{2064}',
            '\u{2069}',
            '\u{206F}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{1343F}',
            '\u{1D173}',
            '\u{E0000}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{FDD0}',
            '\u{FDEF}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1FFFE}',
            '\u{10FFFF}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in [
            'a',
            'é',
            '\u{2065}',
            '\u{FFFD}',
            '\u{E0080}',
            '\u{FDCF}',
            '日',
            '\u{1F600}',
        ] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn latin_letters_fold_to_ascii() {
        let folded: String = "ÀÉîõüÿĀčĐęğĦıĲŁńŐœŘšŦůŵžÆØßÞ×"
            .chars()
            .map(|c| ascii_fold(c).unwrap_or("?"))
            .collect();
        assert_eq!(folded, "AEiouyAcDegHiIJLnOoeRsTuwzAEOssTHx");
        assert_eq!(ascii_fold('…'), Some("..."));
        assert_eq!(ascii_fold('日'), None);
        assert_eq!(ascii_fold('\u{180}'), None);
    }
}
