//! Finding products by what a cashier types: every word of the query matches the start of some
//! word of the name, SKU or barcode, whatever the case and accents ("rice" finds "Royal Aroma
//! Rice 1kg", "creme" finds "Crème"). Best matches first: names that start with the query, then
//! the others, each in name order.
//!
//! The words live in memory, sorted, so that a query is a binary search and a filter of the
//! candidates, well under a millisecond over 100,000 products; SQLite's indexes answer only a
//! prefix of the whole name. The index is rebuilt when the catalogue's version (a counter that
//! every write of the till's product rows bumps, in its own transaction) has moved, so that a
//! sync by another process on the same station is seen too.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::catalogue::{PRODUCT_COLUMNS, TillProduct, product_from_row};
use crate::{Station, StationResult};

/// Where the catalogue's version is kept in `meta`.
pub(crate) const CATALOGUE_VERSION_KEY: &str = "catalogue_version";

/// Text as search compares it: lower case, accents taken off, and every run of characters
/// that are neither letters nor digits made one space.
pub(crate) fn fold(text: &str) -> String {
    // Most names are ASCII, with no accent to take off: decomposing them would be wasted work.
    if text.is_ascii() {
        fold_characters(text.chars(), text.len())
    } else {
        let bare = text
            .nfd()
            .filter(|character| !is_combining_mark(*character));
        fold_characters(bare, text.len())
    }
}

fn fold_characters(characters: impl Iterator<Item = char>, length: usize) -> String {
    let mut folded = String::with_capacity(length);
    let mut gap = false;
    for character in characters {
        if character.is_alphanumeric() {
            if gap && !folded.is_empty() {
                folded.push(' ');
            }
            gap = false;
            folded.extend(character.to_lowercase());
        } else {
            gap = true;
        }
    }
    folded
}

/// One product as search knows it.
struct Entry {
    product: TillProduct,
    /// The folded name, to rank by.
    name: String,
    /// Every folded word of the name, SKU and barcode, and the whole SKU and barcode.
    words: Vec<String>,
}

impl Entry {
    fn matches(&self, tokens: &[String]) -> bool {
        tokens.iter().all(|token| {
            self.words
                .iter()
                .any(|word| word.starts_with(token.as_str()))
        })
    }
}

/// The catalogue's words, sorted, each with the products it comes from.
pub(crate) struct SearchIndex {
    version: i64,
    /// By folded name, so that an entry's position is its place in name order.
    entries: Vec<Entry>,
    /// Every distinct word, sorted, with its products' positions in `postings`.
    vocabulary: Vec<(String, Range<usize>)>,
    /// Per word, the entries that have it, in name order.
    postings: Vec<u32>,
}

