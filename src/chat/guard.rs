//! Limits for what minijinja 3.1's fuel does not meter (see the module docs of
//! [`crate::chat`]): repeating a sequence with `*` and concatenating two sequences with
//! `+` are refused when the template compiles, and printing, `| string` and `| tojson`
//! refuse values too large to turn into text.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind, Output, State};

use super::ChatError;

/// Most values (items, keys, nested items) a value may hold to be turned into text.
pub const MAX_STRINGIFIED_ITEMS: usize = 100_000;
/// Most bytes of strings a value may hold to be turned into text.
pub const MAX_STRINGIFIED_BYTES: usize = 16 << 20;

/// Refuses any `*` in the template's code that has no string literal right beside it.
///
/// `seq * n` makes a lazy sequence of up to 10^8 items in one instruction, and turning it
/// into text then runs for seconds before fuel is charged; `'-' * n` is charged before it
/// allocates. The types of other operands are unknown before rendering, so any `*` without
/// a string literal next to it is refused: chat templates multiply only strings, if at all.
/// `**` (power) is allowed. Text outside `{{ }}` and `{% %}`, comments, string literals and
/// `{% raw %}` blocks are not code.
///
/// `a + b` is refused the same way unless one operand is certainly not a sequence: a
/// string or number literal, or `bos_token`/`eos_token` when the template never binds
/// those names. minijinja concatenates two sequences lazily in one instruction, so `a + a`
/// chained ~25 times makes 10^8 items for a few fuel; a string or number operand makes
/// `+` either add numbers, join two strings (charged like any string) or fail.
pub fn check_unmetered_operators(source: &str) -> Result<(), ChatError> {
    let bytes = source.as_bytes();
    let scalar_names = unbound_token_names(bytes);
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let opener = (bytes[i], bytes.get(i + 1).copied());
        match opener {
            (b'{', Some(b'#')) => i = skip_past(bytes, i + 2, b"#}", &mut line),
            (b'{', Some(b'{')) => i = check_code(bytes, i + 2, b"}}", &mut line, &scalar_names)?,
            (b'{', Some(b'%')) => {
                let start = i + 2;
                i = check_code(bytes, start, b"%}", &mut line, &scalar_names)?;
                if is_raw_block(&bytes[start..i.saturating_sub(2).max(start)]) {
                    i = skip_raw_body(bytes, i, &mut line);
                }
            }
            (b'\n', _) => {
                line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Scans one code region from `i` to its `closer` (at bracket depth 0, outside string
/// literals) and returns the index just past the closer (or the end of the source).
fn check_code(
    bytes: &[u8],
    mut i: usize,
    closer: &[u8],
    line: &mut usize,
    scalar_names: &[&[u8]],
) -> Result<usize, ChatError> {
    let start = i;
    let mut depth = 0usize;
    while i < bytes.len() {
        if depth == 0 && bytes[i..].starts_with(closer) {
            return Ok(i + closer.len());
        }
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i = skip_string(bytes, i, quote, line);
                continue;
            }
            b'\n' => *line += 1,
            b'*' if bytes.get(i + 1) == Some(&b'*') => i += 1,
            b'*' if !ends_with_string(&bytes[start..i]) && !starts_with_string(&bytes[i + 1..]) => {
                return Err(ChatError::Compile {
                    line: Some(*line),
                    detail: "`*` must have a string literal beside it (as in `'-' * 3`): \
                             minijinja repeats sequences without charging fuel, so slimlm \
                             refuses every other multiplication"
                        .to_owned(),
                });
            }
            // `{%+` and `+%}` are whitespace control, not additions.
            b'+' if i == start || bytes[i + 1..].starts_with(closer) => {}
            b'+' if !is_scalar_before(&bytes[start..i], scalar_names)
                && !is_scalar_after(&bytes[i + 1..], scalar_names) =>
            {
                return Err(ChatError::Compile {
                    line: Some(*line),
                    detail: "`+` must have a string or number literal (or bos_token, \
                             eos_token) beside it (as in `'<|im_start|>' + role`): \
                             minijinja joins sequences without charging fuel, so slimlm \
                             refuses every other addition"
                        .to_owned(),
                });
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(i)
}

/// Whether the code before an operator ends with a string literal. (String literals are
/// skipped whole by the scan, so a quote can only end the code as a literal's end.)
fn ends_with_string(code: &[u8]) -> bool {
    matches!(trim_end(code).last(), Some(b'\'' | b'"'))
}

/// Whether the code after an operator starts with a string literal.
fn starts_with_string(code: &[u8]) -> bool {
    matches!(trim_start(code).first(), Some(b'\'' | b'"'))
}

/// The names among `bos_token` and `eos_token` that the template never binds (with `set`,
/// `for`, `with`, a macro parameter, an import or a keyword argument): they stay the
/// strings slimlm passes in. Conservative: any occurrence that could be a binding counts.
fn unbound_token_names(bytes: &[u8]) -> Vec<&'static [u8]> {
    let mut names: Vec<&'static [u8]> = Vec::new();
    for name in [&b"bos_token"[..], &b"eos_token"[..]] {
        let mut bound = false;
        let mut at = 0;
        while let Some(found) = find(&bytes[at..], name) {
            let (begin, end) = (at + found, at + found + name.len());
            at = end;
            if is_word_byte_at(bytes, begin.wrapping_sub(1)) || is_word_byte_at(bytes, end) {
                continue;
            }
            let before = trim_end(&bytes[..begin]);
            let after = trim_start(&bytes[end..]);
            let assigned = after.first() == Some(&b'=') && after.get(1) != Some(&b'=');
            let binder = matches!(
                last_word(before),
                b"set" | b"for" | b"with" | b"as" | b"import"
            ) || before.last().is_some_and(|&b| b == b',' || b == b'(');
            bound |= assigned || binder;
        }
        if !bound {
            names.push(name);
        }
    }
    names
}

/// Whether the code just before a `+` ends with an operand that is certainly not a
/// sequence: a string literal, a number, or an unbound `bos_token`/`eos_token` (not an
/// attribute: no `.` before it).
fn is_scalar_before(code: &[u8], scalar_names: &[&[u8]]) -> bool {
    if ends_with_string(code) {
        return true;
    }
    let code = trim_end(code);
    let word = last_word(code);
    let dotted = code[..code.len() - word.len()].last() == Some(&b'.');
    !word.is_empty() && !dotted && (is_number(word) || scalar_names.contains(&word))
}

/// Whether the code just after a `+` starts with an operand that is certainly not a
/// sequence (see [`is_scalar_before`]) and nothing binds it tighter: no `.`, `[`, `(` or
/// `|` follows it (`'a b'.split()` and `'ab' | list` are lists).
fn is_scalar_after(code: &[u8], scalar_names: &[&[u8]]) -> bool {
    let code = trim_start(code);
    let len = match code.first() {
        Some(&quote @ (b'\'' | b'"')) => skip_string(code, 0, quote, &mut 0),
        Some(_) => {
            let word = first_word(code);
            if word.is_empty() || !(is_number(word) || scalar_names.contains(&word)) {
                return false;
            }
            word.len()
        }
        None => return false,
    };
    !matches!(
        trim_start(&code[len..]).first(),
        Some(b'.' | b'[' | b'(' | b'|')
    )
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_word_byte_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i).copied().is_some_and(is_word_byte)
}

/// Digits with at most one `.` among them (an int or float literal).
fn is_number(word: &[u8]) -> bool {
    word.first().is_some_and(u8::is_ascii_digit)
        && word.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && word.iter().filter(|&&b| b == b'.').count() <= 1
}

/// The trailing run of word bytes and dots of a number (`1.5`) or a name.
fn last_word(code: &[u8]) -> &[u8] {
    let n = code
        .iter()
        .rev()
        .take_while(|&&b| is_word_byte(b) || b == b'.')
        .count();
    let word = &code[code.len() - n..];
    // Keep only the last dotted part unless the whole run is a number (`a.b` -> `b`).
    if is_number(word) {
        return word;
    }
    match word.iter().rposition(|&b| b == b'.') {
        Some(dot) => &word[dot + 1..],
        None => word,
    }
}

/// The leading name or number (`1.5`) of `code`.
fn first_word(code: &[u8]) -> &[u8] {
    let digits = code.first().is_some_and(u8::is_ascii_digit);
    let n = code
        .iter()
        .take_while(|&&b| is_word_byte(b) || (digits && b == b'.'))
        .count();
    &code[..n]
}

fn trim_start(code: &[u8]) -> &[u8] {
    let n = code.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &code[n..]
}

fn trim_end(code: &[u8]) -> &[u8] {
    let n = code
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    &code[..code.len() - n]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The index just past the string literal opened by `quote` at `i` (backslash escapes).
fn skip_string(bytes: &[u8], mut i: usize, quote: u8, line: &mut usize) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'\n' => *line += 1,
            b if b == quote => return i + 1,
            _ => {}
        }
        i += 1;
    }
    // A backslash as the last byte steps one past the end.
    i.min(bytes.len())
}

/// The index just past the next `end` at or after `i`, counting lines on the way.
fn skip_past(bytes: &[u8], mut i: usize, end: &[u8], line: &mut usize) -> usize {
    while i < bytes.len() && !bytes[i..].starts_with(end) {
        if bytes[i] == b'\n' {
            *line += 1;
        }
        i += 1;
    }
    (i + end.len()).min(bytes.len())
}

/// Whether a `{% %}` block's code (without its delimiters) is `raw`, with any whitespace
/// control marks.
fn is_raw_block(code: &[u8]) -> bool {
    let trimmed = code
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace() && !matches!(b, b'-' | b'+' | b'%'))
        .collect::<Vec<u8>>();
    trimmed == b"raw"
}

