//! The installer's tokenizer: Python's `shlex.split(line, comments=True)` in POSIX mode, reproduced
//! state for state (`Lib/shlex.py`, `read_token`), because the ESXi installer hands every command
//! line to exactly that call.
//!
//! What that means for a kickstart line:
//! - space, tab, `\r` and `\n` separate words;
//! - `'…'` keeps everything literally; `"…"` keeps everything except that `\"` and `\\` are
//!   unescaped (any other `\x` stays two characters);
//! - outside quotes `\x` is `x` — even `\` + newline, which yields a word holding a newline;
//! - `#` outside quotes ends the line, **even in the middle of a word** (`pa#ss` is `pa`);
//! - a quote left open is the error "No closing quotation"; a `\` as the very last character is
//!   "No escaped character".
//!
//! Each word keeps its byte span in the line and whether any part of it was quoted, so the linter
//! can point at it and tell an empty `""` from nothing.

use std::ops::Range;

/// One word of a command line, after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as the installer sees it.
    pub text: String,
    /// Byte range of the word in the line, quotes included.
    pub span: Range<usize>,
    /// Whether any part of the word was inside quotes.
    pub quoted: bool,
}

/// Why a line cannot be tokenized; the installer stops with this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A `'` or `"` is never closed on the line.
    #[error("No closing quotation")]
    NoClosingQuotation,
    /// The line ends right after a `\`.
    #[error("No escaped character")]
    NoEscapedCharacter,
}

/// The words of one line and, when a `#` cut it, where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tokens {
    pub words: Vec<Word>,
    /// Byte offset of the `#` that started a comment, if any.
    pub comment_at: Option<usize>,
    /// Whether that `#` was in the middle of a word, silently cutting its value.
    pub comment_cuts_word: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between words.
    Space,
    /// Inside an unquoted word.
    Word,
    /// Inside a quote opened by this character.
    Quote(char),
    /// After a `\`; holds the state to return to (`Word` or `Quote('"')`).
    Escape(Escaped),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Escaped {
    Word,
    DoubleQuote,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Split `line` exactly as `shlex.split(line, comments=True)` does. Pass the line with its
/// trailing `\n` when it has one: the installer does, and it changes what a final `\` means.
pub fn split(line: &str) -> Result<Tokens, TokenError> {
    let mut out = Tokens::default();
    let mut state = State::Space;
    let mut token = String::new();
    let mut quoted = false;
    let mut start = 0;

    for (at, c) in line.char_indices() {
        match state {
            State::Space => {
                if is_space(c) {
                    continue;
                }
                start = at;
                match c {
                    '#' => {
                        out.comment_at = Some(at);
                        return Ok(out);
                    }
                    '\\' => state = State::Escape(Escaped::Word),
                    '\'' | '"' => state = State::Quote(c),
                    _ => {
                        token.push(c);
                        state = State::Word;
                    }
                }
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    state = State::Word;
                } else if q == '"' && c == '\\' {
                    state = State::Escape(Escaped::DoubleQuote);
                } else {
                    token.push(c);
                }
            }
            State::Escape(back) => {
                // Inside double quotes only the quote and the escape character itself are escaped.
                if back == Escaped::DoubleQuote && c != '\\' && c != '"' {
                    token.push('\\');
                }
                token.push(c);
                state = match back {
                    Escaped::Word => State::Word,
                    Escaped::DoubleQuote => State::Quote('"'),
                };
            }
            State::Word => {
                if is_space(c) {
                    emit(&mut token, &mut quoted, start..at, &mut out);
                    state = State::Space;
                } else if c == '#' {
                    out.comment_at = Some(at);
                    out.comment_cuts_word = true;
                    emit(&mut token, &mut quoted, start..at, &mut out);
                    return Ok(out);
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else if c == '\\' {
                    state = State::Escape(Escaped::Word);
                } else {
                    token.push(c);
                }
            }
        }
    }
    match state {
        State::Space => {}
        State::Word => emit(&mut token, &mut quoted, start..line.len(), &mut out),
        State::Quote(_) => return Err(TokenError::NoClosingQuotation),
        State::Escape(_) => return Err(TokenError::NoEscapedCharacter),
    }
    Ok(out)
}

/// Close the current word: shlex emits it when it has text or was quoted (`''` is a word).
fn emit(token: &mut String, quoted: &mut bool, span: Range<usize>, out: &mut Tokens) {
    if !token.is_empty() || *quoted {
        out.words.push(Word {
            text: std::mem::take(token),
            span,
            quoted: *quoted,
        });
    }
    *quoted = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line)
            .unwrap()
            .words
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    #[test]
    fn hash_cuts_mid_word() {
        assert_eq!(words("rootpw pa#ss\n"), ["rootpw", "pa"]);
        let t = split("rootpw pa#ss").unwrap();
        assert!(t.comment_cuts_word);
        let t = split("rootpw pass # comment").unwrap();
        assert!(!t.comment_cuts_word);
        assert_eq!(t.comment_at, Some(12));
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            words(r#"keyboard 'US Default'"#),
            ["keyboard", "US Default"]
        );
        assert_eq!(words(r#"a "b\"c\\d\e""#), ["a", r#"b"c\d\e"#]);
        assert_eq!(words(r#"a\ b 'c\d'"#), ["a b", r"c\d"]);
        assert_eq!(
            words(r#"x --nameserver="1.1.1.1,8.8.8.8""#),
            ["x", "--nameserver=1.1.1.1,8.8.8.8"]
        );
        assert_eq!(words("a '' \"\""), ["a", "", ""]);
        assert_eq!(words("a \\\n"), ["a", "\n"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("a 'b"), Err(TokenError::NoClosingQuotation));
        assert_eq!(split("a \"b\n"), Err(TokenError::NoClosingQuotation));
        assert_eq!(split("a \\"), Err(TokenError::NoEscapedCharacter));
        assert_eq!(split("a \"\\"), Err(TokenError::NoEscapedCharacter));
        // A quote after the comment sign does not count.
        assert_eq!(words("a # 'b"), ["a"]);
    }

    #[test]
    fn spans_cover_quotes() {
        let t = split("net --ip=\"1.2.3.4\" x").unwrap();
        assert_eq!(t.words[1].span, 4..18);
        assert!(t.words[1].quoted);
        assert_eq!(t.words[2].span, 19..20);
    }
}
