//! The slot arithmetic of a fixed-capacity ring buffer, shared by the tabular learners' model
//! buffer ([`crate::learn`]) and the continuous learners' replay buffers
//! (`continuous::buffer`): each keeps its own storage (a `Vec` of samples, or flat `f32` rows),
//! and asks a [`Ring`] where the next item goes.

/// Where [`Ring::push`] puts an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Not full yet: append after the last item (its index is the old length).
    Append,
    /// Full: overwrite the item at this index, the oldest.
    Overwrite(usize),
}

/// A ring of `capacity` slots: items are appended until it is full, then each new item
/// overwrites the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ring {
    capacity: usize,
    len: usize,
    /// The oldest item once full: the next to overwrite.
    cursor: usize,
}

impl Ring {
    /// An empty ring of `capacity` slots (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Ring { capacity: capacity.max(1), len: 0, cursor: 0 }
    }

    /// Items held: `min(pushed, capacity)`.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No item held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most items held at once.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The slot of the next item (and count it).
    pub fn push(&mut self) -> Slot {
        if self.len < self.capacity {
            self.len += 1;
            Slot::Append
        } else {
            let i = self.cursor;
            self.cursor = (self.cursor + 1) % self.capacity;
            Slot::Overwrite(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_until_full_then_overwrites_the_oldest_in_order() {
        let mut ring = Ring::new(3);
        let slots: Vec<Slot> = (0..8).map(|_| ring.push()).collect();
        use Slot::{Append, Overwrite};
        assert_eq!(
            slots,
            [Append, Append, Append, Overwrite(0), Overwrite(1), Overwrite(2), Overwrite(0), Overwrite(1)]
        );
        assert_eq!((ring.len(), ring.capacity()), (3, 3));
        assert_eq!(Ring::new(0).capacity(), 1);
    }
}