/// Skips a raw block's body from `i` to just past its `{% endraw %}`.
fn skip_raw_body(bytes: &[u8], mut i: usize, line: &mut usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{%") {
            let end = skip_past(bytes, i + 2, b"%}", &mut 0);
            let code = &bytes[i + 2..end.saturating_sub(2).max(i + 2)];
            let word: Vec<u8> = code
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace() && !matches!(b, b'-' | b'+'))
                .collect();
            if word == b"endraw" {
                *line += bytes[i..end].iter().filter(|&&b| b == b'\n').count();
                return end;
            }
        }
        if bytes[i] == b'\n' {
            *line += 1;
        }
        i += 1;
    }
    i
}

/// Refuses a value holding more than [`MAX_STRINGIFIED_ITEMS`] values or
/// [`MAX_STRINGIFIED_BYTES`] bytes of strings. Walks at most that many values, with an
/// explicit stack (nesting depth is the template's choice).
fn refuse_large(value: &Value) -> Result<(), Error> {
    let too_large = || {
        Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "refusing to turn into text a value of more than {MAX_STRINGIFIED_ITEMS} items \
                 or {MAX_STRINGIFIED_BYTES} bytes"
            ),
        )
    };
    let mut pending = vec![value.clone()];
    let (mut items, mut bytes) = (0usize, 0usize);
    while let Some(v) = pending.pop() {
        items += 1;
        bytes = bytes.saturating_add(v.as_str().map_or(0, str::len));
        if items > MAX_STRINGIFIED_ITEMS || bytes > MAX_STRINGIFIED_BYTES {
            return Err(too_large());
        }
        let kind = v.kind();
        if !matches!(kind, ValueKind::Seq | ValueKind::Map | ValueKind::Iterable) {
            continue;
        }
        if v.len().is_some_and(|n| n > MAX_STRINGIFIED_ITEMS - items) {
            return Err(too_large());
        }
        let Ok(children) = v.try_iter() else { continue };
        for child in children {
            if kind == ValueKind::Map {
                pending.push(v.get_item(&child).unwrap_or_default());
            }
            pending.push(child);
            if items + pending.len() > MAX_STRINGIFIED_ITEMS {
                return Err(too_large());
            }
        }
    }
    Ok(())
}

