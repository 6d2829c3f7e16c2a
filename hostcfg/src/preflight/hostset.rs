//! A set of hosts of one [`super::view::ClusterView`], as a bitset: rule intersections and
//! matchings stay cheap however many rules there are.

use super::view::HostId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSet {
    words: Vec<u64>,
    len: usize,
}

impl HostSet {
    /// The empty set over `len` hosts.
    pub fn new(len: usize) -> HostSet {
        HostSet {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Every host.
    pub fn all(len: usize) -> HostSet {
        let mut s = HostSet::new(len);
        for id in 0..len {
            s.insert(id);
        }
        s
    }

    pub fn insert(&mut self, id: HostId) {
        if let Some(w) = self.words.get_mut(id / 64) {
            *w |= 1 << (id % 64);
        }
    }

    pub fn remove(&mut self, id: HostId) {
        if let Some(w) = self.words.get_mut(id / 64) {
            *w &= !(1 << (id % 64));
        }
    }

    pub fn contains(&self, id: HostId) -> bool {
        self.words
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    pub fn intersect(&mut self, other: &HostSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    pub fn subtract(&mut self, other: &HostSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = HostId> + '_ {
        (0..self.len).filter(|&id| self.contains(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let mut a = HostSet::all(70);
        assert_eq!(a.count(), 70);
        let mut b = HostSet::new(70);
        b.insert(3);
        b.insert(65);
        a.subtract(&b);
        assert!(!a.contains(65) && a.contains(64));
        b.intersect(&HostSet::all(70));
        assert_eq!(b.iter().collect::<Vec<_>>(), [3, 65]);
        b.remove(3);
        b.remove(65);
        assert!(b.is_empty());
        b.insert(1000);
        assert!(b.is_empty());
    }
}
