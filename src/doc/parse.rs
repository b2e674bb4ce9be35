//! Reading the model's answers: the DocAssist `<intent>: ...` / `<response> ... </response>`
//! format when present (plain text otherwise), and the list of questions of `suggest`.
//! Parsing never fails: text in an unexpected shape is returned as it is, trimmed.

/// An answer split into the DocAssist intent (if the model wrote one) and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub intent: Option<String>,
    pub body: String,
}

/// Parses `<intent>: X` and the text between `<response>` and `</response>` (or the end,
/// when generation stopped first). Without a `<response>` tag the whole text, minus an
/// intent line, is the body.
pub fn parse_response(text: &str) -> Response {
    let intent = text.find("<intent>").and_then(|at| {
        let rest = text[at + "<intent>".len()..].trim_start_matches([':', ' ', '\t']);
        let value = rest.lines().next().unwrap_or("").trim();
        let value = value.split("<response>").next().unwrap_or("").trim();
        (!value.is_empty()).then(|| value.to_string())
    });
    let body = match text.find("<response>") {
        Some(at) => {
            let rest = &text[at + "<response>".len()..];
            rest.split("</response>").next().unwrap_or("")
        }
        None if intent.is_some() => {
            // `<intent>: X` followed by the answer on the next lines.
            let at = text.find("<intent>").unwrap_or(0);
            text[at..].split_once('\n').map_or("", |(_, rest)| rest)
        }
        None => text,
    };
    Response {
        intent,
        body: body.trim().to_string(),
    }
}

/// The questions of a numbered or bulleted list (or one question per line), cleaned of
/// their markers and emphasis, in order, without duplicates, at most `max`. A line is
/// taken when it carries a list marker or ends with a question mark; lead-ins such as
/// "Here are three questions:" are skipped. Fewer than `max` may come back: nothing is
/// invented.
pub fn parse_questions(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let (had_marker, rest) = strip_marker(line.trim());
        let q = rest.trim().trim_matches(['*', '_', '"', '`']).trim();
        // "**Question 1:** text" and "Q1: text" keep only the text.
        let q = strip_label(q);
        if q.is_empty() || q.ends_with(':') {
            continue;
        }
        if !(had_marker || q.ends_with('?')) {
            continue;
        }
        let q = q.to_string();
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&q)) {
            out.push(q);
        }
        if out.len() == max {
            break;
        }
    }
    out
}

/// Removes a list marker ("1.", "2)", "(3)", "-", "*", "•") and says whether there was one.
fn strip_marker(line: &str) -> (bool, &str) {
    for bullet in ["- ", "* ", "• ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return (true, rest);
        }
    }
    let inner = line.strip_prefix('(').unwrap_or(line);
    let digits = inner.len() - inner.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && digits <= 3 {
        let rest = &inner[digits..];
        if let Some(rest) = rest.strip_prefix(['.', ')', ':']) {
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                return (true, rest);
            }
        }
    }
    (false, line)
}

/// Removes a leading "Question 2:" / "Q2:" label (with optional emphasis).
fn strip_label(q: &str) -> &str {
    let lower = q.to_ascii_lowercase();
    for label in ["question", "q"] {
        if let Some(rest) = lower.strip_prefix(label) {
            let rest = rest.trim_start_matches(' ');
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let after = &rest[digits..];
            let after = after.trim_start_matches(' ');
            if let Some(after) = after.strip_prefix(':') {
                let cut = q.len() - after.len();
                return q[cut..].trim().trim_start_matches(['*', '_']).trim();
            }
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docassist_format_is_parsed() {
        let r = parse_response(
            "<intent>: summarization\n<response>\nSolar panels make power.\n</response>",
        );
        assert_eq!(r.intent.as_deref(), Some("summarization"));
        assert_eq!(r.body, "Solar panels make power.");
        // Generation cut before the closing tag.
        let r = parse_response("<intent>: question_answering\n<response>\nTen years");
        assert_eq!(r.body, "Ten years");
        // An intent line without response tags.
        let r = parse_response("<intent>: summarization\nIt is about the sun.");
        assert_eq!(r.intent.as_deref(), Some("summarization"));
        assert_eq!(r.body, "It is about the sun.");
    }

    #[test]
    fn plain_text_is_the_body() {
        let r = parse_response("  The document explains solar power.\n");
        assert_eq!(r.intent, None);
        assert_eq!(r.body, "The document explains solar power.");
        assert_eq!(parse_response("").body, "");
    }

    #[test]
    fn numbered_and_bulleted_questions() {
        let text =
            "Here are three questions:\n\n1. What is a solar cell?\n2) How do inverters work?\n\
                    - **Why do panels face south?**\n* Question 4: What does net metering mean?";
        assert_eq!(
            parse_questions(text, 10),
            [
                "What is a solar cell?",
                "How do inverters work?",
                "Why do panels face south?",
                "What does net metering mean?"
            ]
        );
        assert_eq!(parse_questions(text, 2).len(), 2);
    }

    #[test]
    fn plain_lines_duplicates_and_noise() {
        let text = "What is solar power?\nSome remark without a question.\nwhat is solar power?\n\
                    Q2: How much does it cost?\n1.5 kW is typical.";
        assert_eq!(
            parse_questions(text, 5),
            ["What is solar power?", "How much does it cost?"]
        );
        assert!(parse_questions("No questions here.", 3).is_empty());
    }
}