/// `{{ value }}`: minijinja's formatter after [`refuse_large`].
pub fn print_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    refuse_large(value)?;
    minijinja::escape_formatter(out, state, value)
}

/// The `string` filter after [`refuse_large`].
pub fn string(state: &State, value: &Value) -> Result<Value, Error> {
    refuse_large(value)?;
    minijinja::filters::string(state, value)
}

/// The `tojson` filter after [`refuse_large`].
pub fn tojson(value: &Value, indent: Option<Value>, args: Kwargs) -> Result<Value, Error> {
    refuse_large(value)?;
    minijinja::filters::tojson(value, indent, args)
}

/// Fuel charged per item that `list`, `split`, `lines` or `splitlines` builds, before
/// building it: a `Value` plus its string piece is about the 64 bytes minijinja charges one
/// fuel for. minijinja charges these filters only for the bytes of their result, so
/// `('x ' * 5000000).split()` built 5 million items (330 MB live) for 156k fuel; charged
/// per item, the fuel budget bounds what any template can build (tests/chat_template.rs
/// measures the heap work of every hostile template).
const FUEL_PER_BUILT_ITEM: u64 = 1;

/// Charges [`FUEL_PER_BUILT_ITEM`] for each of `items` items about to be built.
fn charge_items(state: &State, items: usize) -> Result<(), Error> {
    let items = u64::try_from(items).unwrap_or(u64::MAX);
    state.consume_fuel(items.saturating_mul(FUEL_PER_BUILT_ITEM))
}