impl SearchIndex {
    fn build(version: i64, products: Vec<TillProduct>) -> Self {
        let mut entries: Vec<Entry> = products
            .into_iter()
            .map(|product| {
                let name = fold(&product.name);
                let mut words: Vec<String> = name.split(' ').map(str::to_owned).collect();
                for code in std::iter::once(&product.sku).chain(product.barcode.as_ref()) {
                    let folded = fold(code);
                    words.extend(folded.split(' ').map(str::to_owned));
                    words.push(folded.replace(' ', ""));
                }
                words.retain(|word| !word.is_empty());
                words.sort();
                words.dedup();
                Entry {
                    product,
                    name,
                    words,
                }
            })
            .collect();
        entries.sort_unstable_by(|left, right| left.name.cmp(&right.name));
        // Entries are visited in name order, so each word's postings come out in name order.
        let mut by_word: HashMap<&str, Vec<u32>> = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for word in &entry.words {
                by_word.entry(word.as_str()).or_default().push(index);
            }
        }
        let mut words: Vec<(&str, Vec<u32>)> = by_word.into_iter().collect();
        words.sort_unstable_by(|left, right| left.0.cmp(right.0));
        let mut vocabulary = Vec::with_capacity(words.len());
        let mut postings = Vec::with_capacity(entries.len() * 5);
        for (word, indices) in words {
            let start = postings.len();
            postings.extend(indices);
            vocabulary.push((word.to_owned(), start..postings.len()));
        }
        Self {
            version,
            entries,
            vocabulary,
            postings,
        }
    }

    /// The entries with a word starting with `token`, in name order, each once: the postings of
    /// every such word merged.
    fn starting_with<'a>(&'a self, token: &str) -> impl Iterator<Item = u32> + 'a {
        let first = self
            .vocabulary
            .partition_point(|(word, _)| word.as_str() < token);
        let runs: Vec<&[u32]> = self.vocabulary[first..]
            .iter()
            .take_while(|(word, _)| word.starts_with(token))
            .map(|(_, range)| &self.postings[range.clone()])
            .collect();
        let mut heads: BinaryHeap<Reverse<(u32, usize, usize)>> = runs
            .iter()
            .enumerate()
            .filter_map(|(run, postings)| postings.first().map(|&index| Reverse((index, run, 0))))
            .collect();
        let mut last = None;
        std::iter::from_fn(move || {
            while let Some(Reverse((index, run, at))) = heads.pop() {
                if let Some(&next) = runs[run].get(at + 1) {
                    heads.push(Reverse((next, run, at + 1)));
                }
                if last != Some(index) {
                    last = Some(index);
                    return Some(index);
                }
            }
            None
        })
    }

    /// Up to `limit` products matching `query`: those whose name starts with it, then the
    /// others, each in name order.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Vec<TillProduct> {
        let folded = fold(query);
        let tokens: Vec<String> = folded
            .split(' ')
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .collect();
        // The longest word of the query is likely the rarest: its postings are the fewest.
        let Some(driver) = tokens.iter().max_by_key(|token| token.len()) else {
            return Vec::new();
        };
        let first = self
            .entries
            .partition_point(|entry| entry.name.as_str() < folded.as_str());
        let mut found: Vec<&Entry> = self.entries[first..]
            .iter()
            .take_while(|entry| entry.name.starts_with(folded.as_str()))
            .take(limit)
            .collect();
        if found.len() < limit {
            let rest = self
                .starting_with(driver)
                .map(|index| &self.entries[index as usize])
                .filter(|entry| !entry.name.starts_with(folded.as_str()) && entry.matches(&tokens))
                .take(limit - found.len());
            found.extend(rest.collect::<Vec<_>>());
        }
        found
            .into_iter()
            .map(|entry| entry.product.clone())
            .collect()
    }
}

/// The index a station keeps between searches, and the turn to rebuild it: a search that finds
/// a rebuild under way waits for it rather than making a second one.
#[derive(Default)]
pub(crate) struct SearchCache {
    current: Mutex<Option<Arc<SearchIndex>>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl SearchCache {
    fn current_at(&self, version: i64) -> Option<Arc<SearchIndex>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|index| index.version == version)
    }
}

impl Station {
    async fn catalogue_version(&self) -> StationResult<i64> {
        Ok(self
            .meta(CATALOGUE_VERSION_KEY)
            .await?
            .and_then(|value| value.parse().ok())
            .unwrap_or(0))
    }

    /// The search index of the catalogue as it is now, rebuilt if a write has moved on since.
    pub(crate) async fn search_index(&self) -> StationResult<Arc<SearchIndex>> {
        let version = self.catalogue_version().await?;
        if let Some(index) = self.search.current_at(version) {
            return Ok(index);
        }
        let _turn = self.search.rebuild.lock().await;
        let version = self.catalogue_version().await?;
        if let Some(index) = self.search.current_at(version) {
            return Ok(index);
        }
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let products = rows
            .iter()
            .map(product_from_row)
            .collect::<StationResult<Vec<_>>>()?;
        let index = Arc::new(SearchIndex::build(version, products));
        *self
            .search
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(index.clone());
        Ok(index)
    }

