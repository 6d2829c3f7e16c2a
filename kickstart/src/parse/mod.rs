//! A kickstart file read the way the ESXi installer (weasel, `kickstartfile.py` and the scripted
//! install preparser) reads it.
//!
//! The model, in the installer's own terms:
//! - The file is split into lines at `\n`; every `\r\n` is first turned into `\n`.
//! - A line outside a script section is a **command**: its words come from
//!   [`shlex::split`] (Python's `shlex.split(line, comments=True)`); the first word is the command
//!   name, the rest are its arguments. A line with no words (blank, or only a comment) is nothing.
//! - A command named `%pre`, `%post` or `%firstboot` opens a **section**: its header words are the
//!   section's options, and every following line belongs to its body, untouched, until the next
//!   line whose raw text *starts with* `%post`, `%pre`, `%packages`, `%vmlicense_text`,
//!   `%firstboot`, `%include` or `include` ([`TERMINATORS`]). There is no `%end`.
//! - Quirk kept on purpose: when that terminating line is the very last line of the file, the
//!   installer consumes it with the body and never reads it ([`Kickstart::dropped_last_line`]).
//!
//! Arguments are words; [`Command::args`] shows them as the installer's grammar does: a word with
//! an `=` is split at the first `=` (`--ip=10.0.0.2` is `--ip` with value `10.0.0.2`).
//!
//! ```
//! use esxforge_kickstart::parse::{Arg, Kickstart};
//!
//! let ks = Kickstart::parse("vmaccepteula\nnetwork --bootproto=dhcp --device=vmnic0\n%firstboot --interpreter=busybox\nesxcli system hostname set --fqdn=esx01\n");
//! let network = ks.command("network").unwrap();
//! assert_eq!(network.line, 2);
//! assert_eq!(network.value("--bootproto"), Some("dhcp"));
//! assert_eq!(network.args().nth(1), Some(Arg::Flag { name: "--device", value: Some("vmnic0") }));
//! let firstboot = &ks.sections[0];
//! assert_eq!(firstboot.header.value("--interpreter"), Some("busybox"));
//! assert_eq!(firstboot.body, "esxcli system hostname set --fqdn=esx01\n");
//! assert_eq!(firstboot.body_lines, 4..5);
//! ```

pub mod shlex;

use std::ops::Range;

pub use shlex::{TokenError, Word};

/// Raw line prefixes that end a script section (`kickstartfile.py` `keyWords`, checked with
/// `str.startswith`: no leading space allowed, no word boundary needed).
pub const TERMINATORS: [&str; 7] = [
    "%post",
    "%pre",
    "%packages",
    "%vmlicense_text",
    "%firstboot",
    "%include",
    "include",
];

/// Whether a raw line ends a script section.
pub fn is_terminator(raw: &str) -> bool {
    TERMINATORS.iter().any(|t| raw.starts_with(t))
}

/// A parsed kickstart file: its commands and script sections, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kickstart {
    /// Every command line outside script bodies (section headers are in [`Self::sections`]).
    pub commands: Vec<Command>,
    /// Every `%pre`, `%post` and `%firstboot` section.
    pub sections: Vec<Section>,
    /// Lines the installer cannot read; it stops at each.
    pub errors: Vec<LineError>,
    /// Line numbers (1-based) that ended with `\r\n`.
    pub crlf_lines: Vec<usize>,
    /// The line the installer swallows: a terminator that is the file's last line, right after
    /// a section body.
    pub dropped_last_line: Option<usize>,
    /// Number of lines in the file.
    pub line_count: usize,
}

/// One command line: `network --bootproto=static --ip=10.0.0.2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// 1-based line number.
    pub line: usize,
    /// The first word: `network`, `%include`, `%post`, …
    pub name: String,
    /// The words after the name, in order.
    pub words: Vec<Word>,
    /// Where a `#` cut the line, and whether it cut a word in two.
    pub comment_at: Option<usize>,
    pub comment_cuts_word: bool,
    /// The line as written (without its line ending).
    pub raw: String,
}

/// An argument as the installer's grammar sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// A word that starts with `--`: `--flag`, or `--flag=value` split at the first `=`.
    Flag {
        name: &'a str,
        value: Option<&'a str>,
    },
    /// Any other word (`rootpw`'s password, `keyboard`'s layout, `part`'s datastore name).
    Positional(&'a str),
}

impl<'a> Arg<'a> {
    fn of(word: &'a str) -> Arg<'a> {
        if word.starts_with("--") {
            match word.split_once('=') {
                Some((name, value)) => Arg::Flag {
                    name,
                    value: Some(value),
                },
                None => Arg::Flag {
                    name: word,
                    value: None,
                },
            }
        } else {
            Arg::Positional(word)
        }
    }
}

impl Command {
    /// The arguments, in order.
    pub fn args(&self) -> impl Iterator<Item = Arg<'_>> {
        self.words.iter().map(|w| Arg::of(&w.text))
    }

