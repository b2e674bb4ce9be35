//! GPT-2's reversible byte <-> character map, used by every byte-level BPE vocabulary.
//!
//! Byte-level BPE works on bytes, but its vocabulary is stored as strings. GPT-2 makes each
//! of the 256 byte values a printable character so that no token contains whitespace or
//! control characters: the 188 bytes that are already printable Latin-1 (`!`..=`~`,
//! `¡`..=`¬`, `®`..=`ÿ`) stand for themselves, and the other 68 (controls, space, DEL,
//! NBSP, soft hyphen) become U+0100.. in byte order, so the space byte is `Ġ` (U+0120) and
//! `\n` is `Ċ` (U+010A). This module only maps single values; it never sees token strings.

/// Number of bytes that are remapped above U+00FF.
const REMAPPED: usize = 68;

/// Whether GPT-2 keeps this byte as the Latin-1 character of the same value.
const fn is_kept(b: u32) -> bool {
    matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff)
}

/// `BYTE_TO_CHAR[b]` is the character that stands for byte `b`.
const BYTE_TO_CHAR: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut next = 0x100;
    let mut b = 0;
    while b < 256 {
        let code = if is_kept(b as u32) {
            b as u32
        } else {
            next += 1;
            next - 1
        };
        // Evaluated at compile time: every code is below U+0144, a valid scalar value.
        table[b] = match char::from_u32(code) {
            Some(c) => c,
            None => panic!("byte map code point out of range"),
        };
        b += 1;
    }
    table
};

/// `REMAPPED_TO_BYTE[c - 0x100]` is the byte that code point `c` (U+0100..) stands for.
const REMAPPED_TO_BYTE: [u8; REMAPPED] = {
    let mut table = [0u8; REMAPPED];
    let mut b = 0;
    while b < 256 {
        if !is_kept(b as u32) {
            table[BYTE_TO_CHAR[b] as usize - 0x100] = b as u8;
        }
        b += 1;
    }
    table
};

/// The character that stands for `byte` in a byte-level vocabulary.
pub(crate) fn byte_to_char(byte: u8) -> char {
    BYTE_TO_CHAR[usize::from(byte)]
}

/// The byte that `c` stands for, or `None` when `c` is not one of the 256 byte characters.
pub(crate) fn char_to_byte(c: char) -> Option<u8> {
    let c = u32::from(c);
    if is_kept(c) {
        u8::try_from(c).ok()
    } else {
        let index = usize::try_from(c.checked_sub(0x100)?).ok()?;
        REMAPPED_TO_BYTE.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_characters() {
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(b'\t'), 'ĉ');
        assert_eq!(byte_to_char(0), 'Ā');
        assert_eq!(byte_to_char(b'a'), 'a');
        assert_eq!(byte_to_char(0xad), 'Ń');
        assert_eq!(byte_to_char(0xff), 'ÿ');
    }

    #[test]
    fn round_trips_all_bytes_and_rejects_others() {
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            assert!(seen.insert(c), "byte {b} maps to a duplicate {c:?}");
            assert_eq!(char_to_byte(c), Some(b));
        }
        for c in [' ', '\n', '\u{ad}', '\u{144}', 'é', '東'] {
            if !seen.contains(&c) {
                assert_eq!(char_to_byte(c), None, "{c:?}");
            }
        }
    }
}
