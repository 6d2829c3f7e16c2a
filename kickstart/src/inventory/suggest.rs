//! "Did you mean" for unknown keys, names and choices.

/// The candidate closest to `word`, if it is close enough to be the intended one.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["vlan", "mtu", "uplinks", "teaming"];
        assert_eq!(did_you_mean("vlna", &keys), Some("vlan"));
        assert_eq!(did_you_mean("uplink", &keys), Some("uplinks"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }
}
