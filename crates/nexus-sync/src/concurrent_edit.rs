//! When a catalogue edit made on a station is a concurrent edit worth a line in the conflict
//! log. The server applies station edits in arrival order (its authority decides, device clocks
//! never do); this rule only decides what the owner is told about.

/// An edit made while the field held `seen`, arriving when it holds `current`, writing
/// `incoming`: a conflict when someone else changed the field meanwhile (`current` is not what
/// the editor saw) to something other than what this edit writes (two people wanted different
/// values). Re-delivering an edit, or two people making the same change, is no conflict.
pub fn is_concurrent_edit<T: PartialEq>(seen: &T, current: &T, incoming: &T) -> bool {
    seen != current && incoming != current
}

#[cfg(test)]
mod tests {
    use super::is_concurrent_edit;

    #[test]
    fn only_a_change_made_meanwhile_to_another_value_conflicts() {
        assert!(
            is_concurrent_edit(&100, &120, &150),
            "someone changed it meanwhile"
        );
        assert!(
            !is_concurrent_edit(&100, &100, &150),
            "nobody else touched it"
        );
        assert!(
            !is_concurrent_edit(&100, &150, &150),
            "both wanted the same value"
        );
    }
}
