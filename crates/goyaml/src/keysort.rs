//! The order go-yaml v2 (`sorter.go`, `keyList.Less`) gives to string map keys: a "natural"
//! order where runs of digits compare by value and letters sort after other characters.

use std::cmp::Ordering;

use super::unicode_tables::{DIGIT, LETTER, SPACE};

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                Ordering::Less
            } else if lo > c {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

/// Go's `unicode.IsLetter`.
pub(super) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_table(LETTER, c)
}

/// Go's `unicode.IsDigit`.
pub(super) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_table(DIGIT, c)
}

/// Go's `unicode.IsSpace`.
pub(super) fn is_space(c: char) -> bool {
    in_table(SPACE, c)
}

fn digit_value(c: char) -> i64 {
    // Go computes `int64(r - '0')`, also for non-ASCII digits.
    i64::from(c as u32) - i64::from(b'0')
}

/// `keyList.Less` for two string keys.
pub(super) fn less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let n = ar.len().min(br.len());
    for i in 0..n {
        let (Some(&ac), Some(&bc)) = (ar.get(i), br.get(i)) else {
            break;
        };
        if ac == bc {
            continue;
        }
        let al = is_letter(ac);
        let bl = is_letter(bc);
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ac == '0' || bc == '0' {
            let mut j = i;
            while j > 0 {
                j -= 1;
                match ar.get(j) {
                    Some(&c) if is_digit(c) => {
                        if c != '0' {
                            an = 1;
                            bn = 1;
                            break;
                        }
                    }
                    _ => break,
                }
            }
        }
        let mut ai = i;
        while let Some(&c) = ar.get(ai).filter(|c| is_digit(**c)) {
            an = an.wrapping_mul(10).wrapping_add(digit_value(c));
            ai += 1;
        }
        let mut bi = i;
        while let Some(&c) = br.get(bi).filter(|c| is_digit(**c)) {
            bn = bn.wrapping_mul(10).wrapping_add(digit_value(c));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ac < bc;
    }
    ar.len() < br.len()
}

/// Sorts with `less` by a merge sort that cannot panic whatever `less` answers (Go sorts the
/// keys of a map, whose iteration order is random, so only a consistent `less` gives a
/// reproducible order there; for those the result is the same as Go's).
pub(super) fn sort_keys<T>(items: &mut Vec<(String, T)>) {
    let n = items.len();
    if n < 2 {
        return;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    let mut buf: Vec<usize> = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut k) = (start, mid, start);
            while i < mid || j < end {
                let take_right = if i >= mid {
                    true
                } else if j >= end {
                    false
                } else {
                    match (idx.get(j), idx.get(i)) {
                        (Some(&rj), Some(&li)) => match (items.get(rj), items.get(li)) {
                            (Some(r), Some(l)) => less(&r.0, &l.0),
                            _ => false,
                        },
                        _ => false,
                    }
                };
                let src = if take_right {
                    j += 1;
                    j - 1
                } else {
                    i += 1;
                    i - 1
                };
                if let (Some(slot), Some(&v)) = (buf.get_mut(k), idx.get(src)) {
                    *slot = v;
                }
                k += 1;
            }
            start = end;
        }
        std::mem::swap(&mut idx, &mut buf);
        width *= 2;
    }
    let mut taken: Vec<Option<(String, T)>> = std::mem::take(items).into_iter().map(Some).collect();
    for i in idx {
        if let Some(item) = taken.get_mut(i).and_then(Option::take) {
            items.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(less("a9", "a10"));
        assert!(less("a1", "a01"));
        assert!(less("-", "0"));
        assert!(less("1", "a"));
        assert!(less("B", "a"));
        assert!(!less("a", "a"));
        let mut v: Vec<(String, ())> = ["b", "a10", "a9", "_", "Z", "1"]
            .iter()
            .map(|s| (s.to_string(), ()))
            .collect();
        sort_keys(&mut v);
        let got: Vec<&str> = v.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(got, ["_", "1", "Z", "a9", "a10", "b"]);
    }
}
