//! A bounded log: the newest `capacity` entries, and a count of the ones pushed out.
//!
//! The request and callback logs grow with every request, so an emulator left running under
//! load (or attacked) would otherwise grow without bound.

use std::collections::VecDeque;

use serde::Serialize;

/// Default number of entries each log keeps.
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;

/// The size of one bounded log ([`Emulator::request_log_stats`](crate::Emulator::request_log_stats),
/// `GET /__emulator/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LogStats {
    /// Most entries kept.
    pub capacity: usize,
    /// Entries kept now.
    pub retained: usize,
    /// Entries dropped, oldest first, to stay within `capacity`.
    pub evicted: u64,
}

/// The newest `capacity` entries, oldest first.
#[derive(Debug)]
pub(crate) struct Ring<T> {
    entries: VecDeque<T>,
    capacity: usize,
    evicted: u64,
}

impl<T: Clone> Ring<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            // Grows on demand: a large capacity costs nothing until it is used.
            entries: VecDeque::new(),
            capacity,
            evicted: 0,
        }
    }

    /// Appends `entry`, evicting the oldest when full (a capacity of 0 keeps nothing).
    pub(crate) fn push(&mut self, entry: T) {
        if self.capacity == 0 {
            self.evicted += 1;
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.evicted += 1;
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<T> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn stats(&self) -> LogStats {
        LogStats {
            capacity: self.capacity,
            retained: self.entries.len(),
            evicted: self.evicted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_counts_the_rest() {
        let mut r = Ring::new(3);
        for i in 0..10 {
            r.push(i);
        }
        assert_eq!(r.snapshot(), vec![7, 8, 9]);
        assert_eq!(
            r.stats(),
            LogStats {
                capacity: 3,
                retained: 3,
                evicted: 7
            }
        );
        let mut none = Ring::new(0);
        none.push(1);
        assert_eq!(none.snapshot(), Vec::<i32>::new());
        assert_eq!(none.stats().evicted, 1);
    }
}