    /// Brings the search index up to date now (the sync worker calls it after a pull), so that
    /// the next cashier's search does not wait for the rebuild.
    pub async fn warm_search(&self) -> StationResult<()> {
        self.search_index().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use nexus_domain::TaxClass;

    use super::*;

    fn product(sku: &str, name: &str, barcode: Option<&str>) -> TillProduct {
        TillProduct {
            id: uuid::Uuid::new_v4(),
            sku: sku.to_owned(),
            barcode: barcode.map(str::to_owned),
            name: name.to_owned(),
            price_minor: 100,
            tax_class: TaxClass::Standard,
            pack: None,
            wholesale_price_minor: None,
        }
    }

    fn names(found: &[TillProduct]) -> Vec<&str> {
        found.iter().map(|product| product.name.as_str()).collect()
    }

    #[test]
    fn folding_drops_case_accents_and_punctuation() {
        assert_eq!(fold("  Crème Fraîche, 200g!"), "creme fraiche 200g");
        assert_eq!(fold("RICE-5KG"), "rice 5kg");
        assert_eq!(fold("--"), "");
    }

    #[test]
    fn every_word_matches_the_start_of_some_word() {
        let index = SearchIndex::build(
            1,
            vec![
                product("RICE-1KG", "Royal Aroma Rice 1kg", Some("6001234567890")),
                product("SUGAR-1KG", "Golden Tree Sugar 1kg", None),
                product("MILK-PEAK", "Peak Milk Tin", None),
                product("RICE-BAG", "Rice Bag 25kg", None),
                product("CREME", "Crème Fraîche", None),
            ],
        );
        assert_eq!(
            names(&index.search("rice", 10)),
            ["Rice Bag 25kg", "Royal Aroma Rice 1kg"],
            "the name that starts with it first"
        );
        assert_eq!(names(&index.search("sugar", 10)), ["Golden Tree Sugar 1kg"]);
        assert_eq!(names(&index.search("MILK", 10)), ["Peak Milk Tin"]);
        assert_eq!(names(&index.search("ri 1k", 10)), ["Royal Aroma Rice 1kg"]);
        assert_eq!(
            names(&index.search("aroma rice", 10)),
            ["Royal Aroma Rice 1kg"]
        );
        assert!(
            index.search("rice sugar", 10).is_empty(),
            "every word must match"
        );
        assert_eq!(names(&index.search("creme", 10)), ["Crème Fraîche"]);
        assert_eq!(names(&index.search("fraiche", 10)), ["Crème Fraîche"]);
        assert_eq!(names(&index.search("600123", 10)), ["Royal Aroma Rice 1kg"]);
        assert_eq!(
            names(&index.search("sugar-1", 10)),
            ["Golden Tree Sugar 1kg"]
        );
        assert_eq!(index.search("rice", 1).len(), 1, "the limit holds");
        assert_eq!(names(&index.search("rice", 1)), ["Rice Bag 25kg"]);
        assert!(index.search("  ", 10).is_empty());
        assert!(index.search("ice", 10).is_empty(), "starts of words only");
    }

    #[test]
    fn a_common_word_stops_at_the_limit_in_name_order() {
        let products: Vec<TillProduct> = (0..500)
            .map(|n| {
                product(
                    &format!("SKU-{n:03}"),
                    &format!("Brand{n:03} Milk 400g"),
                    None,
                )
            })
            .chain([product("MILK-FRESH", "Milk Fresh 1l", None)])
            .collect();
        let index = SearchIndex::build(1, products);
        assert_eq!(
            names(&index.search("milk", 3)),
            ["Milk Fresh 1l", "Brand000 Milk 400g", "Brand001 Milk 400g"]
        );
        assert_eq!(
            index.search("mi 40", 1000).len(),
            500,
            "the fresh milk is no 400g"
        );
    }
}
