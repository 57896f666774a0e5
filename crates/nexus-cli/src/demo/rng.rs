//! A small seeded pseudo-random generator (SplitMix64), so that every demo's history is the
//! same: the same baskets, tenders and ids on the same days of the week.

pub struct Rng(u64);

impl Rng {
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound`; `bound` must be positive.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound.max(1))) >> 64) as u64
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low).unwrap_or(0) + 1;
        low + i64::try_from(self.below(span)).unwrap_or(0)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// An index of `weights`, each as likely as its weight (the last when all are zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut point = self.unit() * total;
        for (index, weight) in weights.iter().enumerate() {
            if point < *weight {
                return index;
            }
            point -= weight;
        }
        weights.len().saturating_sub(1)
    }

    /// `count` decimal digits.
    pub fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    /// A UUIDv7 whose time part is `at` (Unix milliseconds), as the service's own ids are.
    pub fn uuid_v7(&mut self, at: i64) -> uuid::Uuid {
        let mut random = [0_u8; 10];
        random[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        random[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(u64::try_from(at).unwrap_or(0), &random)
            .into_uuid()
    }

    /// Rounds `expected` up or down at random so that it comes out right on average.
    pub fn round(&mut self, expected: f64) -> usize {
        let whole = expected.max(0.0).floor();
        let extra = usize::from(self.chance(expected - whole));
        whole as usize + extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_draws_within_their_bounds() {
        let (mut one, mut two) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(one.next_u64(), two.next_u64());
            let drawn = one.between(3, 9);
            assert!((3..=9).contains(&drawn));
            two.between(3, 9);
            let unit = one.unit();
            assert!((0.0..1.0).contains(&unit));
            two.unit();
        }
        assert_eq!(Rng::new(1).digits(12).len(), 12);
        let id = Rng::new(1).uuid_v7(1_700_000_000_000);
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(id, Rng::new(1).uuid_v7(1_700_000_000_000));
        let mut rng = Rng::new(3);
        let picks: Vec<usize> = (0..1000).map(|_| rng.weighted(&[0.0, 1.0, 3.0])).collect();
        assert!(!picks.contains(&0));
        let threes = picks.iter().filter(|pick| **pick == 2).count();
        assert!((650..850).contains(&threes), "{threes}");
        let total: usize = (0..1000).map(|_| rng.round(2.25)).sum();
        assert!((2100..2400).contains(&total), "{total}");
    }
}