/// Pieces `split(sep, maxsplits)` makes of `s`, counted without building them (Python's
/// and minijinja's semantics: no separator splits at whitespace runs; a negative or absent
/// `maxsplits` is unlimited).
fn split_count(s: &str, sep: Option<&str>, maxsplits: Option<i64>) -> usize {
    let pieces = match sep {
        None => s.split_whitespace().count(),
        Some(sep) => s.split(sep).count(),
    };
    match maxsplits.and_then(|n| usize::try_from(n).ok()) {
        Some(n) => pieces.min(n.saturating_add(1)),
        None => pieces,
    }
}

/// The `list` filter, charged per item.
pub fn list(state: &State, value: Value) -> Result<Value, Error> {
    let items = match value.as_str() {
        Some(s) => s.chars().count(),
        None => value.len().unwrap_or(0),
    };
    charge_items(state, items)?;
    minijinja::filters::list(state, value)
}

/// The `split` filter, charged per piece.
pub fn split(
    state: &State,
    value: Value,
    sep: Option<std::sync::Arc<str>>,
    maxsplits: Option<i64>,
) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        charge_items(state, split_count(s, sep.as_deref(), maxsplits))?;
    }
    minijinja::filters::split(&value, sep, maxsplits)
}

/// The `lines` filter, charged per line.
pub fn lines(state: &State, value: Value) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        charge_items(state, s.lines().count())?;
    }
    minijinja::filters::lines(&value)
}

