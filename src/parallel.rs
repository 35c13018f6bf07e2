//! Work spread over the available cores (`std::thread::scope`), results in input order: sealing
//! many documents, re-sealing many items. One item, or one core, runs on the calling thread.

fn threads_for(len: usize) -> usize {
    // One item needs no thread, nor the cgroup files `available_parallelism` reads.
    if len <= 1 {
        return len;
    }
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(len)
}

/// `f` over `items`, results in input order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        join_all(handles)
    })
}

/// `f` over owned `items`, results in input order.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut parts: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        join_all(handles)
    })
}

/// The threads' results in order; a panic in one (there is none by construction) is passed on.
fn join_all<R>(handles: Vec<std::thread::ScopedJoinHandle<'_, Vec<R>>>) -> Vec<R> {
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order() {
        let v: Vec<usize> = (0..1001).collect();
        let doubled: Vec<usize> = v.iter().map(|x| x * 2).collect();
        assert_eq!(map(&v, |x| x * 2), doubled);
        assert_eq!(map_owned(v.clone(), |x| x * 2), doubled);
        assert!(map(&[] as &[u8], |x| *x).is_empty());
        assert!(map_owned(Vec::<u8>::new(), |x| x).is_empty());
        assert_eq!(map_owned(vec![7], |x| x + 1), [8]);
    }
}