    /// Whether flag `name` is given (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.flag(name).is_some()
    }

    /// The first occurrence of flag `name` (the installer keeps the first of duplicates):
    /// `Some(None)` for a bare `--flag`, `Some(Some(v))` for `--flag=v`.
    pub fn flag(&self, name: &str) -> Option<Option<&str>> {
        self.args().find_map(|a| match a {
            Arg::Flag { name: n, value } if n == name => Some(value),
            _ => None,
        })
    }

    /// The value of the first `--name=value`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flag(name).flatten()
    }

    /// The words that are not `--flags`.
    pub fn positionals(&self) -> impl Iterator<Item = &str> {
        self.args().filter_map(|a| match a {
            Arg::Positional(p) => Some(p),
            Arg::Flag { .. } => None,
        })
    }
}

/// The three kinds of script section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// Runs while the file is parsed, before anything is installed.
    Pre,
    /// Runs after the image is written, before the installer reboots.
    Post,
    /// Runs once at the first boot of the installed host (skipped under UEFI Secure Boot).
    Firstboot,
}

impl SectionKind {
    /// The header keyword: `%pre`, `%post` or `%firstboot`.
    pub fn keyword(self) -> &'static str {
        match self {
            SectionKind::Pre => "%pre",
            SectionKind::Post => "%post",
            SectionKind::Firstboot => "%firstboot",
        }
    }

    /// The kind a command name opens, if any.
    pub fn from_keyword(name: &str) -> Option<SectionKind> {
        match name {
            "%pre" => Some(SectionKind::Pre),
            "%post" => Some(SectionKind::Post),
            "%firstboot" => Some(SectionKind::Firstboot),
            _ => None,
        }
    }
}

/// A script section: its header (options) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    /// The header line as a command (`%post --interpreter=busybox`); `header.line` is its line.
    pub header: Command,
    /// The body exactly as the installer hands it to the interpreter (lines joined with `\n`).
    pub body: String,
    /// 1-based line numbers of the body (empty when there is none).
    pub body_lines: Range<usize>,
    /// The line that ended the body, when one did (not the end of the file).
    pub ended_by: Option<usize>,
}

impl Section {
    /// The body's lines with their 1-based line numbers.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.body_lines.clone().zip(self.body.lines())
    }

    /// `--interpreter=` as given, if given.
    pub fn interpreter(&self) -> Option<&str> {
        self.header.value("--interpreter")
    }
}

/// A line the installer rejects before it can look at the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub kind: LineErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineErrorKind {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The installer decodes every line as UTF-8 and stops on bytes that are not.
    #[error("the line is not valid UTF-8")]
    NotUtf8,
}

impl Kickstart {
    /// Parse kickstart text.
    pub fn parse(text: &str) -> Kickstart {
        Self::parse_bytes(text.as_bytes())
    }

    /// Parse kickstart bytes; lines that are not UTF-8 are reported in [`Self::errors`] and read
    /// with replacement characters.
    pub fn parse_bytes(bytes: &[u8]) -> Kickstart {
        let mut ks = Kickstart::default();
        let lines = split_lines(bytes, &mut ks);
        ks.line_count = lines.len();
        let mut i = 0;
        while let Some(line) = lines.get(i) {
            i += 1;
            let number = i;
            let text = &line.text;
            let tokens = match shlex::split(text) {
                Ok(t) => t,
                Err(e) => {
                    ks.errors.push(LineError {
                        line: number,
                        kind: e.into(),
                    });
                    // A broken header still opens its section: reading its body as commands
                    // would bury the one real problem under noise.
                    if let Some(kind) = SECTION_KEYWORDS
                        .iter()
                        .find(|(k, _)| text.trim_start().starts_with(k))
                        .map(|(_, kind)| *kind)
                    {
                        let header = command(number, String::new(), Vec::new(), None, false, text);
                        i = ks.read_body(&lines, i, kind, header);
                    }
                    continue;
                }
            };
            let mut words = tokens.words.into_iter();
            let Some(first) = words.next() else {
                continue;
            };
            let cmd = command(
                number,
                first.text,
                words.collect(),
                tokens.comment_at,
                tokens.comment_cuts_word,
                text,
            );
            match SectionKind::from_keyword(&cmd.name) {
                Some(kind) => i = ks.read_body(&lines, i, kind, cmd),
                None => ks.commands.push(cmd),
            }
        }
        ks
    }

    /// Read a section body starting at line index `from`; return the index to go on at.
    fn read_body(
        &mut self,
        lines: &[Line],
        from: usize,
        kind: SectionKind,
        header: Command,
    ) -> usize {
        let mut body = String::new();
        let mut end = from;
        let mut ended_by = None;
        while let Some(line) = lines.get(end) {
            if is_terminator(&line.text) {
                ended_by = Some(end + 1);
                break;
            }
            body.push_str(&line.text);
            end += 1;
        }
        let mut next = end;
        // kickstartfile.py steps back to re-read the terminator only when it is not the last line.
        if let Some(stop) = ended_by {
            if stop == lines.len() {
                self.dropped_last_line = Some(stop);
                next = stop;
            }
        }
        self.sections.push(Section {
            kind,
            header,
            body,
            body_lines: from + 1..end + 1,
            ended_by,
        });
        next
    }