/// Python string methods (minijinja-contrib's pycompat), with `str.split` and
/// `str.splitlines` charged per piece first.
pub fn python_method(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        let pieces = match method {
            "split" => {
                let sep = args.first().and_then(Value::as_str);
                let maxsplits = args.get(1).and_then(|v| i64::try_from(v.clone()).ok());
                Some(split_count(s, sep, maxsplits))
            }
            "splitlines" => Some(s.lines().count()),
            _ => None,
        };
        if let Some(pieces) = pieces {
            charge_items(state, pieces)?;
        }
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_at(source: &str) -> Option<usize> {
        match check_unmetered_operators(source) {
            Ok(()) => None,
            Err(ChatError::Compile { line, .. }) => line,
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn string_repetition_is_allowed() {
        for source in [
            "{{ '-' * 3 }}",
            "{{ 3 * '-' }}",
            "{{ \"=\" *\n 80 }}",
            "{{ 2 ** 8 }}",
            "a * b outside code {{ x }}",
            "{# a * b #}{{ x }}",
            "{{ 'a * b' }}{% set s = \"*\" %}",
            "{% raw %}{{ a * b }}{% endraw %}{{ x }}",
            "{%- raw -%}{{ a * b }}{%- endraw -%}",
            "{{ {'k': {'j': 1}} }} * text",
            "{{ 'it\\'s' * 2 }}",
        ] {
            assert_eq!(refused_at(source), None, "{source}");
        }
    }

    #[test]
    fn other_multiplication_is_refused_at_its_line() {
        for (source, line) in [
            ("{{ range(10) * 1000 }}", 1),
            ("{{ x * 2 }}", 1),
            ("text\n{% set a = [1] %}\n{{ a\n * 3 }}", 4),
            ("{{ '-' * 2 * n }}", 1),
            ("{{ ('-') * 3 }}", 1),
            ("{% raw %}*{% endraw %}\n{{ a*b }}", 2),
            ("{{ {'k': 1} }}{{ a * b }}", 1),
            ("{% if a %}{{ '*' }}{% endif %}{{ [1] * 9 }}", 1),
        ] {
            assert_eq!(refused_at(source), Some(line), "{source}");
        }
    }

    #[test]
    fn additions_need_a_scalar_operand() {
        for source in [
            "{{ '<' + role + '>' }}",
            "{{ \"a\"+x }}",
            "{{ x + 1 }}{{ 2.5 + x }}{{ -1 + x }}",
            "{{ bos_token + x }}{{ x + eos_token }}",
            "{{ m['content'] | trim + '<|eot|>' }}",
            "{%+ if x %}{% endif +%}{%- set y = 'a' + x -%}",
            "{{ x1 + 'a' }}",
            // fuzz: an unterminated literal ending in a backslash after `+`.
            "{% x + 'a\\",
        ] {
            assert_eq!(refused_at(source), None, "{source}");
        }
        for (source, line) in [
            ("{{ a + b }}", 1),
            ("{{ x\n + y }}", 2),
            ("{{ x + 'a'.split() }}", 1),
            ("{{ x + 'a'[0] }}", 1),
            ("{{ x + 'ab' | list }}", 1),
            ("{{ x.bos_token + y }}", 1),
            ("{{ x + bos_token.split() }}", 1),
            ("{{ x + y.0 }}{{ a.0 + b }}", 1),
            ("{% set bos_token = [1] %}{{ bos_token + x }}", 1),
            (
                "{% macro m(eos_token) %}{{ eos_token + x }}{% endmacro %}",
                1,
            ),
            ("{{ f(bos_token=[1]) }}{{ bos_token + x }}", 1),
            ("{{ x + 1x }}", 1),
            ("{{ x + ('a') }}", 1),
        ] {
            assert_eq!(refused_at(source), Some(line), "{source}");
        }
    }

    #[test]
    fn large_values_are_refused_small_ones_pass() {
        let small = Value::from((0..1000).collect::<Vec<i32>>());
        assert!(refuse_large(&small).is_ok());
        let long = Value::from((0..MAX_STRINGIFIED_ITEMS as i64).collect::<Vec<i64>>());
        assert!(refuse_large(&long).is_err());
        // Few items, each a reference to one large string.
        let big = Value::from("x".repeat(1 << 20));
        let many_refs = Value::from(vec![big; 17]);
        assert!(refuse_large(&many_refs).is_err());
        // Deep nesting is walked without recursion.
        let mut nested = Value::from(1);
        for _ in 0..2_000 {
            nested = Value::from(vec![nested]);
        }
        assert!(refuse_large(&nested).is_ok());
    }
}
