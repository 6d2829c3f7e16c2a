//! The tokenizer on any line: no panic, and every word's span lies inside the line.
#![no_main]

use esxforge_kickstart::parse::shlex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &str| {
    if let Ok(tokens) = shlex::split(line) {
        for w in tokens.words {
            assert!(line.get(w.span.clone()).is_some());
        }
    }
});
