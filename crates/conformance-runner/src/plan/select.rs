//! Choosing scenarios: `--filter` (by code, category, tag, id or basis) and `--shard K/N`.

use std::fmt;
use std::str::FromStr;

use catalog::{Category, Code};

use crate::model::scenario::Scenario;
use crate::model::scenario::head::Head;

/// One `--filter` value. Several filters select the union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// `code=NAME`: scenarios proving this code.
    Code(Code),
    /// `category=SLUG`: scenarios of this category.
    Category(Category),
    /// `tag=NAME`: scenarios with this tag.
    Tag(String),
    /// `id=PREFIX`: scenarios whose id starts with this.
    Id(String),
    /// `basis=standard` (scenarios proving an RFC rule) or `basis=platform`.
    Standard(bool),
    /// A bare word: a code name, a category slug, a tag or an id prefix.
    Any(String),
}

impl FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Filter, String> {
        let Some((key, value)) = s.split_once('=') else {
            if s.is_empty() {
                return Err("an empty filter selects nothing".into());
            }
            return Ok(Filter::Any(s.to_owned()));
        };
        match key {
            "code" => Code::from_name(value)
                .map(Filter::Code)
                .map_err(|_| crate::model::diagnostics::unknown_code(value)),
            "category" => Category::from_slug(value)
                .map(Filter::Category)
                .ok_or_else(|| {
                    let slugs: Vec<&str> = Category::ALL.iter().map(|c| c.slug()).collect();
                    format!("`{value}` is not a category ({})", slugs.join(", "))
                }),
            "tag" => Ok(Filter::Tag(value.to_owned())),
            "id" => Ok(Filter::Id(value.to_owned())),
            "basis" => match value {
                "standard" => Ok(Filter::Standard(true)),
                "platform" => Ok(Filter::Standard(false)),
                _ => Err(format!(
                    "`basis={value}`: write basis=standard or basis=platform"
                )),
            },
            _ => Err(format!(
                "`{key}=` is not a filter (code=NAME, category=SLUG, tag=NAME, id=PREFIX, basis=standard|platform, or a bare word)"
            )),
        }
    }
}

impl Filter {
    /// Whether the filter selects `scenario`.
    pub fn matches(&self, scenario: &Scenario) -> bool {
        self.selects(&scenario.head())
    }

    /// Whether the filter selects a scenario with this head (parsed or not).
    pub(crate) fn selects(&self, head: &Head<'_>) -> bool {
        match self {
            Filter::Code(c) => head.code == *c,
            Filter::Category(c) => head.code.category() == *c,
            Filter::Tag(t) => head.tags.contains(t),
            Filter::Id(prefix) => head.id.starts_with(prefix.as_str()),
            Filter::Standard(standard) => head.standard == *standard,
            Filter::Any(word) => {
                head.code.name() == word
                    || head.code.category().slug() == word
                    || head.tags.contains(word)
                    || head.id.starts_with(word.as_str())
            }
        }
    }
}

/// `--shard K/N`: the K-th of N slices (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, 1..=count.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write K/N with 1 <= K <= N, like 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The scenarios `filters` (any of them; all when empty) and `shard` select,
/// in id order. Shards deal scenarios round-robin by id, so every shard gets
/// a similar share and together they run each scenario exactly once.
pub(crate) fn select(
    mut scenarios: Vec<Scenario>,
    filters: &[Filter],
    shard: Option<Shard>,
) -> Vec<Scenario> {
    scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    scenarios
        .into_iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| f.matches(s)))
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|sh| i % sh.count == sh.index - 1))
        .map(|(_, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_rejects_typos() {
        assert_eq!(
            "code=RateLimited".parse(),
            Ok(Filter::Code(Code::RateLimited))
        );
        assert_eq!(
            "category=scim".parse(),
            Ok(Filter::Category(Category::Scim))
        );
        assert_eq!("tag=ipv6".parse(), Ok(Filter::Tag("ipv6".into())));
        assert_eq!("webhooks".parse(), Ok(Filter::Any("webhooks".into())));
        assert_eq!(
            "code=RATE_LIMITED".parse::<Filter>(),
            Err("`RATE_LIMITED` is not a documented error code; did you mean `RateLimited`? (every code: https://docs.platform.example/docs/errors)".into())
        );
        assert!("colour=red".parse::<Filter>().is_err());
    }

    #[test]
    fn parses_shards() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x", "1/"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
