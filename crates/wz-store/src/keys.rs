//! The names of what a store keeps next to a session's log: the claim that
//! makes a ballot unique and the counter of its rating. The names are the
//! store's business (like table and key names); the hub says what a record
//! claims and counts, this module names it.

/// The claim of delegate `delegate`'s ballot on `unit` in `evaluation`: held
/// by the ballot's id, so a second ballot (by retry, race or a second
/// server) can never be recorded.
pub fn ballot_claim(evaluation: u32, unit: &str, delegate: &str) -> String {
    format!("ballot/{evaluation}/{unit}/{delegate}")
}

/// The counter of ballots rating `unit` as `rating` in `evaluation`.
pub fn tally_counter(evaluation: u32, unit: &str, rating: &str) -> String {
    format!("tally/{evaluation}/{unit}/{rating}")
}

/// The evaluation a claim or counter belongs to, if it is one of these.
pub fn evaluation_of(key: &str) -> Option<u32> {
    let mut parts = key.split('/');
    match parts.next() {
        Some("ballot" | "tally") => parts.next()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_evaluation() {
        assert_eq!(ballot_claim(2, "minzheng", "d017"), "ballot/2/minzheng/d017");
        assert_eq!(tally_counter(2, "minzheng", "satisfied"), "tally/2/minzheng/satisfied");
        assert_eq!(evaluation_of(&ballot_claim(7, "u", "d")), Some(7));
        assert_eq!(evaluation_of(&tally_counter(8, "u", "r")), Some(8));
        assert_eq!(evaluation_of("other/1"), None);
        assert_eq!(evaluation_of("ballot/x/u/d"), None);
    }
}
