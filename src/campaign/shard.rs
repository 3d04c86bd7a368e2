//! A campaign's share of the case indices (`--shard K/N`): cases K, K + N, K + 2N, …
//!
//! Case `i` is generated from `(seed, i)` alone, so N processes (or machines) given shards
//! 0/N .. N-1/N of one seed run disjoint cases whose union is the whole campaign's, and each
//! finding replays anywhere from the seed and index it records. The campaign counts in
//! positions within its shard (position `j` is case `K + N·j`): `--runs`, the checkpoint and
//! the progress line are the shard's own.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which share, from 0.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl Shard {
    /// Every case: the campaign of one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// True for [`Shard::WHOLE`].
    pub fn is_whole(&self) -> bool {
        *self == Shard::WHOLE
    }

    /// The case index at `position` in this shard.
    pub fn case(&self, position: u64) -> u64 {
        self.index + self.count * position
    }

    /// The position of case `index`, which must belong to this shard.
    pub fn position(&self, index: u64) -> u64 {
        debug_assert_eq!(index % self.count, self.index);
        index / self.count
    }

    /// How many of `runs` cases fall to this shard when they are dealt out in turn.
    pub fn share_of(&self, runs: u64) -> u64 {
        runs / self.count + u64::from(self.index < runs % self.count)
    }

    /// Where this shard keeps its file `name` (`campaign.json`, `stats.json`, …) beside the
    /// findings in `out`: `out/name` for the whole campaign, else `out/shards/K-of-N.name`
    /// (out of the way of the folder's findings, which all shards share).
    pub fn file(&self, out: &Path, name: &str) -> PathBuf {
        if self.is_whole() {
            out.join(name)
        } else {
            out.join("shards")
                .join(format!("{}-of-{}.{name}", self.index, self.count))
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: K/N with 0 <= K < N (0/4, 3/4)");
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cases_and_the_runs() {
        let shards: Vec<Shard> = (0..3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        let mut seen: Vec<u64> = shards
            .iter()
            .flat_map(|s| (0..s.share_of(10)).map(|j| s.case(j)))
            .collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(shards[2].position(8), 2);
        let out = Path::new("f");
        assert_eq!(
            shards[1].file(out, "campaign.json"),
            Path::new("f/shards/1-of-3.campaign.json")
        );
        assert_eq!(
            Shard::WHOLE.file(out, "campaign.json"),
            Path::new("f/campaign.json")
        );
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
