//! Seeded fault injection: deterministic for a given seed and request sequence.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// HTTP 500, empty JSON body, nothing changed.
    Before,
    /// The change is applied, then the answer is lost (HTTP 502, HTML).
    After,
}

#[derive(Debug)]
pub(crate) struct FaultInjector {
    rate: f64,
    rng: ChaCha8Rng,
}

impl FaultInjector {
    pub(crate) fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate: rate.clamp(0.0, 1.0),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub(crate) fn set_rate(&mut self, rate: f64) {
        self.rate = rate.clamp(0.0, 1.0);
    }

    /// Draws the fate of the next request; half of the faults on writes are lost responses.
    pub(crate) fn decide(&mut self, is_write: bool) -> Fault {
        let faulted = self.rng.gen::<f64>() < self.rate;
        let lost_response = self.rng.gen::<bool>();
        match (faulted, is_write && lost_response) {
            (false, _) => Fault::None,
            (true, true) => Fault::After,
            (true, false) => Fault::Before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(seed: u64) -> Vec<Fault> {
        let mut injector = FaultInjector::new(0.5, seed);
        (0..64).map(|i| injector.decide(i % 2 == 0)).collect()
    }

    #[test]
    fn same_seed_same_faults_and_both_kinds_occur() {
        let faults = sequence(7);
        assert_eq!(faults, sequence(7));
        assert!(faults.contains(&Fault::Before));
        assert!(faults.contains(&Fault::After));
        assert!(faults.contains(&Fault::None));
    }

    #[test]
    fn reads_are_never_lost_responses() {
        let mut injector = FaultInjector::new(1.0, 1);
        assert!((0..32).all(|_| injector.decide(false) == Fault::Before));
    }
}
