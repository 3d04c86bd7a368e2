//! The network label a test file files its expectations under (a state test's `post` key, a
//! BlockchainTest's `network`): the fork's name when the expectations are mainnet's at that
//! fork, so that any client's runner replays the file; `<Fork>+<profile>` when they were
//! computed under a profile's rules (`Cancun+eip7530-b`), a name no client takes for a
//! mainnet fork, so none of them replays such a file as a mainnet test and reports a failure
//! it does not have. The profile's rules travel with the file (`_info.evmdiff.profile_toml`).

use crate::fork::{Fork, UnknownFork};
use crate::profile::Profile;

/// The label of expectations computed under `profile`.
pub fn label(profile: &Profile) -> String {
    if profile.is_mainnet() {
        profile.base_fork.name().to_string()
    } else {
        format!("{}+{}", profile.base_fork.name(), profile.name)
    }
}

/// A label's fork, and its profile's name when it has one.
pub fn parse(label: &str) -> Result<(Fork, Option<&str>), UnknownFork> {
    let (fork, profile) = match label.split_once('+') {
        Some((f, p)) if !p.is_empty() => (f, Some(p)),
        _ => (label, None),
    };
    Ok((fork.parse()?, profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_is_the_fork_and_a_profile_is_named() {
        assert_eq!(label(&Profile::mainnet(Fork::Cancun)), "Cancun");
        let b = Profile::load("eip7530-b").unwrap();
        let l = label(&b);
        assert_eq!(l, format!("{}+eip7530-b", b.base_fork.name()));
        assert_eq!(parse(&l).unwrap(), (b.base_fork, Some("eip7530-b")));
        assert_eq!(parse("Shanghai").unwrap(), (Fork::Shanghai, None));
        assert!(parse("Cancum+scroll").is_err());
    }
}
