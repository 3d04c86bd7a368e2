//! The built-in profiles, embedded at build time from `profiles/*.toml`.

use super::Profile;

/// (name, TOML text) of every built-in profile. A test checks that this list and the
/// `profiles/` folder agree, so a new file cannot be forgotten here.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "mainnet-shanghai",
        include_str!("../../../profiles/mainnet-shanghai.toml"),
    ),
    (
        "mainnet-cancun",
        include_str!("../../../profiles/mainnet-cancun.toml"),
    ),
    (
        "mainnet-prague",
        include_str!("../../../profiles/mainnet-prague.toml"),
    ),
    (
        "mainnet-osaka",
        include_str!("../../../profiles/mainnet-osaka.toml"),
    ),
    (
        "eip7530-a",
        include_str!("../../../profiles/eip7530-a.toml"),
    ),
    (
        "eip7530-b",
        include_str!("../../../profiles/eip7530-b.toml"),
    ),
    ("scroll", include_str!("../../../profiles/scroll.toml")),
    ("linea", include_str!("../../../profiles/linea.toml")),
    (
        "polygon-zkevm",
        include_str!("../../../profiles/polygon-zkevm.toml"),
    ),
    ("taiko", include_str!("../../../profiles/taiko.toml")),
];

/// The built-in profile `name`, if there is one.
pub fn builtin(name: &str) -> Option<Profile> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, text)| {
        Profile::from_toml(text, &format!("profiles/{n}.toml"))
            .unwrap_or_else(|e| panic!("built-in profile is checked by tests: {e}"))
    })
}

/// The names of the built-in profiles, in listing order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_is_named_after_its_file() {
        for (name, text) in BUILTIN {
            let p = Profile::from_toml(text, name).unwrap();
            assert_eq!(&p.name, name);
        }
    }

    #[test]
    fn the_list_matches_the_profiles_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../profiles");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .into_string()
                    .ok()?
                    .strip_suffix(".toml")
                    .map(String::from)
            })
            .collect();
        files.sort();
        let mut names: Vec<String> = builtin_names().into_iter().map(String::from).collect();
        names.sort();
        assert_eq!(files, names);
    }
}
