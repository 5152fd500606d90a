//! The stacking order of a board's items, as pure functions over the items' ids listed from
//! the bottom (`zIndex` 0) to the top. A board's `zIndex`es are always its items' places in
//! that list, `0..n-1`: persistence reads the list under the board's lock (ordered by the
//! stored `zIndex`, then creation, then id), applies one of these, and writes back
//! [`changes`].

/// A one-step or to-the-end move in the stack (`PATCH /board-items/:id/z-index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZDirection {
    /// Swap with the nearest item above.
    Up,
    /// Swap with the nearest item below.
    Down,
    /// Go above every other item.
    Top,
    /// Go below every other item.
    Bottom,
}

impl ZDirection {
    /// The direction named `raw` (`up`, `down`, `top`, `bottom`), if any.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "up" => Some(Self::Up),
            "down" => Some(Self::Down),
            "top" => Some(Self::Top),
            "bottom" => Some(Self::Bottom),
            _ => None,
        }
    }
}

/// `order` with `item` moved one step or to an end; `order` unchanged when there is nothing
/// to swap with (the top item moved up, the bottom one down); `None` when `item` is not in it.
pub fn step<T: PartialEq + Clone>(order: &[T], item: &T, direction: ZDirection) -> Option<Vec<T>> {
    let at = order.iter().position(|i| i == item)?;
    let last = order.len() - 1;
    let place = match direction {
        ZDirection::Up => (at + 1).min(last),
        ZDirection::Down => at.saturating_sub(1),
        ZDirection::Top => last,
        ZDirection::Bottom => 0,
    };
    Some(moved(order, at, place))
}

/// `order` with `item` moved to `place` (clamped to the top), the others keeping their
/// relative order; `None` when `item` is not in it.
pub fn move_to<T: PartialEq + Clone>(order: &[T], item: &T, place: u32) -> Option<Vec<T>> {
    let at = order.iter().position(|i| i == item)?;
    let place = usize::try_from(place)
        .unwrap_or(usize::MAX)
        .min(order.len() - 1);
    Some(moved(order, at, place))
}

fn moved<T: Clone>(order: &[T], from: usize, to: usize) -> Vec<T> {
    let mut next = order.to_vec();
    let item = next.remove(from);
    next.insert(to, item);
    next
}

/// The `(item, zIndex)` writes that make the stored places `stored` (each item with its stored
/// `zIndex`) match `order`: every item whose place in `order` differs from its stored one.
pub fn changes<T: PartialEq + Clone>(stored: &[(T, i64)], order: &[T]) -> Vec<(T, u32)> {
    order
        .iter()
        .enumerate()
        .filter_map(|(place, item)| {
            let place = u32::try_from(place).ok()?;
            let unchanged = stored
                .iter()
                .any(|(i, z)| i == item && *z == i64::from(place));
            (!unchanged).then(|| (item.clone(), place))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn steps_swap_with_the_nearest_neighbour_or_go_to_an_end() {
        let cases = [
            ("abcd", 'b', ZDirection::Up, "acbd"),
            ("abcd", 'c', ZDirection::Down, "acbd"),
            ("abcd", 'd', ZDirection::Down, "abdc"),
            ("abcd", 'd', ZDirection::Up, "abcd"),
            ("abcd", 'a', ZDirection::Down, "abcd"),
            ("abcd", 'a', ZDirection::Top, "bcda"),
            ("abcd", 'c', ZDirection::Bottom, "cabd"),
            ("abcd", 'd', ZDirection::Top, "abcd"),
            ("a", 'a', ZDirection::Up, "a"),
            ("a", 'a', ZDirection::Bottom, "a"),
        ];
        for (before, item, direction, after) in cases {
            assert_eq!(
                step(&order(before), &item, direction).unwrap(),
                order(after),
                "{before} {item} {direction:?}"
            );
        }
        assert_eq!(step(&order("abc"), &'x', ZDirection::Up), None);
    }

    #[test]
    fn a_move_to_a_place_is_clamped_and_shifts_the_others() {
        let cases = [
            ("abcd", 'a', 2, "bcad"),
            ("abcd", 'd', 0, "dabc"),
            ("abcd", 'b', 1, "abcd"),
            ("abcd", 'b', 99, "acdb"),
            ("abcd", 'c', u32::MAX, "abdc"),
        ];
        for (before, item, place, after) in cases {
            assert_eq!(
                move_to(&order(before), &item, place).unwrap(),
                order(after),
                "{before} {item} {place}"
            );
        }
        assert_eq!(move_to(&order(""), &'a', 0), None);
    }

    #[test]
    fn changes_are_the_places_that_differ_and_heal_gaps() {
        let stored = [('a', 0), ('b', 1), ('c', 2)];
        assert_eq!(changes(&stored, &order("abc")), vec![]);
        assert_eq!(changes(&stored, &order("acb")), vec![('c', 1), ('b', 2)]);
        let gappy = [('a', 0), ('b', 4), ('c', 4), ('d', 9)];
        assert_eq!(
            changes(&gappy, &order("abcd")),
            vec![('b', 1), ('c', 2), ('d', 3)]
        );
    }

    #[test]
    fn directions_parse_from_their_names_only() {
        assert_eq!(ZDirection::parse("up"), Some(ZDirection::Up));
        assert_eq!(ZDirection::parse("bottom"), Some(ZDirection::Bottom));
        assert_eq!(ZDirection::parse("UP"), None);
        assert_eq!(ZDirection::parse("left"), None);
    }
}