    /// The last command with this name (the one the installer keeps for single commands).
    pub fn command(&self, name: &str) -> Option<&Command> {
        self.commands.iter().rev().find(|c| c.name == name)
    }

    /// Every command with this name, in file order.
    pub fn commands_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Command> {
        self.commands.iter().filter(move |c| c.name == name)
    }

    /// The sections of one kind, in file order.
    pub fn sections_of(&self, kind: SectionKind) -> impl Iterator<Item = &Section> {
        self.sections.iter().filter(move |s| s.kind == kind)
    }
}

const SECTION_KEYWORDS: [(&str, SectionKind); 3] = [
    ("%pre", SectionKind::Pre),
    ("%post", SectionKind::Post),
    ("%firstboot", SectionKind::Firstboot),
];

fn command(
    line: usize,
    name: String,
    words: Vec<Word>,
    comment_at: Option<usize>,
    comment_cuts_word: bool,
    text: &str,
) -> Command {
    Command {
        line,
        name,
        words,
        comment_at,
        comment_cuts_word,
        raw: text.strip_suffix('\n').unwrap_or(text).to_owned(),
    }
}

/// One line of the file, `\r\n` already turned into `\n`, keeping its final `\n` as the installer
/// does (it matters to the tokenizer and to script bodies).
struct Line {
    text: String,
}

fn split_lines(bytes: &[u8], ks: &mut Kickstart) -> Vec<Line> {
    let mut lines = Vec::new();
    for (index, raw) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        let raw = match raw.strip_suffix(b"\r\n") {
            Some(stripped) => {
                ks.crlf_lines.push(number);
                let mut v = stripped.to_vec();
                v.push(b'\n');
                std::borrow::Cow::Owned(v)
            }
            None => std::borrow::Cow::Borrowed(raw),
        };
        let text = match std::str::from_utf8(&raw) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                ks.errors.push(LineError {
                    line: number,
                    kind: LineErrorKind::NotUtf8,
                });
                String::from_utf8_lossy(&raw).into_owned()
            }
        };
        lines.push(Line { text });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_run_to_the_next_terminator() {
        let ks = Kickstart::parse(
            "vmaccepteula\n%pre --interpreter=busybox\necho hi\n  %post not a terminator\n%post\nrootpw x\ninclude_dir=/x\nreboot\n",
        );
        assert_eq!(ks.commands.len(), 3);
        assert_eq!(ks.commands[1].name, "include_dir=/x");
        assert_eq!(ks.commands[1].line, 7);
        assert_eq!(ks.sections[0].body, "echo hi\n  %post not a terminator\n");
        assert_eq!(ks.sections[0].body_lines, 3..5);
        assert_eq!(ks.sections[0].ended_by, Some(5));
        assert_eq!(ks.sections[1].body, "rootpw x\n");
        assert_eq!(ks.sections[1].ended_by, Some(7));
        let lines: Vec<_> = ks.sections[0].lines().collect();
        assert_eq!(lines, [(3, "echo hi"), (4, "  %post not a terminator")]);
    }

    #[test]
    fn a_terminator_on_the_last_line_is_swallowed() {
        let ks = Kickstart::parse("%post\necho\n%firstboot\n");
        assert_eq!(ks.sections.len(), 1);
        assert_eq!(ks.dropped_last_line, Some(3));
        // Not the last line: read again as a header.
        let ks = Kickstart::parse("%post\necho\n%firstboot\necho 2\n");
        assert_eq!(ks.sections.len(), 2);
        assert_eq!(ks.dropped_last_line, None);
    }

    #[test]
    fn crlf_and_bad_bytes() {
        let ks = Kickstart::parse_bytes(b"vmaccepteula\r\nrootpw \xff\xfe1234567\n");
        assert_eq!(ks.crlf_lines, [1]);
        assert_eq!(
            ks.errors,
            [LineError {
                line: 2,
                kind: LineErrorKind::NotUtf8
            }]
        );
        assert_eq!(ks.commands[0].raw, "vmaccepteula");
    }

    #[test]
    fn args_split_at_the_first_equals() {
        let ks = Kickstart::parse("x --a=b=c --flag pos --flag=2\n");
        let c = &ks.commands[0];
        let args: Vec<_> = c.args().collect();
        assert_eq!(
            args,
            [
                Arg::Flag {
                    name: "--a",
                    value: Some("b=c")
                },
                Arg::Flag {
                    name: "--flag",
                    value: None
                },
                Arg::Positional("pos"),
                Arg::Flag {
                    name: "--flag",
                    value: Some("2")
                },
            ]
        );
        assert_eq!(c.flag("--flag"), Some(None));
        assert_eq!(c.positionals().collect::<Vec<_>>(), ["pos"]);
    }

    #[test]
    fn broken_header_still_opens_its_section() {
        let ks = Kickstart::parse("%post --interpreter=\"busybox\nnetwork --x\n");
        assert_eq!(ks.errors.len(), 1);
        assert!(ks.commands.is_empty());
        assert_eq!(ks.sections[0].body, "network --x\n");
    }
}
